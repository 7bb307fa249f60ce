"""Embeddings computed before a crash are kept: the rerun embeds only what the killed run had not.

The cache used to be written once, after every text was embedded, so a run killed at 81 % re-embedded
all 2,046 texts of the shared corpora.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from tests.helpers import CORPORA, REPO
from tests.reliability.helpers import child_env, run_cli

pytestmark = pytest.mark.slow


def _cached(data) -> int:
    """Vectors in the data folder's embedding cache (0 before it exists)."""
    files = list(data.glob("embeddings--*.sqlite"))
    if not files:
        return 0
    try:
        with sqlite3.connect(files[0], timeout=30) as db:
            return db.execute("SELECT count(*) FROM vec").fetchone()[0]
    except sqlite3.OperationalError:  # the table is not there yet
        return 0


def test_a_killed_ingest_keeps_the_embeddings_it_had_computed(tmp_path):
    data = tmp_path / "data"
    child = subprocess.Popen(
        [sys.executable, str(REPO / "cli.py"), "ingest", "--quiet", str(CORPORA)],
        cwd=REPO,
        env=child_env(data),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 600
        while _cached(data) == 0 and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        child.send_signal(signal.SIGKILL)  # part-way through embedding, as a crash or Ctrl-C would
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    kept = _cached(data)
    again = run_cli(data, "ingest", "--quiet", str(CORPORA))
    assert again.returncode == 0, again.stderr
    total = _cached(data)
    assert 0 < kept < total, (kept, total)  # the old code cached nothing until every text was embedded
    assert f"{total - kept} new embeddings" in again.stdout, again.stdout
