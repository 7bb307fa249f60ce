"""Every export carries the answer's state and confidence, so a reader can tell the three apart."""

from __future__ import annotations

import csv
import io
import json

import pytest

from qa.export import render
from qa.records import Answer, Citation

pytestmark = pytest.mark.fast  # pure: no model, no ../shared


def answers() -> list[Answer]:
    cite = Citation(
        n=1,
        clause_id="c1",
        service="acme",
        document="privacy-policy",
        version="2024-01-01",
        section="2. Sharing",
        text="We share contact details with delivery partners.",
        quote="We share contact details with delivery partners.",
    )
    return [
        Answer(
            "do couriers get my phone number?",
            "acme",
            "privacy-policy",
            "2024-01-01",
            "…",
            (cite,),
            support="addressed",
            confidence=0.91,
        ),
        Answer(
            "do couriers keep it afterwards?",
            "acme",
            "privacy-policy",
            "2024-01-01",
            "…",
            (cite,),
            support="partly",
            confidence=0.48,
        ),
        Answer(
            "do you sell it to pollsters?",
            "acme",
            "privacy-policy",
            "2024-01-01",
            "does not address",
            abstained=True,
            support="not addressed",
            confidence=0.07,
        ),
    ]


def test_json_and_jsonl_carry_support_and_confidence_and_only_not_addressed_abstains():
    rows = json.loads(render(answers(), "json"))
    assert [(r["support"], r["confidence"], r["abstained"]) for r in rows] == [
        ("addressed", 0.91, False),
        ("partly", 0.48, False),
        ("not addressed", 0.07, True),
    ]
    lines = [json.loads(x) for x in render(answers(), "jsonl").splitlines()]
    assert [x["support"] for x in lines] == ["addressed", "partly", "not addressed"]


def test_csv_and_markdown_carry_the_state():
    rows = list(csv.DictReader(io.StringIO(render(answers(), "csv"))))
    assert [(r["support"], r["confidence"]) for r in rows] == [
        ("addressed", "0.91"),
        ("partly", "0.48"),
        ("not addressed", "0.07"),
    ]
    md = render(answers(), "md")
    assert "— partly (confidence 0.48)" in md and "— not addressed (confidence 0.07)" in md
