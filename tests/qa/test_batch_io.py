"""Batch input and output without a model: the scope each row is asked about, output checks, resume."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ingest.errors import InputError
from qa.batch import JsonlSink, answer_items, check_output, parse_questions, resume_jsonl
from qa.records import Answer
from qa.retrieve import ScopeError
from tests.helpers import answer

pytestmark = pytest.mark.fast


@dataclass
class FakeAnswerer:
    """Answers every question with a canned record and remembers what it was asked."""

    calls: list[dict[str, Any]] = field(default_factory=list)

    def ask(self, question: str, **scope: str) -> Answer:
        self.calls.append({"question": question, **scope})
        if scope["service"] == "nosuch":
            raise ScopeError("no policy of service 'nosuch' is indexed")
        return answer(question, id=scope["id"])


def test_the_default_document_belongs_to_the_default_service():
    items = parse_questions(
        "id,question,service,document,as_of\n"
        "1,Do you sell data?,,,\n"
        "2,Do you sell data?,google,,\n"
        "3,Do you sell data?,google,terms,2024-01-01\n",
        "csv",
    )
    fake = FakeAnswerer()
    answer_items(fake, items, service="x", document="privacy-policy", as_of="2023-09-29")  # type: ignore[arg-type]  # a duck-typed fake
    assert [(c["service"], c["document"], c["as_of"]) for c in fake.calls] == [
        ("x", "privacy-policy", "2023-09-29"),
        ("google", "", "2023-09-29"),
        ("google", "terms", "2024-01-01"),
    ]


def test_a_row_that_fails_is_an_error_record_and_the_rest_still_run():
    items = parse_questions('question,service\nA?,nosuch\nB?,x\n"C?,x\nD?,x\n', "csv")
    out = answer_items(FakeAnswerer(), items)  # type: ignore[arg-type]  # a duck-typed fake
    assert [bool(a.error) for a in out] == [True, False, True, False]
    assert "no policy of service 'nosuch'" in out[0].error and "opens a quote" in out[2].error


@pytest.mark.parametrize(
    "name, resume, message",
    [
        ("answers.xlsx", False, "unknown export format 'xlsx'"),
        ("answers.csv", True, "--resume continues a .jsonl output"),
    ],
)
def test_an_output_that_cannot_be_written_fails_first(tmp_path, name, resume, message):
    with pytest.raises(InputError, match=message):
        check_output(tmp_path / name, resume)
    (tmp_path / "folder.csv").mkdir()
    with pytest.raises(InputError, match="is a folder"):
        check_output(tmp_path / "folder.csv")


def test_jsonl_output_resumes_and_reads_back_as_answers(tmp_path: Path):
    out = tmp_path / "answers.jsonl"
    sink = JsonlSink(out, append=False)
    for i in ("1", "2"):
        sink(answer(id=i))
    sink.close()
    with out.open("a", encoding="utf-8") as fh:
        fh.write('{"id": "3", "quest')  # the line being written when the run was killed
    assert resume_jsonl(out) == {"1", "2"}
    back = [Answer.from_dict(json.loads(line)) for line in out.read_text("utf-8").splitlines()]
    assert [a.to_dict() for a in back] == [answer(id=i).to_dict() for i in ("1", "2")]
