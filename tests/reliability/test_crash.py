"""An ingest killed with SIGKILL at three points leaves the previous index answering, and a rerun completes.

tests/ingest/test_pipeline.py kills a run after the vectors of its first new version are upserted; these
kill it before anything is written, in the middle of replacing an indexed version, and after one of two
new versions is committed.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from ingest.pipeline import ingest, open_store
from qa.answer import Answerer
from settings import Settings
from tests.helpers import REPO, SAMPLE
from tests.reliability.helpers import child_env, cli, copy_index

CHIRP = SAMPLE / "chirp" / "privacy-policy"
SAMPLE_KEYS = [f"chirp/privacy-policy@{d}" for d in ("2022-03-01", "2023-10-01", "2025-02-01")]
QUESTIONS = ["Can I delete my data?", "Do you use my posts to train AI models?", "Do you sell my personal data?"]


@pytest.fixture()
def data(sample_template, tmp_path) -> Path:
    return copy_index(sample_template, tmp_path / "data")


@pytest.fixture(scope="module")
def expected(sample_settings):
    """What the intact sample index answers, per version: (text, cited clause ids)."""
    answerer = Answerer(sample_settings)
    return {(q, v): _answer(answerer, q, v) for q in QUESTIONS for v in ("2023-10-01", "2025-02-01")}


def _answer(answerer: Answerer, question: str, version: str) -> tuple[str, list[str]]:
    a = answerer.ask(question, service="chirp", version=version)
    return a.text, [c.clause_id for c in a.citations]


def _start(data: Path, *args: str, pause: float = 0, pause_before_write: float = 0) -> subprocess.Popen:
    extra = {"CLAUSECITE_TEST_PAUSE_AFTER_UPSERT": str(pause)} if pause else {}
    if pause_before_write:
        extra["CLAUSECITE_TEST_PAUSE_BEFORE_WRITE"] = str(pause_before_write)
    return subprocess.Popen(
        [sys.executable, str(REPO / "cli.py"), "ingest", "--quiet", *args],
        cwd=REPO,
        env=child_env(data, **extra),
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _kill_at_pause(child: subprocess.Popen, key: str, nth: int = 1, point: str = "paused after upserting") -> list[str]:
    """Read the child's stderr until its nth line starting with `point` names `key`, then SIGKILL it."""
    seen, pauses = [], 0
    try:
        for line in child.stderr:
            seen.append(line)
            if line.startswith(point):
                pauses += 1
                if pauses == nth:
                    break
        assert pauses == nth and key in seen[-1], "".join(seen)
        child.send_signal(signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
    return seen


def _check_intact(data: Path, expected, keys: list[str]) -> Settings:
    """Only complete versions are listed, and the sample still answers exactly as before."""
    settings = Settings.from_env(data_dir=data, chroma_url="", llm_base_url="")
    listed = cli(settings, "versions", "--json")
    assert listed.exit_code == 0, listed.output
    assert [f"{v['service']}/{v['document']}@{v['version']}" for v in json.loads(listed.stdout)] == keys
    answerer = Answerer(settings)
    for (q, v), want in expected.items():
        assert _answer(answerer, q, v) == want, (q, v)
    return settings


@pytest.mark.slow
def test_killed_before_anything_is_written(data, expected, tmp_path):
    corpus = tmp_path / "corpus"
    for path in CHIRP.glob("*.md"):  # a new service whose clauses are not in the embedding cache yet
        target = corpus / "echo" / "privacy-policy" / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(path.read_text("utf-8").replace("Chirp", "Echo"), "utf-8")
    before = sorted(p.name for p in (data / "versions").rglob("*"))
    # killed where its clauses are embedded (the vector cache may hold them) but nothing is indexed yet; a
    # fixed sleep here once let a quiet machine write its first version before the kill
    child = _start(data, str(corpus), pause_before_write=60)
    _kill_at_pause(child, "3 version(s)", point="paused before writing")
    assert sorted(p.name for p in (data / "versions").rglob("*")) == before
    settings = _check_intact(data, expected, SAMPLE_KEYS)
    assert open_store(settings).count() == sum(v.clauses for v in open_store(settings).versions())

    report = ingest([corpus], settings)
    # the killed run may have cached some vectors already (content-addressed, reused), never a version
    assert report.added == [k.replace("chirp/", "echo/") for k in SAMPLE_KEYS] and report.clauses > 0
    store = open_store(settings)
    assert store.count() == sum(v.clauses for v in store.versions())


@pytest.mark.slow
def test_killed_while_replacing_an_indexed_version(data, expected, tmp_path):
    # the new text keeps every old clause and adds one, so most clause ids are the same as the old ones
    new = tmp_path / "2023-10-01.md"
    new.write_text(
        (CHIRP / "2023-10-01.md").read_text("utf-8") + "\n## 12. A clause added by the test\n\n"
        "We added this clause so that this version has different text than the one indexed.\n",
        "utf-8",
    )
    child = _start(
        data,
        "--replace",
        "--service",
        "chirp",
        "--document",
        "privacy-policy",
        "--version",
        "2023-10-01",
        str(new),
        pause=120,
    )
    _kill_at_pause(child, "chirp/privacy-policy@2023-10-01")

    settings = _check_intact(data, expected, SAMPLE_KEYS)  # the old text, and its answers, stand
    store = open_store(settings)
    old = store.get_version("chirp", "privacy-policy", "2023-10-01")
    assert "A clause added by the test" not in store.clean_text("chirp", "privacy-policy", "2023-10-01")

    report = ingest([new], settings, service="chirp", document="privacy-policy", version="2023-10-01", replace=True)
    assert report.added == ["chirp/privacy-policy@2023-10-01"]
    now = store.get_version("chirp", "privacy-policy", "2023-10-01")
    assert now.sha256 != old.sha256 and now.clauses == old.clauses + 1
    assert store.count() == sum(v.clauses for v in store.versions())
    a = Answerer(settings).ask("Was a clause added by the test?", service="chirp", version="2023-10-01")
    assert any("added this clause" in c.text for c in a.citations), a.text


@pytest.mark.slow
def test_killed_after_one_of_two_new_versions_is_committed(data, expected, tmp_path):
    corpus = tmp_path / "corpus" / "echo" / "privacy-policy"
    corpus.mkdir(parents=True)
    for day in ("2022-03-01", "2023-10-01"):
        shutil.copyfile(CHIRP / f"{day}.md", corpus / f"{day}.md")
    child = _start(data, str(corpus.parent.parent), pause=1)
    _kill_at_pause(child, "echo/privacy-policy@2023-10-01", nth=2)  # the first was committed after its pause

    keys = SAMPLE_KEYS + ["echo/privacy-policy@2022-03-01"]
    settings = _check_intact(data, expected, keys)
    store = open_store(settings)
    assert store.count() > sum(v.clauses for v in store.versions())  # the killed version's vectors, unseen
    echo = Answerer(settings).ask("Can I delete my data?", service="echo")
    assert echo.version == "2022-03-01" and echo.citations

    report = ingest([corpus.parent.parent], settings)
    assert report.added == ["echo/privacy-policy@2023-10-01"]
    assert report.unchanged == ["echo/privacy-policy@2022-03-01"] and report.new_embeddings == 0
    assert [v.key for v in store.versions()] == SAMPLE_KEYS[:1] + SAMPLE_KEYS[1:] + [
        "echo/privacy-policy@2022-03-01",
        "echo/privacy-policy@2023-10-01",
    ]
    assert store.count() == sum(v.clauses for v in store.versions())
