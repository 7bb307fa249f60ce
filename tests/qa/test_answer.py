"""Answers over the real policies: versions, citations that hold up, abstention, change questions."""

from __future__ import annotations

import pytest

from qa.answer import Answerer, QuestionError, best_quote, select, sentences
from qa.compare import align, counts
from qa.retrieve import ScopeError


@pytest.fixture(scope="module")
def answerer(corpus_settings):
    return Answerer(corpus_settings)


def test_version_selection_newest_as_of_and_explicit(answerer):
    r = answerer.retriever
    assert r.resolve("x").version == "2026-01-15"
    assert r.resolve("x", as_of="2023-10-01").version == "2023-09-29"
    assert r.resolve("x", as_of="2023-09-29").version == "2023-09-29"
    assert r.resolve("x", version="2022-06-10").version == "2022-06-10"
    assert r.resolve("zoom").document == "terms-of-service"


def test_unknown_service_and_early_date_are_clear_errors(answerer):
    with pytest.raises(ScopeError, match="indexed services: .*google.*x"):
        answerer.ask("what do you collect?", service="tiktok")
    with pytest.raises(ScopeError, match="first indexed version is 2022-06-10"):
        answerer.ask("what do you collect?", service="x", as_of="2019-01-01")
    with pytest.raises(ScopeError, match="no version 2023-01-01"):
        answerer.ask("what do you collect?", service="x", version="2023-01-01")


@pytest.mark.parametrize("as_of", ["2023-09-29", ""])
def test_dms_and_ai_training_cites_both_clauses(answerer, as_of):
    a = answerer.ask("Will my DMs be used to train AI?", service="x", as_of=as_of)
    assert not a.abstained and a.support == "addressed" and a.version == (as_of or "2026-01-15")
    texts = [c.text for c in a.citations]
    assert any("train our machine learning or artificial intelligence models" in t for t in texts), a.text
    assert any("Direct Messages, including the contents of the messages" in t for t in texts), a.text
    for c in a.citations:
        assert c.quote in c.text and c.version == a.version and c.section
        assert f"[{c.n}]" in a.text


def test_citations_are_retrieved_clauses_with_verbatim_quotes(answerer):
    store = answerer.retriever.store
    a = answerer.ask("How long does X keep my information?", service="x")
    ids = {c.clause_id for c in store.clauses("x", "privacy-policy", a.version)}
    assert a.citations
    for c in a.citations:
        assert c.clause_id in ids and c.quote in c.text
        assert c.text in store.clean_text("x", "privacy-policy", c.version)
    assert sum(len(c.text) for c in a.citations) <= 1500


def test_question_about_something_absent_abstains(answerer):
    a = answerer.ask("Will X give me a refund if my horoscope is wrong?", service="x")
    assert a.abstained and not a.citations and a.support == "not addressed"
    assert "does not address" in a.text
    assert a.related and all(r.quote in r.text for r in a.related)


def test_change_question_cites_both_versions(answerer):
    a = answerer.ask(
        "Did the September 2023 update change what X collects about direct messages?", service="x", as_of="2023-09-29"
    )
    versions = {c.version for c in a.citations}
    assert {"2023-09-29", "2023-05-18"} <= versions, a.text
    assert "Compared with the previous version (2023-05-18)" in a.text
    assert any(ch.status in ("changed", "added") for ch in a.changes)


def test_new_biometric_clause_is_reported_new(answerer):
    a = answerer.ask("Is the biometric information collection new?", service="x", as_of="2023-09-29")
    bio = [c for c in a.citations if "biometric information" in c.text and c.version == "2023-09-29"]
    assert bio, a.text
    assert f"[{bio[0].n}] is new" in a.text


def test_bad_questions_are_refused_with_reason(answerer):
    for q in ("", "   ", "?!?"):
        with pytest.raises(QuestionError):
            answerer.ask(q, service="x")
    with pytest.raises(QuestionError, match="limit is 2,000"):
        answerer.ask("why " * 5000, service="x")


def test_compare_finds_the_2023_additions(corpus_settings):
    from ingest.pipeline import open_store

    store = open_store(corpus_settings)
    changes = align(
        store.clauses("x", "privacy-policy", "2023-05-18"), store.clauses("x", "privacy-policy", "2023-09-29")
    )
    added = " ".join(ch.new.text for ch in changes if ch.status == "added")
    changed = " ".join(" ".join(t for op, t in ch.diff if op == "+") for ch in changes if ch.status == "changed")
    assert "biometric information" in added and "employment history" in added
    assert "train our machine learning" in changed
    assert counts(changes)["removed"] < 5


