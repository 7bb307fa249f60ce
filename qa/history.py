"""A topic's story across every version of a document: where its wording appears, changes or goes."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ingest.records import Clause
from qa.compare import MATCH_AT, similarity
from qa.records import Scope
from qa.retrieve import Retriever

PER_VERSION = 3
Wording = Literal["first version", "first appears", "changed", "unchanged", "removed", "not addressed"]


@dataclass(frozen=True)
class HistoryRow:
    """One clause on the topic in one version, and what happened to its wording there."""

    version: str
    status: Wording  # what happened to the clause's wording since the version before
    section: str
    clause_id: str
    text: str


def topic_history(retriever: Retriever, service: str, document: str, topic: str) -> list[HistoryRow]:
    """Version by version, the clauses that address the topic, marked against the version before."""
    scope0 = retriever.resolve(service, document)
    dates = [v.version for v in retriever.store.versions(scope0.service, scope0.document)]
    rows: list[HistoryRow] = []
    prev_all: list[Clause] = []
    prev_shown: list[Clause] = []
    for date in dates:
        scope = Scope(scope0.service, scope0.document, date)
        hits = retriever.search(topic, scope, k=PER_VERSION)
        shown = [h.clause for h in hits if h.score >= 0.6 * hits[0].score]
        all_now = retriever.store.clauses(scope.service, scope.document, date)
        rows += [HistoryRow(date, _status(c, prev_all, bool(prev_all)), c.section, c.clause_id, c.text) for c in shown]
        now_hashes = {c.content_hash for c in all_now}
        for old in prev_shown:
            reworded = any(similarity(old.text, c.text) >= MATCH_AT for c in all_now)
            if old.content_hash not in now_hashes and not reworded:
                rows.append(HistoryRow(date, "removed", old.section, old.clause_id, old.text))
        if not shown:
            rows.append(HistoryRow(date, "not addressed", "", "", ""))
        prev_all, prev_shown = all_now, shown
    return rows


def _status(c: Clause, prev: list[Clause], has_prev: bool) -> Wording:
    if not has_prev:
        return "first version"
    if any(p.content_hash == c.content_hash for p in prev):
        return "unchanged"
    if any(similarity(p.text, c.text) >= MATCH_AT for p in prev):
        return "changed"
    return "first appears"


def history_markdown(rows: list[HistoryRow], name: str, topic: str) -> str:
    """The history as a Markdown table, one row per clause per version."""
    out = [f"# {name}: “{topic}” across versions", "", "| version | wording | section | clause |", "|---|---|---|---|"]
    for r in rows:
        text = " ".join(r.text.split()).replace("|", "\\|")
        out.append(f"| {r.version} | {r.status} | {r.section.replace('|', '/')} | {text[:400]} |")
    return "\n".join(out) + "\n"
