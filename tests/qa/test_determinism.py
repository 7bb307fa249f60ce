"""The extractive answer is deterministic: the same question gives the same citations in a new process."""

from __future__ import annotations

from ingest.pipeline import ingest
from qa.answer import Answerer
from tests.helpers import SAMPLE


def test_two_answerers_cite_the_same_clauses_in_the_same_order(settings):
    ingest([SAMPLE], settings)
    first = Answerer(settings).ask("Can I stop Chirp using my posts for its AI?", service="chirp")
    again = Answerer(settings).ask("Can I stop Chirp using my posts for its AI?", service="chirp")
    assert first.citations and [c.clause_id for c in first.citations] == [c.clause_id for c in again.citations]
    assert (first.support, round(first.confidence, 6)) == (again.support, round(again.confidence, 6))