def test_best_quote_is_verbatim_and_on_topic():
    text = (
        "We collect your email. We may use the information we collect to train our models. We keep logs for 18 months."
    )
    q = best_quote(text * 3, "do you train models on my data?")
    assert q in text * 3 and "train" in q


def test_select_respects_budget(answerer):
    hits = answerer.retriever.search("what do you collect", answerer.retriever.resolve("meta"), k=8)
    chosen = select(hits, 0.0)
    assert 1 <= len(chosen) <= 5
    assert sum(len(h.clause.text) for h in chosen[1:]) <= 1500


def test_a_quote_never_breaks_inside_an_abbreviation():
    text = (
        "X content, including your profile information (e.g. your name and photo), is public. "
        "We transfer data to the U.S. Department of Commerce framework, i.e. under its rules. " * 3
    )
    q = best_quote(text, "is my profile information public?")
    assert q.startswith("X content, including your profile information (e.g. your name") and q.endswith("public.")
    assert sentences("See e.g. the list. Then i.e. this one.") == ["See e.g. the list.", "Then i.e. this one."]


@pytest.mark.parametrize(
    "question, change",
    [
        ("Was that in the policy before?", True),
        ("did they add anything about AI?", True),
        ("is the biometric data thing new?", True),
        ("what changed before September 2023?", True),
        ("do advertisers get my email address?", False),
        ("do I have to agree before Facebook shows me ads?", False),
        ("if I switch off location, does it still know where I am?", False),
        # a change word about the asker's own things or acts, or a difference that is not one in time
        ("can I move my account to my new email address?", False),
        ("when I add a debit card, what do they keep?", False),
        ("I used to share my location, how do I stop it?", False),
        ("do they charge people in different countries different prices?", False),
        ("will they tell me when my removed comment is reviewed?", False),
        # ...and the same words about the policy
        ("is the location clause in the new policy?", True),
        ("did they say something different about cookies before?", True),
        ("did the company add a clause about selfies?", True),
        ("is there a new section about face scans?", True),
    ],
)
def test_change_questions_are_told_apart(question, change):
    from qa.answer import is_change_question

    assert is_change_question(question) is change


def test_a_sentence_the_policy_repeats_is_cited_once(answerer):
    # Google's 2025 policy says "You may also see personalized ads based on information from the
    # advertiser..." in its ads section and again inside its legal-bases table.
    q = "Can advertisers use my visits to their website to show me ads on Google?"
    scope = answerer.retriever.resolve("google")
    words = [" ".join(h.clause.text.lower().split()) for h in answerer.retriever.search(q, scope, k=10)]
    assert len(words) == 10
    assert not [(a, b) for i, a in enumerate(words) for b in words[i + 1 :] if a in b or b in a]
    repeated = [
        c
        for c in answerer.retriever.index(scope).clauses
        if "you may also see personalized ads based on information from the advertiser" in c.text.lower()
    ]
    assert len(repeated) >= 2
    texts = [c.text for c in answerer.ask(q, service="google").citations]
    assert sum("personalized ads based on information from the advertiser" in t for t in texts) == 1


def test_only_substantial_repeats_are_dropped_and_order_is_kept():
    from ingest.records import Clause
    from qa.records import Hit
    from qa.retrieve import _distinct

    def hit(i, text):
        return Hit(
            Clause(
                f"c{i}",
                "acme",
                "privacy-policy",
                "2024-01-01",
                "5. Cookies",
                ("5. Cookies",),
                i,
                text,
                0,
                len(text),
                f"h{i}",
            ),
            score=1.0 - i / 10,
        )

    texts = [
        "Cookies",
        "We use cookies to keep you signed in and to remember your language.",
        "We use  cookies to keep you signed in and to remember your language. Learn more",
        "Learn more",
        "Learn more",
        "You can block cookies in your browser settings.",
    ]
    kept = [h.clause.text for h in _distinct([hit(i, t) for i, t in enumerate(texts)], k=10)]
    assert kept == [texts[0], texts[1], texts[3], texts[5]]
    assert [h.clause.text for h in _distinct([hit(i, t) for i, t in enumerate(texts)], k=2)] == texts[:2]


def test_a_date_in_the_question_picks_the_version_and_change_words_do_not_steer_the_search(answerer):
    a = answerer.ask("what changed about biometrics in September 2023?", service="x")
    assert a.version == "2023-09-29" and "Compared with the previous version (2023-05-18)" in a.text
    assert a.text.endswith("The question names a date, so this is version 2023-09-29; the newest is 2026-01-15.")
    first = a.citations[0]
    assert "biometric information" in first.text.lower() and "[1] is new" in a.text
    assert not any(c.section.startswith("8. Changes To This Privacy Policy") for c in a.citations)


