"""Citation verification: only retrieved clauses, only verbatim quotes, ever reach the user."""

from __future__ import annotations

import re

from qa.records import Citation, Draft, Hit

_MARK = re.compile(r"\[(\d+)\]")
_SENTENCES = re.compile(r"[^.!?\n]+(?:[.!?]+(?:\s*\[\d+\])*|$)")
_QUOTE_CHARS = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})


def find_verbatim(quote: str, text: str) -> str:
    """The exact span of `text` that `quote` matches (ignoring case, curly quotes, spacing), or ''."""
    q = re.sub(r"\s+", " ", quote.translate(_QUOTE_CHARS)).strip().strip(".").strip()
    if len(q) < 3:
        return ""
    pattern = re.escape(q).replace(r"\ ", r"\s+").replace("'", "['\u2018\u2019]").replace('"', '["\u201c\u201d]')
    m = re.search(pattern, text, flags=re.IGNORECASE)
    return text[m.start() : m.end()] if m else ""


def make_citation(n: int, hit: Hit, quote: str) -> Citation:
    """A Citation from a retrieved hit and a quote already checked to be verbatim in it."""
    c = hit.clause
    return Citation(
        n=n,
        clause_id=c.clause_id,
        service=c.service,
        document=c.document,
        version=c.version,
        section=c.section,
        text=c.text,
        quote=quote,
        score=hit.score,
        source=c.source,
        heading_path=c.heading_path,
        char_start=c.char_start,
        char_end=c.char_end,
    )


def verify(draft: Draft, hits: list[Hit]) -> tuple[str, list[Citation], list[str]]:
    """Keep only citations of retrieved clauses whose quotes are verbatim; renumber markers.

    Only sentences that keep at least one verified marker survive: a claim whose citations were all
    dropped is removed with them, so unsupported words never reach the user.
    Returns (text with surviving markers renumbered 1..n, citations, reasons for each drop).
    """
    dropped: list[str] = []
    kept: dict[int, Citation] = {}
    for n, quote in draft.cited:
        if not 1 <= n <= len(hits):
            dropped.append(f"[{n}] cites a clause that was not retrieved")
            continue
        if n in kept:
            continue
        exact = find_verbatim(quote, hits[n - 1].clause.text)
        if not exact:
            dropped.append(f"[{n}] quote is not verbatim in its clause: {quote[:60]!r}")
            continue
        kept[n] = make_citation(len(kept) + 1, hits[n - 1], exact)
    renumber = {old: c.n for old, c in kept.items()}

    def _swap(m: re.Match) -> str:
        old = int(m.group(1))
        return f"[{renumber[old]}]" if old in renumber else ""

    supported = [
        sent for sent in _SENTENCES.findall(draft.text) if any(int(n) in renumber for n in _MARK.findall(sent))
    ]
    if len(supported) < len(_SENTENCES.findall(draft.text)):
        dropped.append("sentences without a verified citation were removed")
    text = " ".join(re.sub(r"\s+([.,;])", r"\1", _MARK.sub(_swap, s)).strip() for s in supported)
    return text, list(kept.values()), dropped
