"""Answer, Citation and ClauseChange round-trip through the batch/export dicts of DESIGN.md."""

from __future__ import annotations

import json

import pytest

from ingest.records import version_key
from qa.compare import align
from qa.export import render
from qa.records import Answer, ChangeStatus, ClauseChange, Scope, Support
from tests.helpers import answer, clause

pytestmark = pytest.mark.fast
OLD, NEW = Scope("acme", "privacy-policy", "2023-01-01"), Scope("acme", "privacy-policy", "2024-01-01")


def changes() -> tuple[ClauseChange, ...]:
    old = [
        clause(0, "1. Data", "We collect your email address and phone number.", OLD),
        clause(1, "2. Sharing", "We never share your data with anyone.", OLD),
    ]
    new = [
        clause(0, "1. Data", "We collect your email address, phone number and location.", NEW),
        clause(1, "3. AI", "We train our models on your public posts.", NEW),
    ]
    return tuple(align(old, new))


@pytest.mark.parametrize(
    "record",
    [
        answer(),
        answer(changes=changes()),
        answer(citations=(), abstained=True, support=Support.NOT_ADDRESSED, confidence=0.1),
        answer(citations=(), abstained=True, support="", error="row 3 has no question"),
        answer(support=Support.PARTLY, backend="llm:local"),
    ],
    ids=["addressed", "with-changes", "not-addressed", "error", "partly-llm"],
)
def test_answer_round_trips_through_its_dict_and_json(record):
    d = record.to_dict()
    assert Answer.from_dict(d).to_dict() == d
    assert Answer.from_dict(json.loads(json.dumps(d))).to_dict() == d
    line = render([record], "jsonl")
    assert Answer.from_dict(json.loads(line)).to_dict() == d


def test_alignment_statuses_are_an_enum_that_reads_as_text():
    statuses = [ch.status for ch in changes()]
    assert statuses == [ChangeStatus.CHANGED, ChangeStatus.REMOVED, ChangeStatus.ADDED]
    assert statuses[0] == "changed" and json.dumps([str(s) for s in statuses]) == '["changed", "removed", "added"]'
    rebuilt = ClauseChange.from_dict(changes()[0].to_dict())
    assert rebuilt.old is not None and rebuilt.old.service == "acme" and rebuilt.old.version == "2023-01-01"


def test_an_error_record_reads_error_and_a_support_state_reads_its_words():
    assert answer(support="", error="boom").to_dict()["support"] == "error"
    assert answer(support=Support.NOT_ADDRESSED, abstained=True).to_dict()["support"] == "not addressed"
    assert Answer.from_dict(answer().to_dict()).support is Support.ADDRESSED


def test_one_helper_names_every_version():
    a = answer()
    assert version_key("x", "privacy-policy", "2023-09-29") == "x/privacy-policy@2023-09-29"
    assert a.version_key == a.citations[0].version_key == NEW.key == "acme/privacy-policy@2024-01-01"
