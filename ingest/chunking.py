"""Pure functions: clean policy text -> Clause records that keep their section and offsets."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator

from ingest.errors import InputError
from ingest.records import Clause, PolicyVersion, content_hash, make_clause_id, normalise_for_hash

_BLOCK = re.compile(r"[^\n]+(?:\n[^\n]+)*")
_HEADING = re.compile(r"^(#{1,6}) (.+)$")
NUMBERED = re.compile(r"^\(?\d{1,2}(?:\.\d{1,2})*[.)]?\s")  # a heading's number: "4.1 ", "(3) "
_SENTENCE_END = re.compile(r"(?<=[.!?;])[\"”’)]?\s+(?=[A-Z“\"(\d])")
MIN_WORDS = 4


class DuplicatePolicyError(InputError):
    """The text holds more than one policy (a page that showed the upcoming and the current one)."""


def _blocks(text: str) -> Iterator[tuple[int, str]]:
    for m in _BLOCK.finditer(text):
        yield m.start(), m.group(0)


def section_of(path: tuple[str, ...]) -> str:
    """The citable section: the deepest numbered heading, plus a deeper unnumbered one if any."""
    numbered = [i for i, h in enumerate(path) if NUMBERED.match(h)]
    if not numbered:
        return path[-1] if path else ""
    i = numbered[-1]
    return path[i] if i == len(path) - 1 else f"{path[i]} › {path[-1]}"


def sentence_groups(text: str, limit: int) -> list[tuple[int, int]]:
    """Offsets of consecutive sentence groups of `text`, each at most `limit` chars where possible."""
    cuts = [0] + [m.end() for m in _SENTENCE_END.finditer(text)] + [len(text)]
    spans, start = [], 0
    for a, b in itertools.pairwise(cuts):
        if b - start > limit and len(text[start:a].split()) >= MIN_WORDS:  # no heading-only scraps
            spans.append((start, a))
            start = a
    if spans and len(text[start:].split()) < MIN_WORDS:
        start = spans.pop()[0]
    spans.append((start, len(text)))
    return [(a, a + len(text[a:b].rstrip())) for a, b in spans if text[a:b].strip()]


def find_second_policy(text: str) -> str:
    """If a run of headings repeats (the page holds two policies), describe where; else ''."""
    heads = [(s, normalise_for_hash(b.split(" ", 1)[1])) for s, b in _blocks(text) if _HEADING.match(b)]
    seen: dict[str, int] = {}
    for i, (_, h) in enumerate(heads):
        j = seen.get(h, -1)
        if 0 <= j < 5 and len(h) > 12:  # the document's opening headings come round again
            # near the end the second window is shorter: the pairs it has are compared
            run = sum(1 for a, b in zip(heads[j : j + 6], heads[i : i + 6], strict=False) if a[1] == b[1])
            if run >= 3:
                line = text.count("\n", 0, heads[i][0]) + 1
                return f"heading {h!r} starts again at line {line} of the clean text"
        seen.setdefault(h, i)
    if re.search(r"^#{1,6} (current|previous) (privacy )?policy$|effective until ", text, re.I | re.M):
        return "the text says it holds a current and an upcoming policy ('effective until …')"
    return ""


def chunk(version: PolicyVersion, max_chars: int = 1200) -> list[Clause]:
    """Split a version's clean text into clauses: bullets, rows, paragraphs or sentence groups."""
    where = find_second_policy(version.text)
    if where:
        raise DuplicatePolicyError(
            f"{version.source or version.key}: this capture holds two policies ({where}); split it "
            "into one file per policy, each with its own effective date, and ingest them separately"
        )
    text = version.text
    headings = {_label(b.split(" ", 1)[1]) for _, b in _blocks(text) if _HEADING.match(b)}
    path: list[tuple[int, str]] = []
    clauses: list[Clause] = []
    seen: set[str] = set()
    for start, block in _blocks(text):
        head = _HEADING.match(block)
        if head:
            level = len(head.group(1))
            path = [p for p in path if p[0] < level] + [(level, head.group(2).strip())]
            continue
        kind, skip = {"- ": ("bullet", 2), "| ": ("row", 2)}.get(block[:2], ("paragraph", 0))
        body = block[skip:]
        norm = normalise_for_hash(body)
        if _label(body) in headings or norm in seen or (len(norm.split()) < MIN_WORDS and kind != "row"):
            continue
        seen.add(norm)
        heading_path = tuple(h for _, h in path)
        for a, b in sentence_groups(body, max_chars) if len(body) > max_chars else [(0, len(body))]:
            clauses.append(_make(version, heading_path, len(clauses), body[a:b], start + skip + a, kind))
    return clauses


def _label(text: str) -> str:
    """A heading or block as a label: 'Device information:' repeats the heading 'Device information'."""
    return normalise_for_hash(text).rstrip(" .:;")


def _make(v: PolicyVersion, path: tuple[str, ...], ordinal: int, text: str, start: int, kind: str) -> Clause:
    return Clause(
        clause_id=make_clause_id(v.service, v.document, v.effective_date, ordinal, text),
        service=v.service,
        document=v.document,
        version=v.effective_date,
        section=section_of(path),
        heading_path=path,
        ordinal=ordinal,
        text=text,
        char_start=start,
        char_end=start + len(text),
        content_hash=content_hash(text),
        source=v.source,
        kind=kind,
    )
