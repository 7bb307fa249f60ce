"""The ingest pipeline end to end: real corpus, real model, real Chroma in temporary folders, the CLI."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from cli import main
from ingest.chunking import chunk
from ingest.embedder import PACKAGED, Embedder
from ingest.loaders import load_clean
from ingest.pipeline import VersionConflict, ingest, open_store
from ingest.records import PolicyVersion
from tests.helpers import CORPORA, MESSY, REPO, SAMPLE

CHIRP = SAMPLE / "chirp" / "privacy-policy"
SERVICES = {"x", "google", "linkedin", "meta", "reddit", "zoom"}


def layout(root: Path, files: dict[str, Path]) -> Path:
    """A corpus folder under `root` with each `service/document/DATE.md` copied from a source file."""
    for rel, src in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, root / rel)
    return root


def near(store, info, question: str, n: int = 5) -> list[str]:
    """Ids of the clauses of one version nearest to a question."""
    return [cid for cid, _ in store.query(Embedder().embed_query(question), info, n)]


# the shared corpus ------------------------------------------------------------------------------


def test_corpus_lists_all_twenty_versions_with_their_clauses(corpus_settings):
    store = open_store(corpus_settings)
    versions = store.versions()
    assert len(versions) == 20
    assert {v.service for v in versions} == SERVICES
    for v in versions:
        assert v.clauses > 0 and v.clauses == len(store.clauses(v.service, v.document, v.version)), v.key
    x = store.get_version("x", "privacy-policy", "2023-09-29")
    assert x.title == "X Privacy Policy" and x.source.startswith("OpenTermsArchive/pga-versions@")
    assert store.count() == sum(v.clauses for v in versions)


def test_reingesting_the_corpus_embeds_nothing(corpus_settings):
    report = ingest([CORPORA], corpus_settings)
    assert (report.added, len(report.unchanged), report.new_embeddings) == ([], 20, 0)
    assert "0 version(s) indexed, 20 unchanged" in report.summary()


def test_ingest_also_embeds_every_clause_for_the_rankers_second_opinion(corpus_settings):
    store = open_store(corpus_settings)
    clauses = [c for v in store.versions() for c in store.clauses(v.service, v.document, v.version)]
    second = Embedder(PACKAGED, corpus_settings.data_dir)
    vectors, new = second.embed_cached([c.content_hash for c in clauses], [c.text for c in clauses])
    assert (new, second.encoded) == (0, 0)  # all on disk already: no question waits for them
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)


def test_query_finds_the_ai_training_clause_in_its_version(corpus_settings):
    store = open_store(corpus_settings)
    info = store.get_version("x", "privacy-policy", "2023-09-29")
    ids = near(store, info, "Does X use my posts to train artificial intelligence models?")
    by_id = {c.clause_id: c for c in store.clauses("x", "privacy-policy", "2023-09-29")}
    assert all(i in by_id for i in ids)
    assert any("artificial intelligence" in by_id[i].text for i in ids[:3])


@pytest.mark.slow
def test_x_versions_embed_each_distinct_clause_text_once(settings):
    report = ingest([CORPORA / "x"], settings)
    assert len(report.added) == 6
    hashes = set()
    for path in sorted((CORPORA / "x" / "privacy-policy").glob("*.md")):
        version = PolicyVersion("x", "privacy-policy", path.stem, load_clean(path))
        hashes |= {c.content_hash for c in chunk(version)}
    assert report.new_embeddings == len(hashes) == report.distinct_texts
    assert report.clauses > report.new_embeddings  # unchanged clauses reused their vectors


def test_a_capture_missing_most_of_a_section_is_indexed_with_a_warning(settings, tmp_path):
    # the 2024 capture kept the heading of "1.2 Information we collect when you use X." but lost its text
    before = CORPORA / "x" / "privacy-policy" / "2023-09-29.md"
    root = layout(tmp_path / "corpus", {"x/privacy-policy/2023-09-29.md": before})
    first = ingest([root], settings)
    assert first.warnings == [] and "warning" not in first.summary()
    layout(root, {"x/privacy-policy/2024-03-13.md": MESSY / "section-1.2-missing.md"})
    report = ingest([root], settings)
    assert report.added == ["x/privacy-policy@2024-03-13"] and len(report.warnings) == 1
    warning = report.summary().splitlines()[1]
    assert warning.startswith(
        "warning: x/privacy-policy@2024-03-13: section “1.2 Information we collect when you use X.”"
    )
    assert "against 4,901 in 2023-09-29" in warning and "cut short" in warning
    assert open_store(settings).get_version("x", "privacy-policy", "2024-03-13") is not None  # indexed all the same


# conflicts and single files ---------------------------------------------------------------------


def test_same_date_with_other_text_conflicts_unless_replaced(settings, tmp_path):
    ingest([SAMPLE], settings)
    store = open_store(settings)
    before = store.get_version("chirp", "privacy-policy", "2023-10-01")
    other = layout(tmp_path / "other", {"chirp/privacy-policy/2023-10-01.md": CHIRP / "2025-02-01.md"})
    with pytest.raises(VersionConflict, match="chirp/privacy-policy@2023-10-01 is already indexed.*--replace"):
        ingest([other], settings)
    assert store.get_version("chirp", "privacy-policy", "2023-10-01") == before

    report = ingest([other], settings, replace=True)
    assert report.added == ["chirp/privacy-policy@2023-10-01"]
    info = store.get_version("chirp", "privacy-policy", "2023-10-01")
    wanted = [
        c.text
        for c in chunk(PolicyVersion("chirp", "privacy-policy", "2023-10-01", load_clean(CHIRP / "2025-02-01.md")))
    ]
    now = store.clauses("chirp", "privacy-policy", "2023-10-01")
    assert info.sha256 != before.sha256 and [c.text for c in now] == wanted
    assert store.count() == sum(v.clauses for v in store.versions())
    ids = near(store, info, "Does Chirp have an AI assistant I can opt out of?", n=info.clauses)
    assert set(ids) == {c.clause_id for c in now}


def test_single_file_takes_names_and_date_from_flags(settings, tmp_path):
    path = tmp_path / "export.md"
    shutil.copyfile(CHIRP / "2022-03-01.md", path)
    report = ingest([path], settings, service="acme", document="terms", version="2021-05-04")
    assert report.added == ["acme/terms@2021-05-04"]
    info = open_store(settings).get_version("acme", "terms", "2021-05-04")
    assert info.clauses > 10 and info.source == str(path) and info.title == "Chirp Privacy Policy"


def test_single_file_without_date_in_name_takes_it_from_its_text(settings, tmp_path):
    path = tmp_path / "chirp-policy.md"
    shutil.copyfile(CHIRP / "2023-10-01.md", path)
    report = ingest([path], settings, service="chirp", document="privacy-policy")
    assert report.added == ["chirp/privacy-policy@2023-10-01"]  # "Effective: October 1, 2023"

    undated = tmp_path / "undated.md"
    undated.write_text(path.read_text("utf-8").replace("Effective: October 1, 2023", ""), "utf-8")
    with pytest.raises(ValueError, match="undated.md: no effective date.*pass --version YYYY-MM-DD"):
        ingest([undated], settings, service="chirp", document="privacy-policy")
    with pytest.raises(ValueError, match="--service and --document"):
        ingest([path], settings)


def test_sample_corpus_ingests_three_versions(settings):
    report = ingest([SAMPLE], settings)
    assert report.added == [f"chirp/privacy-policy@{d}" for d in ("2022-03-01", "2023-10-01", "2025-02-01")]
    versions = open_store(settings).versions()
    assert [v.title for v in versions] == ["Chirp Privacy Policy"] * 3
    assert all(v.clauses > 20 for v in versions)


# the command line -------------------------------------------------------------------------------


def test_cli_ingest_then_versions(tmp_path):
    runner, data = CliRunner(), str(tmp_path / "data")
    env = {"CLAUSECITE_CHROMA_URL": None, "CLAUSECITE_DATA": None}
    result = runner.invoke(main, ["--data", data, "ingest", "--quiet", str(SAMPLE)], env=env)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("3 version(s) indexed, 0 unchanged;")

    result = runner.invoke(main, ["--data", data, "versions"], env=env)
    assert result.exit_code == 0
    rows = result.stdout.splitlines()
    assert len(rows) == 3 and all(r.startswith("chirp") and "Chirp Privacy Policy" in r for r in rows)
    assert [r.split()[2] for r in rows] == ["2022-03-01", "2023-10-01", "2025-02-01"]

    again = runner.invoke(main, ["--data", data, "ingest", "--quiet", str(SAMPLE)], env=env)
    assert again.exit_code == 0 and "0 version(s) indexed, 3 unchanged" in again.stdout


def test_cli_missing_path_fails_with_one_clear_line(tmp_path):
    missing = tmp_path / "no-such-policies"
    result = CliRunner().invoke(
        main, ["--data", str(tmp_path / "data"), "ingest", str(missing)], env={"CLAUSECITE_CHROMA_URL": None}
    )
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [f"Error: {missing}: no such file or folder; check the path"]
    assert result.stdout == ""


def test_cli_versions_on_an_empty_data_folder_says_what_to_do(tmp_path):
    result = CliRunner().invoke(main, ["--data", str(tmp_path / "data"), "versions"])
    assert result.exit_code == 0 and "clausecite ingest corpora/sample" in result.stdout


# an ingest killed half way ----------------------------------------------------------------------


def run_cli(data: Path, *args: str, **popen) -> subprocess.Popen:
    """`python cli.py ARGS` in a child process whose stored state lives in `data`."""
    env = {**os.environ, "CLAUSECITE_DATA": str(data), "CLAUSECITE_CHROMA_URL": "", **popen.pop("env", {})}
    return subprocess.Popen(
        [sys.executable, str(REPO / "cli.py"), *args],
        cwd=REPO,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **popen,
    )


@pytest.mark.slow
def test_killed_ingest_leaves_only_complete_versions_and_reruns(tmp_path):
    data = tmp_path / "data"
    done = run_cli(data, "ingest", "--quiet", str(SAMPLE))
    out, err = done.communicate(timeout=300)
    assert done.returncode == 0, err
    two_x = layout(
        tmp_path / "two-x",
        {
            f"x/privacy-policy/{d}.md": CORPORA / "x" / "privacy-policy" / f"{d}.md"
            for d in ("2023-05-18", "2023-09-29")
        },
    )

    child = run_cli(data, "ingest", "--quiet", str(two_x), env={"CLAUSECITE_TEST_PAUSE_AFTER_UPSERT": "60"})
    try:
        seen = []
        for line in child.stderr:  # the pause comes after Chroma holds the vectors, before the catalog
            seen.append(line)
            if line.startswith("paused after upserting"):
                break
        assert "x/privacy-policy@2023-05-18" in seen[-1], "".join(seen)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    assert list((data / "versions").rglob("chirp/*/*.json")), "the sample catalog should be there"
    assert not list((data / "versions").rglob("x/*/*.json"))

    listed = run_cli(data, "versions")
    out, _ = listed.communicate(timeout=120)
    assert [r.split()[0] for r in out.splitlines()] == ["chirp"] * 3

    from settings import Settings

    settings = Settings.from_env(data_dir=data, chroma_url="")
    store = open_store(settings)
    sample_total = sum(v.clauses for v in store.versions())
    assert store.count() > sample_total  # the killed run's vectors are there, but nobody sees them
    info = store.get_version("chirp", "privacy-policy", "2023-10-01")
    ids = near(store, info, "Do you use my posts to train AI models?")
    assert ids and set(ids) <= {c.clause_id for c in store.clauses("chirp", "privacy-policy", "2023-10-01")}

    report = ingest([two_x], settings)
    assert report.added == ["x/privacy-policy@2023-05-18", "x/privacy-policy@2023-09-29"]
    assert report.new_embeddings < report.distinct_texts  # the first version's vectors were cached
    assert [v.service for v in store.versions()] == ["chirp"] * 3 + ["x"] * 2
    assert store.count() == sum(v.clauses for v in store.versions())
