"""The Answerer with an LLM drafter: verified citations pass, bad ones fall back to extractive."""

from __future__ import annotations

import json

import pytest

from qa.answer import Answerer
from qa.llm import LLMAnswerer
from tests.helpers import SAMPLE, fake_chat


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    from ingest.pipeline import ingest
    from settings import Settings

    s = Settings.from_env(data_dir=tmp_path_factory.mktemp("llm") / "data", chroma_url="", llm_base_url="")
    ingest([SAMPLE], s)
    return s


def _answer(sample, reply):
    answerer = Answerer(sample, llm=LLMAnswerer(fake_chat(reply), "fake"))
    return answerer.ask("Do you collect biometric information?", service="chirp")


def test_llm_answer_with_verbatim_quote_is_kept(sample):
    base = Answerer(sample).ask("Do you collect biometric information?", service="chirp")
    words = base.citations[0].text.split()[:8]
    reply = {"answer": "Yes, with consent [1].", "citations": [{"n": 1, "quote": " ".join(words)}]}
    a = _answer(sample, json.dumps(reply))
    assert a.backend.startswith("llm") and a.citations[0].quote == " ".join(words)


def test_llm_answer_with_invented_quote_falls_back_to_extractive(sample):
    a = _answer(
        sample,
        json.dumps(
            {
                "answer": "Users have no rights [1] [9].",
                "citations": [{"n": 1, "quote": "users have no rights at all"}, {"n": 9, "quote": "x"}],
            }
        ),
    )
    assert a.backend.startswith("extractive (fallback")
    assert a.citations and all(c.quote in c.text for c in a.citations)
    assert "no rights" not in a.text
