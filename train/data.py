"""The labelled training questions (train/questions/*.jsonl): loading and the checks they must pass.

One JSON object a line: service, document, version (the capture date in the file name), question,
answerable, evidence (verbatim quotes from the document; empty when unanswerable) and note (why an
unanswerable question is not addressed: what was searched for).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from train.split import CORPUS, is_held_out

QUESTIONS = Path(__file__).resolve().parent / "questions"
MIN_QUOTE = 15  # characters: a quote shorter than this decides nothing
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u00a0": " "})


@dataclass(frozen=True)
class Example:
    """One labelled question over one training document."""

    service: str
    document: str
    version: str
    question: str
    answerable: bool
    evidence: tuple[str, ...]
    note: str
    where: str  # file:line, for messages

    @property
    def key(self) -> str:
        """`service/document@version`."""
        return f"{self.service}/{self.document}@{self.version}"


def norm(text: str) -> str:
    """Text compared after normalising markup, quotes, case and spacing (as the evaluation does)."""
    import unicodedata

    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    text = re.sub(r"[*_`\\]", "", text)
    return re.sub(r"\s+", " ", text).strip().lower()


def load(path: Path) -> tuple[list[Example], list[str]]:
    """Examples of one file and the problems of its malformed lines."""
    out, problems = [], []
    for n, line in enumerate(Path(path).read_text("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        where = f"{Path(path).name}:{n}"
        try:
            raw = json.loads(line)
            ex = Example(
                str(raw["service"]),
                str(raw["document"]),
                str(raw["version"]),
                str(raw["question"]).strip(),
                bool(raw["answerable"]),
                tuple(str(q) for q in raw.get("evidence") or ()),
                str(raw.get("note") or ""),
                where,
            )
        except (ValueError, KeyError, TypeError) as exc:
            problems.append(f"{where}: not a valid example ({exc})")
            continue
        out.append(ex)
    return out, problems


def load_all(folder: Path = QUESTIONS) -> list[Example]:
    """Every example of every file in the folder (malformed lines are left out)."""
    return [ex for p in sorted(Path(folder).glob("*.jsonl")) for ex in load(p)[0]]


def doc_path(ex: Example, corpus: Path = CORPUS) -> Path:
    """The training-corpus file an example is written over."""
    return corpus / ex.service / ex.document / f"{ex.version}.md"


@lru_cache(maxsize=128)
def clean_text(path: Path) -> str:
    """The document's text after ingest's clean-text step."""
    from ingest.loaders import load_clean

    return load_clean(path)


@lru_cache(maxsize=128)
def _normed(path: Path) -> str:
    return norm(clean_text(path))


def problems(ex: Example, corpus: Path = CORPUS) -> list[str]:
    """What is wrong with one example ([] when it is good)."""
    path = doc_path(ex, corpus)
    if not path.is_file():
        return [f"{ex.where}: no document {ex.key} in {corpus}"]
    if is_held_out(ex.service):
        return [f"{ex.where}: {ex.service} is held out of training"]
    if len(ex.question) < 8:
        return [f"{ex.where}: the question is too short"]
    if ex.answerable and not ex.evidence:
        return [f"{ex.where}: an answerable question needs at least one evidence quote"]
    if not ex.answerable and (ex.evidence or not ex.note):
        return [f"{ex.where}: an unanswerable question has no evidence and needs a note"]
    text = _normed(path)
    out = []
    for quote in ex.evidence:
        if len(quote.strip()) < MIN_QUOTE:
            out.append(f"{ex.where}: quote shorter than {MIN_QUOTE} characters: {quote!r}")
        elif norm(quote).rstrip(".") not in text:
            out.append(f"{ex.where}: quote not verbatim in {ex.key}: {quote[:90]!r}")
    return out


def content_words(text: str, drop: str = "") -> set[str]:
    """Stemmed content words (stop words removed), less those of `drop` (the company's name)."""
    from qa.retrieve import tokenize

    return set(tokenize([text])[0]) - set(tokenize([drop])[0]) if drop else set(tokenize([text])[0])


def shares_no_word(ex: Example) -> bool:
    """True when the question shares no content word with its evidence, the company name aside."""
    name = ex.service.replace("-", " ")
    return not content_words(ex.question, name) & content_words(" ".join(ex.evidence), name)


def names_company(ex: Example) -> bool:
    """True when the question names the company whose document it is about ("does bluesky ..."). Not a
    fault in itself, but when unanswerable questions name it far more often than answerable ones do, a
    model learns the name as a sign of "not addressed" (docs/benchmarks.md, session 21)."""
    name = ex.service.replace("-", " ")
    names = {name, name.removeprefix("the "), name.removesuffix(" com"), name.replace(" com", ".com")}
    return any(re.search(rf"\b{re.escape(n)}\b", ex.question, re.I) for n in names)
