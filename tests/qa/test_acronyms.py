"""Short forms in questions spelled out from the policy's own words (qa/acronyms.py)."""

import pytest

from qa.acronyms import expand, phrases, short_forms, spelled_out
from qa.retrieve import _stem, tokenize

pytestmark = pytest.mark.fast  # pure: a stand-in for the model's cosine, no index

POLICY = """We collect the contents of Direct Messages you send. Direct Messages are private.
You can turn off Direct Messages from people you don't follow. We may use information to help train
our machine learning or artificial intelligence models. Account Information is kept for 30 days;
Account Information can be edited; see Account Information settings. Digital Millennium Copyright Act
notices go to Digital Millennium Copyright Act agents at Digital Millennium Copyright Act desks.
DAMAGES MAY BE LIMITED. DAMAGES MAY APPLY. DAMAGES MAY VARY. Data Mart Inc. Data Mart Inc. Data Mart Inc."""


def vocabulary(text: str) -> set[str]:
    return set(tokenize([text])[0])


def closeness(meaning: dict[tuple[str, str], float]):
    """A stand-in for the MiniLM cosine: given pairs, 0.1 for the rest."""
    return lambda short, found: [meaning.get((short.lower(), p), 0.1) for p in found]


def test_short_forms_are_the_questions_capitalised_or_tiny_words_the_policy_never_uses():
    vocab = vocabulary(POLICY)
    assert short_forms("Will my DMs be used to train AI?", vocab, _stem) == ["DMs", "AI"]
    assert short_forms("will my dms be used to train the ai", vocab, _stem) == ["dms", "ai"]
    # ordinary words are not short forms, and a word the policy uses needs no spelling out
    assert short_forms("can my boss read my messages or my posts", vocab, _stem) == []


def test_a_name_the_policy_writes_again_and_again_spells_out_a_short_form():
    near = closeness({("dms", "direct messages"): 0.39})
    assert spelled_out("DMs", POLICY, near) == "direct messages"
    assert spelled_out("dms", POLICY, near) == "direct messages"


def test_a_phrase_close_in_meaning_spells_out_a_short_form_even_in_lower_case():
    near = closeness({("ai", "artificial intelligence"): 0.79, ("ai", "account information"): 0.16})
    assert spelled_out("AI", POLICY, near) == "artificial intelligence"


def test_weak_evidence_spells_out_nothing():
    # "Account Information" is written as a name three times, but means nothing like "AI"
    assert spelled_out("AI", POLICY.replace("artificial intelligence", "smart"), closeness({})) == ""
    # a fragment of a longer name, a shouted disclaimer and a company's name are not what a short form
    # stands for, even when the model finds them about as close as "Direct Messages" is to "DMs"
    near = closeness(
        {
            ("dm", "digital millennium"): 0.35,
            ("dm", "damages may"): 0.35,
            ("dm", "data mart"): 0.35,
            ("ai", "acme inc"): 0.35,
        }
    )
    assert spelled_out("DM", POLICY.replace("Direct Messages", "chats"), near) == ""
    assert spelled_out("AI", "Acme Inc runs it. Acme Inc owns it. Acme Inc sells it.", near) == ""
    # no model to judge meaning: only a definition counts
    assert spelled_out("DMs", POLICY, None) == ""


def test_a_section_named_after_a_phrase_spells_out_a_short_form():
    # written once as a title and otherwise in lower case: not a name by count, but the section is named after it
    text = "4. Messages\n4.1 Direct messages\nDirect messages let you talk privately. We scan direct messages for spam."
    near = closeness({("dms", "direct messages"): 0.39, ("ai", "account information"): 0.16})
    assert spelled_out("DMs", text, near) == ""
    assert spelled_out("DMs", text, near, titles=["4. Messages", "4.1 Direct messages"]) == "direct messages"
    # a title far in meaning from the short form does not count, nor does a phrase inside a title
    titled = "3.2 Account information\nAccount information is kept."
    assert spelled_out("AI", titled, near, titles=["3.2 Account information"]) == ""
    assert spelled_out("DMs", text, near, titles=["4. Messages", "4.1 Sending direct messages"]) == ""


def test_a_definition_in_the_policy_wins():
    text = POLICY + " We keep your Personally Identifiable Information (PII) safe."
    assert spelled_out("PII", text, closeness({})) == "personally identifiable information"


def test_the_question_is_searched_with_the_spelled_out_phrases():
    near = closeness({("dms", "direct messages"): 0.39, ("ai", "artificial intelligence"): 0.79})
    found = phrases("Will my DMs be used to train AI?", POLICY, vocabulary(POLICY), _stem, near)
    assert found == ["direct messages", "artificial intelligence"]
    assert expand("Will my DMs train AI?", found) == "Will my DMs train AI? (direct messages; artificial intelligence)"
    assert expand("Will my posts train AI?", []) == "Will my posts train AI?"
