"""The abstention rule: a policy that talks near a topic but not about it gets 'does not address'."""

from __future__ import annotations

import pytest

from ingest.records import Clause
from qa import abstain
from qa.answer import Answerer
from qa.records import Hit, Scope


def hit(text: str, dense: float = 0.5, section: str = "2. How We Use Information") -> Hit:
    c = Clause(
        "id-" + text[:8],
        "acme",
        "privacy-policy",
        "2024-01-01",
        section,
        (section,),
        0,
        text,
        0,
        len(text),
        "h",
        kind="paragraph",
    )
    return Hit(c, 1.0, dense)


LEADING = [hit("We use cookies to remember your settings."), hit("You can clear cookies in your browser.")]
VOCAB = {"cooki", "rememb", "set", "clear", "browser", "use", "track"}


def test_focus_word_in_leading_clauses_is_addressed():
    assert abstain.unaddressed("do you use cookies?", {"cooki": 0.2}, VOCAB, LEADING, closest=0.3) == []


def test_missing_focus_and_unknown_word_with_nothing_close_names_the_word():
    weight = {"royalti": 0.12, "browser": 0.02}
    assert abstain.unaddressed("do you pay Royalties for my browser data?", weight, VOCAB, LEADING, closest=0.4) == [
        "Royalties"
    ]


def test_each_condition_alone_keeps_the_answer():
    # a close clause in meaning outweighs a missing word
    assert not abstain.unaddressed("royalties?", {"royalti": 0.12}, VOCAB, LEADING, closest=abstain.CLOSE_DENSE)
    # the focus word is missing from the leading clauses but the version uses every question word
    assert not abstain.unaddressed("do you track me?", {"track": 0.2}, VOCAB, LEADING, closest=0.4)
    # a missing word too light to matter
    assert not abstain.unaddressed("do you track me oddly?", {"track": 0.2, "odd": 0.01}, VOCAB, LEADING, closest=0.4)


def test_a_missing_word_with_a_close_policy_word_is_not_missing():
    weight = {"royalti": 0.12, "browser": 0.02}
    q = "do you pay Royalties for my browser data?"
    near = {"Royalties": ("fees", abstain.SAME_MEANING)}
    assert abstain.unaddressed(q, weight, VOCAB, LEADING, closest=0.4, nearest=near.get) == []
    far = {"Royalties": ("cookies", abstain.SAME_MEANING - 0.01)}
    assert abstain.unaddressed(q, weight, VOCAB, LEADING, closest=0.4, nearest=far.get) == ["Royalties"]


def test_glossary_terms_count_as_the_focus_word():
    leading = [hit("We share information with law enforcement in response to a legal process.")]
    vocab = {"share", "inform", "law", "enforc", "legal", "process"}
    assert not abstain.unaddressed("would you give my stuff to the cops?", {"cop": 0.15}, vocab, leading, closest=0.4)


def test_weights_rank_the_topic_word_above_the_filler():
    from ingest.embedder import Embedder

    e = Embedder()
    w = abstain.weights("does the app record my microphone", ["app", "microphon", "record"], e.encode)
    assert max(w, key=w.get) == "microphon"


def test_keywords_drop_names_months_and_common_words():
    share = {"cooki": 0.02, "inform": 0.4, "septemb": 0.0}
    words = abstain.keywords(
        "Does Acme store cookie information since September?",
        Scope("acme", "privacy-policy", "2024-01-01"),
        share,
        change_words="since",
    )
    assert words == ["cooki", "store"]


def test_keywords_leave_out_words_that_only_place_or_link():
    share = {"job": 0.01, "applic": 0.02, "through": 0.03, "over": 0.02}
    words = abstain.keywords(
        "If I apply for a job through Acme, who gets my application? Do they hand it over?",
        Scope("acme", "privacy-policy", "2024-01-01"),
        share,
    )
    assert "through" not in words and "over" not in words and {"job", "applic"} <= set(words), words
    # "is it ok to ...?" asks whether it is allowed; a policy that never says "ok" may still answer it
    asked = abstain.keywords("is it ok to have a second account?", Scope("acme", "terms", "2024-01-01"), {"ok": 0.0})
    assert "ok" not in asked and "account" in asked, asked
    chatty = abstain.keywords("lol are they gonna sell my data tho?", Scope("acme", "terms", "2024-01-01"), {})
    assert chatty == ["data", "sell"], chatty


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


def test_nearest_word_finds_the_policys_own_word(answerer):
    r = answerer.retriever
    word, cos = r.nearest_word(r.resolve("meta"), "religion")
    assert word == "religious" and cos >= abstain.SAME_MEANING
    word, cos = r.nearest_word(r.resolve("x"), "horoscope")
    assert cos < abstain.SAME_MEANING


def test_a_question_in_everyday_words_is_answered_in_the_policys_words(answerer):
    # Google's policy never says "pick" (its nearest word is "choose"); without that it abstained
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