def test_since_a_date_compares_the_newest_version_with_the_one_then(answerer):
    a = answerer.ask("what changed about biometrics since May 2023?", service="x")
    assert a.version == "2026-01-15" and "Compared with version 2023-05-18:" in a.text
    assert "The question names a date" not in a.text
    assert {c.version for c in a.citations} == {"2026-01-15", "2023-05-18"}


def test_a_chosen_version_or_date_wins_over_the_question_and_early_dates_are_passed_over(answerer):
    asked = answerer.ask("what changed about biometrics in September 2023?", service="x", as_of="2025-01-01")
    assert asked.version == "2024-11-15"
    assert answerer.ask("What did X say about DMs in March 2015?", service="x").version == "2026-01-15"


def test_a_year_names_the_version_and_an_unchanged_clause_is_cited_in_the_earlier_version_too(answerer):
    a = answerer.ask("is collecting biometric data new in the 2024 policy?", service="x")
    assert a.version == "2024-11-15" and "Compared with the previous version (2023-09-29)" in a.text
    bio = [c for c in a.citations if "biometric information" in c.text]
    assert {c.version for c in bio} == {"2024-11-15", "2023-09-29"}, a.text
    now, then = sorted(bio, key=lambda c: c.version, reverse=True)[:2]
    assert now.text == then.text and f"[{now.n}] is unchanged from 2023-09-29, where it is [{then.n}]" in a.text


def test_a_change_answer_cites_no_clause_for_being_reworded_alone(answerer):
    # 2024-11-15 added a law-enforcement retention clause and reworded the contact clause; neither is
    # about biometrics, and the ranking puts both within the citation budget of a plain answer
    a = answerer.ask("is collecting biometric data new in the 2024 policy?", service="x")
    assert any("biometric information" in c.text for c in a.citations), a.text
    off_topic = [c for c in a.citations if "law enforcement" in c.text or "hear from you" in c.text]
    assert not off_topic, a.text
    assert "is new" not in a.text and "was reworded" not in a.text, a.text


@pytest.mark.parametrize(
    "question, topic",
    [
        ("When did X start saying it can train AI on my posts? Was that in the policy before?", "train AI on my posts"),
        ("when did they first mention selling data? is this new?", "selling data"),
        ("Did that change? Do they sell my data?", "Do they sell my data?"),
    ],
)
def test_a_change_question_searches_its_topic_not_how_it_asks(question, topic):
    from qa.answer import topic_of

    found = topic_of(question)
    assert topic in found and "policy" not in found and "when" not in found.lower(), found


def test_when_did_they_start_saying_is_answered_like_the_plain_question(answerer):
    q = "when did X start saying it trains AI models on what it collects? was that there before?"
    a = answerer.ask(q, service="x", as_of="2023-10-01")
    assert a.support == "addressed" and not a.abstained, a.text
    assert any("artificial intelligence models" in c.text and c.version == "2023-09-29" for c in a.citations), a.text


def test_a_change_answer_says_since_when_its_best_clause_reads_the_same(answerer):
    # the biometric clause first appears in 2023-09-29 and is unchanged in every later version
    a = answerer.ask("is collecting biometric data new?", service="x")
    assert a.version > "2024-11-15" and "Compared with the previous version" in a.text
    assert "it reads the same since 2023-09-29, where it first appears" in a.text, a.text


def test_the_quote_is_the_sentence_with_the_questions_rare_words_not_its_common_ones(answerer):
    # the AI-training clause of 2023-09-29 opens with two sentences on using "the information we collect" on "X"
    a = answerer.ask("can X use people's data to train AI?", service="x", as_of="2023-09-29")
    training = [c for c in a.citations if "artificial intelligence models" in c.text]
    assert training and "help train our machine learning or artificial intelligence models" in training[0].quote


def test_a_change_answer_cites_the_earlier_side_of_an_unchanged_clause_on_topic_not_only_of_the_best(answerer):
    # the age-inference clause reads the same since 2024-11-15; it ranks second, behind the reworded safety clause
    a = answerer.ask("was verifying users' age already in the policy before 2026?", service="x")
    age = [c for c in a.citations if "disclose your age and identity information" in c.text]
    assert {c.version for c in age} == {"2026-01-15", "2025-07-28"}, a.text
    now = next(c for c in age if c.version == "2026-01-15")
    assert f"[{now.n}] is unchanged from 2025-07-28, where it is [" in a.text, a.text
