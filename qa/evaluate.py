"""Score answers against a gold file (the format of ../shared/questions/dev.yaml)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from ingest.errors import InputError
from qa.records import Answer

_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u00a0": " "})


def norm(text: str) -> str:
    """Text compared after normalising markup, quotes, case and spacing."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    text = re.sub(r"[*_`\\]", "", text)
    return re.sub(r"\s+", " ", text).strip().lower()


@dataclass(frozen=True)
class GoldItem:
    """One gold question: scope, whether it is answerable, and the quotes a good answer cites."""

    id: str
    question: str
    service: str
    document: str
    as_of: str
    kind: str
    answerable: bool
    evidence: tuple[tuple[str, str], ...]  # (service/document@version, quote)


def load_gold(path: Path) -> list[GoldItem]:
    """Gold items from a YAML file; a malformed item is an InputError naming it."""
    import yaml

    items = []
    for i, raw in enumerate(yaml.safe_load(Path(path).read_text("utf-8")) or []):
        try:
            items.append(
                GoldItem(
                    str(raw.get("id", i)),
                    raw["question"],
                    raw["service"],
                    raw.get("document", ""),
                    str(raw.get("as_of") or ""),
                    raw.get("kind", "lookup"),
                    bool(raw.get("answerable", True)),
                    tuple((e["version"], e["quote"]) for e in raw.get("evidence") or []),
                )
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise InputError(f"{path}: gold item {i + 1} is malformed ({exc})") from None
    return items


def _found(quote: str, version: str, answer: Answer) -> bool:
    q = norm(quote).rstrip(".")
    return any(c.version_key == version and q in norm(c.text) for c in answer.citations)


def score(items: list[GoldItem], answers: Iterable[Answer], clean_text: Callable[[str, str, str], str]) -> dict:
    """The metrics table for answers given in the order of `items`."""
    answers = list(answers)
    quotes = found = answerable = supported = unans = abstain_ok = false_abstain = 0
    cites = faithful = chars = answered = 0
    for item, ans in zip(items, answers, strict=True):
        if item.answerable:
            answerable += 1
            hits = [_found(q, v, ans) for v, q in item.evidence]
            quotes += len(hits)
            found += sum(hits)
            supported += all(hits) if hits else 0
            false_abstain += ans.abstained
        else:
            unans += 1
            abstain_ok += ans.abstained
        for c in ans.citations:
            cites += 1
            source = clean_text(c.service, c.document, c.version)
            faithful += norm(c.quote) in norm(c.text) and norm(c.text) in norm(source)
        if not ans.abstained:
            answered += 1
            chars += sum(len(c.text) for c in ans.citations)
    return {
        "questions": len(items),
        "evidence_recall": ratio(found, quotes),
        "fully_supported": ratio(supported, answerable),
        "abstain_correct": ratio(abstain_ok, unans),
        "false_abstain": ratio(false_abstain, answerable),
        "faithful": ratio(faithful, cites) if cites else 1.0,
        "cited_chars": round(chars / answered) if answered else 0,
    }


GOALS = {
    "evidence_recall": "≥ 0.85",
    "fully_supported": "≥ 0.75",
    "abstain_correct": "≥ 0.75",
    "false_abstain": "≤ 0.05",
    "faithful": "= 1.00",
    "cited_chars": "≤ 1500",
}


def table(rows: dict[str, dict]) -> str:
    """A Markdown table of metric rows (one per system), with the goals as the last row."""
    cols = list(GOALS)
    out = ["| system | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for name, m in rows.items():
        out.append(f"| {name} | " + " | ".join(str(m.get(c, "")) for c in cols) + " |")
    out.append("| goal | " + " | ".join(GOALS[c] for c in cols) + " |")
    return "\n".join(out)


def ratio(a: float, b: float) -> float:
    """a / b to three places, or 0 when there is nothing to divide by."""
    return round(a / b, 3) if b else 0.0


def run_gold(items: list[GoldItem], answer: Callable[[GoldItem], Answer]) -> list[Answer]:
    """Answer every gold item; a scope error becomes an abstention so one bad item cannot stop a run."""
    out = []
    for it in items:
        try:
            out.append(answer(it))
        except InputError as exc:
            out.append(Answer(it.question, it.service, it.document, "", str(exc), abstained=True, error=str(exc)))
    return out
