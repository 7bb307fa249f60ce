"""An index whose vectors are lost: said plainly when asked, rebuilt from the catalog on the next ingest.

Deleting the data folder's `chroma/` used to leave `ingest` reporting "0 version(s) indexed, 3
unchanged" (with or without --replace) while answers quietly came from word matches alone.
"""

from __future__ import annotations

import json
import shutil

import pytest

import app
from ingest.pipeline import open_store
from settings import Settings
from tests.helpers import SAMPLE
from tests.reliability.helpers import assert_one_line_error, cli, copy_index, run_cli

QUESTION = "Can I delete my data?"
VERSIONS = [f"chirp/privacy-policy@{d}" for d in ("2022-03-01", "2023-10-01", "2025-02-01")]


@pytest.fixture()
def lost(sample_template, tmp_path):
    """A copy of the sample index whose `chroma/` folder is gone (the catalog and embedding cache remain)."""
    data = copy_index(sample_template, tmp_path / "data")
    shutil.rmtree(data / "chroma")
    return data


def _clauses(data, version: str = "2025-02-01") -> int:
    """How many clauses the catalog says a version has (read from its file: no Chroma opened here)."""
    path = next(data.glob(f"versions/*/chirp/privacy-policy/{version}.json"))
    return json.loads(path.read_text("utf-8"))["version"]["clauses"]


def test_ask_says_the_index_is_incomplete(lost):
    done = run_cli(lost, "ask", QUESTION, "--service", "chirp")
    assert done.returncode == 0, done.stderr
    warnings = [ln for ln in done.stderr.splitlines() if ln.startswith("warning:")]
    assert warnings == [
        f"warning: the index is incomplete: chirp/privacy-policy@2025-02-01 has 0 of its "
        f"{_clauses(lost)} clause vectors, so answers come from word matches alone; run "
        "`clausecite ingest` (any folder) to rebuild them"
    ], done.stderr
    assert "5.3 Deleting your account" in done.stdout  # still answered, from word matches


def test_the_app_says_the_index_is_incomplete(lost):
    n = _clauses(lost)
    answerer = app.make_answerer(Settings.from_env(data_dir=lost, chroma_url="", llm_base_url=""))
    status = app.ask(answerer, QUESTION, "chirp/privacy-policy", "", "", [], [])[4]
    assert f"Warning: the index is incomplete: chirp/privacy-policy@2025-02-01 has 0 of its {n}" in status


@pytest.mark.parametrize("flags", [[], ["--replace"]])
def test_the_next_ingest_rebuilds_the_vectors_from_the_catalog(flags, lost, tmp_path):
    done = run_cli(lost, "ingest", "--quiet", *flags, str(SAMPLE))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("0 version(s) indexed, 3 unchanged; 0 clauses, 0 new embeddings"), done.stdout
    assert lines[1] == (
        "repaired 3 version(s) whose vectors were missing, from the catalog's texts: " + ", ".join(VERSIONS)
    )
    # this process never opened the folder's Chroma before, so it reads what the child wrote
    store = open_store(Settings.from_env(data_dir=lost, chroma_url="", llm_base_url=""))
    assert [v.key for v in store.versions()] == VERSIONS
    assert [(v.key, store.vector_count(v)) for v in store.versions()] == [(v.key, v.clauses) for v in store.versions()]
    again = run_cli(lost, "ask", QUESTION, "--service", "chirp")
    assert again.returncode == 0 and "warning" not in again.stderr, again.stderr


def test_vectors_lost_for_one_version_are_rebuilt_even_when_ingesting_another_folder(lost, tmp_path):
    other = tmp_path / "other" / "acme" / "privacy-policy"
    other.mkdir(parents=True)
    shutil.copy(SAMPLE / "chirp" / "privacy-policy" / "2025-02-01.md", other / "2024-05-01.md")
    done = run_cli(lost, "ingest", "--quiet", str(tmp_path / "other"))
    assert done.returncode == 0, done.stderr
    assert "1 version(s) indexed" in done.stdout and "repaired 3 version(s)" in done.stdout


@pytest.mark.parametrize("content", ["{}", "null", "[]", '{"version": {}, "text": "", "clauses": []}'])
def test_a_catalog_file_holding_no_version_is_a_one_line_error_naming_it(content, sample_template, tmp_path):
    settings = Settings.from_env(
        data_dir=copy_index(sample_template, tmp_path / "data"), chroma_url="", llm_base_url=""
    )
    catalog = open_store(settings).catalog_dir / "chirp" / "privacy-policy" / "2023-10-01.json"
    catalog.write_text(content, "utf-8")
    for args in (["versions"], ["ask", QUESTION, "--service", "chirp"], ["ingest", "--quiet", str(SAMPLE)]):
        line = assert_one_line_error(cli(settings, *args))
        assert f"catalog file {catalog} is unreadable" in line and "delete it and ingest" in line, (args, line)
