"""The labelled training questions and the blind held-out-service set hold what they claim."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from qa.evaluate import load_gold
from train import data
from train.split import CORPUS, HELD_OUT_SERVICES, documents, training_documents

REPO = Path(__file__).resolve().parents[2]
SHARED = (REPO / ".." / "shared").resolve()
BLIND = REPO / "bench" / "blind" / "heldout-services.yaml"
EVAL_SETS = [
    *sorted((SHARED / "questions").glob("*.yaml")),
    *sorted((REPO / "bench" / "questions").glob("*.yaml")),
    BLIND,
]


UNUSED = data.QUESTIONS / "unused"  # labelled and checked, but `make model` does not train on them


@pytest.fixture(scope="module")
def examples():
    return data.load_all()


@pytest.fixture(scope="module")
def every_example(examples):
    return examples + data.load_all(UNUSED)


def test_every_file_parses_and_every_example_checks_out(every_example):
    files = sorted(data.QUESTIONS.glob("*.jsonl")) + sorted(UNUSED.glob("*.jsonl"))
    assert files
    for path in files:
        assert data.load(path)[1] == [], path.name
    problems = [p for ex in every_example for p in data.problems(ex)]
    assert problems == [], "\n".join(problems[:10])


def test_a_quote_that_is_not_in_the_document_is_caught():
    doc = training_documents()[0]
    ex = data.Example(
        doc.parts[-3],
        doc.parts[-2],
        doc.stem,
        "will they sell my stuff?",
        True,
        ("We sell every user's diary to the highest bidder",),
        "",
        "t:1",
    )
    assert any("not verbatim" in p for p in data.problems(ex))
    held = data.Example(HELD_OUT_SERVICES[0], "privacy-policy", "2026-01-01", "q about it?", False, (), "x", "t:2")
    assert data.problems(held)


def test_enough_questions_over_enough_documents(examples):
    answerable = [e for e in examples if e.answerable]
    assert len(answerable) >= 3000
    assert len(examples) - len(answerable) >= 1000
    assert len({e.key for e in examples}) >= 60
    assert sum(map(data.shares_no_word, answerable)) >= len(answerable) / 3


def test_questions_are_unique_and_no_held_out_service_is_trained_on(every_example):
    normed = [(e.key, data.norm(e.question)) for e in every_example]
    assert len(set(normed)) == len(normed)
    assert not {e.service for e in every_example} & set(HELD_OUT_SERVICES)
    assert len([p for p in documents() if p.parts[-3] in HELD_OUT_SERVICES]) >= 12


def test_the_blind_set_is_over_held_out_services_and_quotes_them_verbatim():
    items = load_gold(BLIND)
    assert len(items) >= 150 and sum(not it.answerable for it in items) >= len(items) / 3
    assert {it.service for it in items} <= set(HELD_OUT_SERVICES)
    for it in items:
        assert it.answerable == bool(it.evidence), it.id
        for key, quote in it.evidence:
            policy, _, version = key.partition("@")
            text = data.norm(data.clean_text(CORPUS / policy / f"{version}.md"))
            assert data.norm(quote).rstrip(".") in text, (it.id, quote)


@pytest.mark.slow
def test_no_training_question_is_a_near_duplicate_of_an_evaluation_question(every_example):
    from ingest.embedder import Embedder

    held = [q["question"] for path in EVAL_SETS for q in yaml.safe_load(path.read_text("utf-8")) or []]
    assert len(held) > 200
    words = lambda q: frozenset(data.norm(q).replace("?", " ").split())  # noqa: E731 - a one-line key
    same = {words(q) for q in held} & {words(e.question) for e in every_example}
    assert not same, sorted(same)[:5]
    embedder = Embedder("all-MiniLM-L6-v2")
    a = embedder.encode([e.question for e in every_example])
    b = embedder.encode(held)
    worst = float(np.max(a @ b.T))
    assert worst < 0.9, f"a training question is within cosine {worst:.3f} of an evaluation question"


def test_a_question_names_its_company_by_the_services_name_in_the_forms_people_type():
    def ex(service: str, question: str) -> data.Example:
        return data.Example(service, "privacy-policy", "2026-01-01", question, True, (), "", "t:1")

    assert data.names_company(ex("booking-com", "does Booking.com keep my passport scan?"))
    assert data.names_company(ex("the-new-york-times", "will new york times sell my reading history"))
    assert data.names_company(ex("proton-mail", "can Proton Mail read my email?"))
    assert not data.names_company(ex("stack-overflow", "do they see which tech stack I use?"))
    assert not data.names_company(ex("x", "do they keep my DMs for 2x as long?"))
