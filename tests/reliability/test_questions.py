"""Hostile or odd questions, through Answerer.ask and `cli.py ask`: refused clearly, or answered."""

from __future__ import annotations

import json

import pytest

from qa.answer import Answerer, QuestionError
from qa.retrieve import ScopeError
from tests.reliability.helpers import assert_one_line_error, cli


@pytest.fixture(scope="module")
def answerer(sample_settings):
    return Answerer(sample_settings)


REFUSED = {
    "empty": ("", "the question is empty"),
    "whitespace-only": (" \t\n  \u00a0 ", "the question is empty"),
    "20000-chars": ("Can I delete my data? " * 910, "the limit is 2,000"),
    "only-punctuation": ("?!?... ¿¡ — ***", "the question has no words"),
}


@pytest.mark.parametrize("case", REFUSED, ids=list(REFUSED))
def test_bad_question_is_refused(case, answerer, sample_settings):
    question, message = REFUSED[case]
    with pytest.raises(QuestionError, match=message):
        answerer.ask(question, service="chirp")
    assert_one_line_error(cli(sample_settings, "ask", question, "--service", "chirp"), message)


def test_over_long_question_states_its_length_and_the_limit(answerer):
    with pytest.raises(QuestionError) as info:
        answerer.ask("x" * 20_000, service="chirp")
    assert "20,000 characters; the limit is 2,000" in str(info.value)


@pytest.mark.parametrize(
    "question",
    [
        "¿Puedo borrar mis datos personales?",
        "Puis-je supprimer mes données ?",
        "私のデータを削除できますか？",
        "Можно ли удалить мои данные?",
    ],
)
def test_non_english_question_answers_or_abstains(question, answerer, sample_settings):
    a = answerer.ask(question, service="chirp")
    assert a.version == "2025-02-01" and a.text and not a.error
    assert a.abstained or a.citations
    result = cli(sample_settings, "ask", question, "--service", "chirp", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["answer"] == a.text


def test_unknown_service_lists_the_indexed_ones(answerer, sample_settings):
    with pytest.raises(ScopeError, match="no policy of service 'nosuch' is indexed; indexed services: chirp"):
        answerer.ask("Can I delete my data?", service="nosuch")
    assert_one_line_error(
        cli(sample_settings, "ask", "Can I delete my data?", "--service", "nosuch"), "indexed services: chirp"
    )


def test_as_of_before_the_first_version_names_it(answerer, sample_settings):
    with pytest.raises(ScopeError, match="no version in effect on 2020-01-01; the first indexed version is 2022-03-01"):
        answerer.ask("Can I delete my data?", service="chirp", as_of="2020-01-01")
    assert_one_line_error(
        cli(sample_settings, "ask", "Can I delete my data?", "--service", "chirp", "--as-of", "2020-01-01"),
        "the first indexed version is 2022-03-01",
    )


def test_bad_as_of_date_is_refused(answerer):
    with pytest.raises(ScopeError, match="as-of date 'soon' is not a date"):
        answerer.ask("Can I delete my data?", service="chirp", as_of="soon")
