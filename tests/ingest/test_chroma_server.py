"""The Chroma server backend: a real `chroma run` process, ingest through HttpClient, query by version."""

from __future__ import annotations

import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from ingest import store as store_module
from ingest.embedder import Embedder
from ingest.pipeline import ingest, open_store
from tests.helpers import REPO, SAMPLE
from tests.servers import free_port, stop, wait_until_up

CHROMA = REPO / ".venv" / "bin" / "chroma"


@pytest.fixture()
def chroma_url(tmp_path: Path):
    """URL of a real Chroma server persisting into a temporary folder; stopped afterwards."""
    port = free_port()
    server = subprocess.Popen(
        [str(CHROMA), "run", "--path", str(tmp_path / "server"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{url}/api/v2/heartbeat", server, server.stdout.read, timeout=60)
        yield url
    finally:
        stop(server)
        store_module._CLIENTS.pop(url, None)  # the cached client points at a server that is gone


@pytest.mark.slow
def test_ingest_and_query_through_a_chroma_server(settings, chroma_url):
    settings = replace(settings, chroma_url=chroma_url)
    report = ingest([SAMPLE], settings)
    assert len(report.added) == 3

    store = open_store(settings)
    assert store.count() == report.clauses == sum(v.clauses for v in store.versions())
    assert not (settings.data_dir / "chroma").exists()  # the vectors live in the server, not the data folder

    question = Embedder().embed_query("Do you use my posts to train artificial intelligence models?")
    for day in ("2022-03-01", "2023-10-01"):
        info = store.get_version("chirp", "privacy-policy", day)
        hits = store.query(question, info, 4)
        clauses = {c.clause_id: c for c in store.clauses("chirp", "privacy-policy", day)}
        assert len(hits) == 4 and all(cid in clauses for cid, _ in hits)
        assert all(-1.0 <= score <= 1.0 for _, score in hits)
    newer = store.get_version("chirp", "privacy-policy", "2023-10-01")
    top = store.clauses("chirp", "privacy-policy", "2023-10-01")
    top_text = {c.clause_id: c.text for c in top}[store.query(question, newer, 1)[0][0]]
    assert "train" in top_text.lower() or "machine learning" in top_text.lower()

    again = ingest([SAMPLE], settings)
    assert (again.added, len(again.unchanged), again.new_embeddings) == ([], 3, 0)
