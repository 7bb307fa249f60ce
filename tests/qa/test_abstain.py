"""The abstention rule: a policy that talks near a topic but not about it gets 'does not address'."""
from __future__ import annotations

import numpy as np
import pytest

from ingest.records import Clause
from qa import abstain
from qa.answer import Answerer
from qa.records import Hit, Scope


def hit(text: str, dense: float = 0.5, section: str = "2. How We Use Information") -> Hit:
    c = Clause("id-" + text[:8], "acme", "privacy-policy", "2024-01-01", section, (section,), 0, text, 0,
               len(text), "h", kind="paragraph")
    return Hit(c, 1.0, dense)


LEADING = [hit("We use cookies to remember your settings."), hit("You can clear cookies in your browser.")]
VOCAB = {"cooki", "rememb", "set", "clear", "browser", "use", "track"}


def test_focus_word_in_leading_clauses_is_addressed():
    assert abstain.unaddressed("do you use cookies?", {"cooki": 0.2}, VOCAB, LEADING, closest=0.3) == []


def test_missing_focus_and_unknown_word_with_nothing_close_names_the_word():
    weight = {"royalti": 0.12, "browser": 0.02}
    assert abstain.unaddressed("do you pay Royalties for my browser data?", weight, VOCAB, LEADING,
                               closest=0.4) == ["Royalties"]


def test_each_condition_alone_keeps_the_answer():
    # a close clause in meaning outweighs a missing word
    assert not abstain.unaddressed("royalties?", {"royalti": 0.12}, VOCAB, LEADING, closest=abstain.CLOSE_DENSE)
    # the focus word is missing from the leading clauses but the version uses every question word
    assert not abstain.unaddressed("do you track me?", {"track": 0.2}, VOCAB, LEADING, closest=0.4)
    # a missing word too light to matter
    assert not abstain.unaddressed("do you track me oddly?", {"track": 0.2, "odd": 0.01}, VOCAB, LEADING,
                                   closest=0.4)


def test_glossary_terms_count_as_the_focus_word():
    leading = [hit("We share information with law enforcement in response to a legal process.")]
    vocab = {"share", "inform", "law", "enforc", "legal", "process"}
    assert not abstain.unaddressed("would you give my stuff to the cops?", {"cop": 0.15}, vocab, leading,
                                   closest=0.4)


def test_weights_rank_the_topic_word_above_the_filler():
    from ingest.embedder import Embedder

    e = Embedder()
    w = abstain.weights("does the app record my microphone", ["app", "microphon", "record"], e.encode)
    assert max(w, key=w.get) == "microphon"


def test_keywords_drop_names_months_and_common_words():
    share = {"cooki": 0.02, "inform": 0.4, "septemb": 0.0}
    words = abstain.keywords("Does Acme store cookie information since September?", Scope("acme", "privacy-policy",
                             "2024-01-01"), share, change_words="since")
    assert words == ["cooki", "store"]


@pytest.fixture(scope="module")
def answerer(corpus_settings):
    return Answerer(corpus_settings)


def test_near_topic_question_abstains_with_related_clauses(answerer):
    # X's policy discusses training AI models on posts, but never paying anyone for it
    a = answerer.ask("Will X pay me royalties when my posts are used to train Grok?", "x")
    assert a.abstained and not a.citations and a.related
    assert "does not address" in a.text and "never uses the word “royalties”" in a.text


@pytest.mark.parametrize("service, question", [
    ("google", "can google see what i search for?"),
    ("zoom", "Does Zoom's AI read my meeting chat to train models?"),
    ("x", "does x keep my searches?"),
])
def test_plainly_worded_questions_on_covered_topics_are_answered(answerer, service, question):
    a = answerer.ask(question, service)
    assert not a.abstained and a.citations
