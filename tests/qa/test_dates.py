"""Dates named in a question pick the version it is about."""

from __future__ import annotations

import pytest

from qa.dates import Mention, dates_in, without_dates

pytestmark = pytest.mark.fast  # pure: no model, no ../shared


@pytest.mark.parametrize(
    "question, expected",
    [
        ("what changed about biometrics in September 2023?", [Mention("2023-09-30")]),
        ("Did the Sept 2023 update change anything?", [Mention("2023-09-30")]),
        ("is it new in the january 2026 policy?", [Mention("2026-01-31")]),
        ("between the Aug 7 and Aug 11 2023 versions?", [Mention("2023-08-07"), Mention("2023-08-11")]),
        ("what changed since May 2023?", [Mention("2023-05-31", since=True)]),
        ("compare 2024-11-15 with 29 September 2023", [Mention("2024-11-15"), Mention("2023-09-29")]),
        ("in feb 2024?", [Mention("2024-02-29")]),
        ("is that something new in the 2025 version?", [Mention("2025-12-31")]),
        (
            "what did the 2023 privacy policy say, and what changed since the 2024 update?",
            [Mention("2023-12-31"), Mention("2024-12-31", since=True)],
        ),
    ],
)
def test_dates_a_question_names(question, expected):
    assert dates_in(question) == expected


@pytest.mark.parametrize(
    "question",
    [
        "may I delete my data in 2023?",
        "did they drop the 18-month limit?",
        "March 3 is my birthday",
        "what did they decide?",
        "Feb 30 2024 is not a day",
        "my 11 year old made an account",
        "I joined in 2019, do they still have my posts?",
        "do they keep 2000 photos of me?",
    ],
)
def test_no_date_is_read_into_other_words(question):
    assert dates_in(question) == []


@pytest.mark.parametrize(
    "question, expected",
    [
        ("what changed about biometrics in September 2023?", "what changed about biometrics in ?"),
        ("what changed since May 2023?", "what changed ?"),
        ("between the Aug 7 and Aug 11 2023 versions?", "between the and versions?"),
        ("may I delete my data?", "may I delete my data?"),
        ("what did they say in 2023 about ads?", "what did they say in 2023 about ads?"),
        ("is gemini training new in the 2025 version?", "is gemini training new in the version?"),
    ],
)
def test_the_search_words_leave_out_the_dates_that_pick_the_version(question, expected):
    assert without_dates(question) == expected
