"""Shared fixtures: real corpora from ../shared, a real embedding model, real Chroma in temp folders.

Helpers and paths live in tests/helpers.py; tests import them from there, never from here.
"""

from __future__ import annotations

import os

import pytest

from tests.helpers import CORPORA

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


@pytest.fixture()
def settings(tmp_path):
    """Settings whose data folder is a fresh temporary folder."""
    from settings import Settings

    return Settings.from_env(data_dir=tmp_path / "data", chroma_url="", llm_base_url="")


@pytest.fixture(scope="session")
def corpus_settings(tmp_path_factory):
    """Settings over one index of all 20 versions in ../shared/corpora, built once per test run."""
    from ingest.pipeline import ingest
    from settings import Settings

    assert CORPORA.is_dir(), f"tests read the real policies from {CORPORA}; put ../shared beside the repo"
    s = Settings.from_env(data_dir=tmp_path_factory.mktemp("corpus") / "data", chroma_url="", llm_base_url="")
    report = ingest([CORPORA], s)
    assert len(report.added) == 20 and not report.warnings, report.summary()
    return s
