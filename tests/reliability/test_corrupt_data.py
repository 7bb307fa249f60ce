"""A damaged data folder: the CLI says what is broken and how to rebuild, exits non-zero, no traceback."""

from __future__ import annotations

import os
import shutil

import pytest

from ingest.pipeline import open_store
from qa.answer import Answerer
from settings import Settings
from tests.helpers import SAMPLE
from tests.reliability.helpers import assert_one_line_error, cli, copy_index, run_cli

QUESTION = "Can I delete my data?"


@pytest.fixture()
def damaged(sample_template, tmp_path):
    """Settings over a fresh copy of the sample index, for the test to damage."""
    return Settings.from_env(data_dir=copy_index(sample_template, tmp_path / "data"), chroma_url="", llm_base_url="")


@pytest.fixture(scope="module")
def healthy(sample_settings):
    """The answer a healthy sample index gives."""
    return Answerer(sample_settings).ask(QUESTION, service="chirp")


def _commands(tmp_path) -> dict[str, list[str]]:
    (tmp_path / "q.txt").write_text(QUESTION + "\n", "utf-8")
    return {
        "ask": ["ask", QUESTION, "--service", "chirp"],
        "batch": ["batch", str(tmp_path / "q.txt"), "-o", str(tmp_path / "out.jsonl"), "--service", "chirp", "--quiet"],
        "ingest": ["ingest", "--quiet", str(SAMPLE)],
    }


def _rebuilt_answers_like(settings, healthy, tmp_path) -> None:
    """Ingest again in a fresh process (as a user would), then inspect a copy of the rebuilt folder here."""
    again = run_cli(settings.data_dir, "ingest", "--quiet", str(SAMPLE))
    assert again.returncode == 0, again.stderr
    # this process keeps Chroma's failed open of the old path cached, so look at a copy under a new path
    copy = Settings.from_env(
        data_dir=copy_index(settings.data_dir, tmp_path / "rebuilt"), chroma_url="", llm_base_url=""
    )
    store = open_store(copy)
    dates = ("2022-03-01", "2023-10-01", "2025-02-01")
    assert [v.key for v in store.versions()] == [f"chirp/privacy-policy@{d}" for d in dates]
    assert store.count() == sum(v.clauses for v in store.versions())
    a = Answerer(copy).ask(QUESTION, service="chirp")
    assert a.text == healthy.text and [c.clause_id for c in a.citations] == [c.clause_id for c in healthy.citations]


@pytest.mark.slow
def test_garbage_chroma_file_says_move_the_folder_aside_and_rebuild(damaged, healthy, tmp_path):
    sqlite = damaged.data_dir / "chroma" / "chroma.sqlite3"
    sqlite.write_bytes(os.urandom(sqlite.stat().st_size))
    for name, args in _commands(tmp_path).items():
        line = assert_one_line_error(cli(damaged, *args))
        assert "cannot open the Chroma index" in line, (name, line)
        assert f"move the data folder {damaged.data_dir} aside" in line and "ingest" in line, (name, line)
    assert not (tmp_path / "out.jsonl").exists()
    # the way out, as the message words it: move the data folder aside, ingest again
    shutil.move(damaged.data_dir, tmp_path / "data-broken")
    _rebuilt_answers_like(damaged, healthy, tmp_path)


@pytest.mark.slow
def test_truncated_catalog_file_says_delete_it_and_ingest_again(damaged, healthy, tmp_path):
    from ingest.pipeline import open_store

    catalog = open_store(damaged).catalog_dir / "chirp" / "privacy-policy" / "2023-10-01.json"
    catalog.write_bytes(catalog.read_bytes()[: catalog.stat().st_size // 2])
    for name, args in [*_commands(tmp_path).items(), ("versions", ["versions"])]:
        line = assert_one_line_error(cli(damaged, *args))
        assert f"catalog file {catalog} is unreadable" in line and "delete it and ingest" in line, (name, line)
    catalog.unlink()
    _rebuilt_answers_like(damaged, healthy, tmp_path)


@pytest.mark.slow
def test_garbage_embedding_cache_says_delete_it(damaged, healthy, tmp_path):
    cache = next(damaged.data_dir.glob("embeddings--*.sqlite"))
    cache.write_bytes(os.urandom(cache.stat().st_size))
    for name, args in _commands(tmp_path).items():
        line = assert_one_line_error(cli(damaged, *args))
        assert str(cache) in line and "delete it" in line, (name, line)
    cache.unlink()
    _rebuilt_answers_like(damaged, healthy, tmp_path)
