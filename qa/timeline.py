"""A topic over time: for each version of a document, the one clause that best addresses the topic
(the answer's own first citation, so the relevance is the answers'), or "not addressed"; runs of
unchanged versions collapse into one row, and the versions where the topic appears, changes or
disappears are marked."""

from __future__ import annotations

from dataclasses import dataclass, replace

from qa.answer import ADDRESSED, PARTLY, Answerer
from qa.compare import MATCH_AT, render_diff, similarity, word_diff
from qa.records import Citation

ADDRESSED_FIRST, APPEARS, CHANGED, UNCHANGED, DISAPPEARS, NOT_ADDRESSED = (
    "addressed",
    "appears",
    "changed",
    "unchanged",
    "disappears",
    "not addressed",
)
MARKED = (APPEARS, CHANGED, DISAPPEARS)


@dataclass(frozen=True)
class TimelineRow:
    """One version, or a run of versions whose wording on the topic did not change."""

    first: str
    last: str
    status: str
    section: str = ""
    clause_id: str = ""
    text: str = ""
    diff: tuple[tuple[str, str], ...] = ()
    confidence: float = 0.0

    @property
    def versions(self) -> str:
        """`2023-09-29`, or `2024-11-15 – 2026-01-15` for a run."""
        return self.first if self.first == self.last else f"{self.first} – {self.last}"

    @property
    def marked(self) -> bool:
        """True where the topic appears, changes or disappears."""
        return self.status in MARKED

    def describe(self) -> str:
        """What happened, in words: "added in 2023-09-29 (§2.1 ...)"."""
        where = f" ({_section_mark(self.section)})" if self.section else ""
        return {
            APPEARS: f"added in {self.first}{where}",
            CHANGED: f"changed in {self.first}{where}",
            DISAPPEARS: f"no longer addressed from {self.first} (was{where})",
            UNCHANGED: f"unchanged{where}",
            ADDRESSED_FIRST: f"addressed{where}",
        }.get(self.status, "not addressed")


def _section_mark(section: str) -> str:
    number = section.split(" ", 1)[0]
    return f"§{number.rstrip('.')}" if number[:1].isdigit() else section


def _norm(text: str) -> str:
    return " ".join(text.split())


def _same(a: str, b: str) -> bool:
    return _norm(a) == _norm(b)


def _best(
    answerer: Answerer, topic: str, service: str, document: str, version: str, prev: Citation | None
) -> tuple[Citation | None, float]:
    """The clause that best addresses the topic in one version, as an answer would cite it first.

    Only an answer that addresses the topic counts: "partly" means no clause settles it, so the
    timeline reads "not addressed" there, as the answer's own wording does not commit either. The
    exception is a "partly" answer led by the section that addressed the topic in the version before
    (`prev`): that clause was reworded (often to something vaguer), it did not disappear.
    """
    answer = answerer.ask(topic, service=service, document=document, version=version)
    if not answer.citations:
        return None, answer.confidence
    first = answer.citations[0]
    continues = answer.support == PARTLY and prev is not None and first.section == prev.section
    return (first if answer.support == ADDRESSED or continues else None), answer.confidence


def timeline(answerer: Answerer, service: str, document: str, topic: str) -> list[TimelineRow]:
    """The topic version by version, oldest first, with unchanged runs collapsed."""
    scope = answerer.retriever.resolve(service, document)
    dates = [v.version for v in answerer.retriever.store.versions(scope.service, scope.document)]
    rows: list[TimelineRow] = []
    prev: Citation | None = None
    before: set[str] = set()  # the previous version's clause texts
    for i, date in enumerate(dates):
        best, confidence = _best(answerer, topic, scope.service, scope.document, date, prev)
        row = _row(date, best, prev, before, first=i == 0, confidence=confidence)
        last = rows[-1] if rows else None
        if last and _continues(last, row):
            rows[-1] = replace(last, last=date)
        else:
            rows.append(row)
        prev = best
        before = {_norm(c.text) for c in answerer.retriever.store.clauses(scope.service, scope.document, date)}
    return rows


def _continues(last: TimelineRow, row: TimelineRow) -> bool:
    """True when `row` only extends `last`'s run: still not addressed, or the same wording unchanged
    (a marked version keeps its own row)."""
    if row.status == NOT_ADDRESSED:
        return last.status == NOT_ADDRESSED
    return row.status == UNCHANGED and last.status in (UNCHANGED, ADDRESSED_FIRST) and _same(last.text, row.text)


def _row(
    date: str, best: Citation | None, prev: Citation | None, before: set[str], *, first: bool, confidence: float
) -> TimelineRow:
    if best is None:
        if prev is None:
            return TimelineRow(date, date, NOT_ADDRESSED, confidence=confidence)
        return TimelineRow(date, date, DISAPPEARS, prev.section, prev.clause_id, prev.text, confidence=confidence)
    base = TimelineRow(date, date, UNCHANGED, best.section, best.clause_id, best.text, confidence=confidence)
    if first:
        return replace(base, status=ADDRESSED_FIRST)
    if prev is None:
        return replace(base, status=APPEARS)
    if _same(prev.text, best.text) or _norm(best.text) in before:
        return base  # the same wording, or a clause the version before had word for word (it now ranks first)
    diff = word_diff(prev.text, best.text) if similarity(prev.text, best.text) >= MATCH_AT else ()
    return replace(base, status=CHANGED, diff=diff)


def timeline_markdown(rows: list[TimelineRow], name: str, topic: str) -> str:
    """The timeline as a Markdown table; marked versions in bold, a change with its word diff."""
    out = [f"# {name}: “{topic}” over time", "", "| versions | what happened | section | clause |", "|---|---|---|---|"]
    for r in rows:
        words = render_diff(r.diff) if r.diff else " ".join(r.text.split())
        what = f"**{r.describe()}**" if r.marked else r.describe()
        out.append(
            f"| {r.versions} | {what} | {r.section.replace('|', '/')} | {words.replace('|', chr(92) + '|')[:600]} |"
        )
    return "\n".join(out) + "\n"
