"""The topic over time, with the answers' own relevance: real X policies from ../shared/corpora and the sample."""

from __future__ import annotations

import pytest

from qa.answer import Answerer
from qa.timeline import timeline, timeline_markdown

pytestmark = pytest.mark.slow


def test_training_ai_models_on_x_is_not_addressed_until_2023_05_18_then_added_in_2023_09_29(corpus_settings):
    rows = timeline(Answerer(corpus_settings), "x", "privacy-policy", "training AI models")
    assert [(r.first, r.last, r.status) for r in rows] == [
        ("2022-06-10", "2023-05-18", "not addressed"),
        ("2023-09-29", "2023-09-29", "appears"),
        ("2024-11-15", "2026-01-15", "unchanged"),  # §2.1 keeps its words (only a link's address changed)
    ]
    added = rows[1]
    assert added.marked and added.describe() == "added in 2023-09-29 (§2.1)"
    assert added.section.startswith("2.1 Operate, improve, and personalize our services")
    assert "help train our machine learning or artificial intelligence models" in added.text
    assert rows[2].text == added.text and not rows[2].marked
    md = timeline_markdown(rows, "x/privacy-policy", "training AI models")
    assert "| 2022-06-10 – 2023-05-18 | not addressed |" in md and "| **added in 2023-09-29 (§2.1)** |" in md


def test_a_reworded_clause_is_marked_changed_with_its_word_diff(sample_answerer):
    rows = timeline(sample_answerer, "chirp", "privacy-policy", "how long do you keep log data")
    assert [(r.first, r.last, r.status) for r in rows] == [
        ("2022-03-01", "2023-10-01", "addressed"),
        ("2025-02-01", "2025-02-01", "changed"),
    ]
    changed = rows[1]
    assert changed.marked and changed.section == rows[0].section == "6.2 Log data"
    assert ("-", "at most 18 months. After that") in changed.diff
    assert any(op == "+" and "as long as we need it" in t for op, t in changed.diff)


@pytest.fixture(scope="module")
def sample_answerer(tmp_path_factory):
    from ingest.pipeline import ingest
    from settings import Settings
    from tests.helpers import SAMPLE

    s = Settings.from_env(data_dir=tmp_path_factory.mktemp("sample") / "data", chroma_url="", llm_base_url="")
    ingest([SAMPLE], s)
    return Answerer(s)
