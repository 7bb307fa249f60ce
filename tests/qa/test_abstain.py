"""Not addressed: a policy that talks near a topic but not about it abstains, and names the words it never uses."""

from __future__ import annotations

import pytest

from qa import abstain
from qa.answer import Answerer
from qa.records import Scope


def test_keywords_drop_names_months_and_common_words():
    share = {"cooki": 0.02, "inform": 0.4, "septemb": 0.0}
    words = abstain.keywords(
        "Does Acme store cookie information since September?",
        Scope("acme", "privacy-policy", "2024-01-01"),
        share,
        change_words="since",
    )
    assert words == ["cooki", "store"]


def test_the_words_a_version_never_uses_are_named_as_the_question_writes_them():
    share = {"cooki": 0.02, "inform": 0.4, "pay": 0.01}
    scope = Scope("acme", "privacy-policy", "2024-01-01")
    question = "Will Acme pay Royalties for Horoscopes in cookie banners?"
    assert abstain.never_used(question, scope, share) == ["Royalties", "Horoscopes", "banners"]


@pytest.fixture(scope="module")
def answerer(corpus_settings):
    return Answerer(corpus_settings)


def test_near_topic_question_abstains_with_related_clauses(answerer):
    # X's policy discusses training AI models on posts, but never paying anyone for it
    a = answerer.ask("Will X pay me royalties when my posts are used to train Grok?", service="x")
    assert a.abstained and not a.citations and a.related
    assert "does not address" in a.text and "never uses the word “royalties”" in a.text


def test_an_off_topic_question_abstains_with_related_clauses_and_the_missing_word(answerer):
    a = answerer.ask("Does X honor the horoscope sign I picked for my profile?", service="x")
    assert a.abstained and not a.citations and a.related and a.support == "not addressed"
    assert "does not address" in a.text and "“horoscope”" in a.text


def test_a_question_in_everyday_words_is_answered_in_the_policys_words(answerer):
    # Google's policy never says "pick" (it says "choose"): a question in other words is still answered
    a = answerer.ask("can google pick ads from my gmail?", service="google")
    assert not a.abstained
    assert any("personalized ads based on your content from Drive, Gmail, or Photos" in c.text for c in a.citations)


@pytest.mark.parametrize(
    "service, question",
    [
        ("google", "can google see what i search for?"),
        ("zoom", "Does Zoom's AI read my meeting chat to train models?"),
        ("x", "does x keep my searches?"),
    ],
)
def test_plainly_worded_questions_on_covered_topics_are_answered(answerer, service, question):
    a = answerer.ask(question, service=service)
    assert not a.abstained and a.citations
