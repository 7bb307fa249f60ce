"""Batch files with bad rows: error records for those, every other question answered, input order kept."""

from __future__ import annotations

import json

import pytest

from qa.answer import Answerer
from tests.reliability.helpers import cli

JSONL = (
    "\n".join(
        [
            '{"id": "q1", "question": "Can I delete my data?"}',
            '{"id": "q2", "question": "Do you sell my data?", ',  # malformed: cut off
            '{"id": "q3", "question": "Does Chirp use my posts to train AI?", "as_of": "2023-01-01"}',
            "",
            '{"id": "q4", "question": "How long do you keep log data?"}',
        ]
    )
    + "\n"
)
CSV = (
    "id,question,service,as_of\n"
    "c1,Can I delete my data?,chirp,\n"
    "c2,,chirp,\n"  # a row without a question
    'c3,"Do you share my data with advertisers, and which ones?",chirp,2023-12-31\n'
    "c4,How long do you keep log data?,,\n"
)
AS_OF = {"q3": "2023-01-01", "c3": "2023-12-31"}


@pytest.mark.parametrize(
    "kind, text, bad, order",
    [
        ("jsonl", JSONL, {"2": "line 2 is not valid JSON"}, ["q1", "2", "q3", "q4"]),
        ("csv", CSV, {"c2": "row 2 has no question"}, ["c1", "c2", "c3", "c4"]),
    ],
)
def test_bad_rows_become_error_records_and_the_rest_are_answered(kind, text, bad, order, sample_settings, tmp_path):
    questions = tmp_path / f"questions.{kind}"
    questions.write_text(text, "utf-8")
    out = tmp_path / "out.jsonl"
    result = cli(sample_settings, "batch", str(questions), "-o", str(out), "--service", "chirp", "--quiet")
    assert result.exit_code == 0, result.output
    assert f"4 answers written to {out} (1 error record(s))" in result.stdout
    rows = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert [r["id"] for r in rows] == order
    answerer = Answerer(sample_settings)
    for r in rows:
        if r["id"] in bad:
            assert bad[r["id"]] in r["error"] and r["abstained"] and r["citations"] == []
            continue
        # q3 asks about Chirp's 2022 policy, which has no AI clause: an abstention is the right answer;
        # every other question is one the sample policy answers
        abstains = r["id"] == "q3"
        assert not r.get("error") and r["abstained"] == abstains and bool(r["citations"]) != abstains, r
        assert (r["support"] == "not addressed") == abstains, r
        alone = answerer.ask(r["question"], service="chirp", as_of=AS_OF.get(r["id"], ""))
        assert (r["version"], r["answer"]) == (alone.version, alone.text)
        assert [c["clause_id"] for c in r["citations"]] == [c.clause_id for c in alone.citations]
