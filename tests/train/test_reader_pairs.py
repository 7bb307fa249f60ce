"""The reader learns from evidence clauses, hard negatives and the near misses of unanswerable questions."""

from __future__ import annotations

import pytest

from ingest.records import Clause
from qa.records import Scope
from train.data import Example
from train.pairs import Row
from train.run import reader_pairs

pytestmark = pytest.mark.fast  # pure: no model, no index


def clause(i: int, text: str) -> Clause:
    return Clause(
        f"c{i}", "acme", "privacy-policy", "2026-01-01", "1. Data", ("1. Data",), i, text, 0, len(text), f"h{i}"
    )


def example(question: str, answerable: bool) -> Example:
    return Example("acme", "privacy-policy", "2026-01-01", question, answerable, (), "", "w.jsonl:1")


CLAUSES = [clause(i, t) for i, t in enumerate(["We email offers.", "We keep logs 90 days.", "Cookies.", "Ads."])]
SCOPE = Scope("acme", "privacy-policy", "2026-01-01")


def test_evidence_is_positive_other_candidates_and_near_misses_negative():
    answerable = Row(
        example("how long are logs kept?", True), SCOPE, tuple(CLAUSES[1:]) + (CLAUSES[0],), frozenset({"c1"})
    )
    near_miss = Row(example("do they text me offers?", False), SCOPE, tuple(CLAUSES), frozenset())
    got = reader_pairs([answerable, near_miss], lambda scope: CLAUSES)
    assert ("how long are logs kept?", "We keep logs 90 days.", 1.0) in got
    assert [t for q, t, y in got if q == "how long are logs kept?" and y == 0.0] == ["Cookies.", "Ads."]
    assert [(t, y) for q, t, y in got if q == "do they text me offers?"] == [
        ("We email offers.", 0.0),
        ("We keep logs 90 days.", 0.0),
        ("Cookies.", 0.0),
    ]


def test_a_question_whose_evidence_no_clause_holds_teaches_nothing():
    lost = Row(example("what about refunds?", True), SCOPE, tuple(CLAUSES), frozenset())
    assert reader_pairs([lost], lambda scope: CLAUSES) == []
