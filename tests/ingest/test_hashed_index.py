"""The sample corpus indexed with the hashed fake embedder: real Chroma and BM25, no model, in seconds."""

from __future__ import annotations

import pytest

from ingest.pipeline import ensure_indexed, ingest, open_store
from qa.compare import counts
from qa.retrieve import Retriever
from qa.service import compare_versions
from settings import Settings
from tests.helpers import SAMPLE, HashEmbedder

pytestmark = pytest.mark.fast


@pytest.fixture(scope="module")
def indexed(tmp_path_factory) -> Settings:
    settings = Settings.from_env(
        data_dir=tmp_path_factory.mktemp("hashed") / "data", chroma_url="", llm_base_url="", default_corpus=SAMPLE
    )
    report = ensure_indexed(settings, HashEmbedder())
    assert report is not None and len(report.added) == 3 and not report.warnings
    return settings


def test_first_start_indexes_the_default_corpus_once(indexed):
    assert ensure_indexed(indexed, HashEmbedder()) is None
    again = ingest([SAMPLE], indexed, embedder=HashEmbedder())
    assert again.unchanged and not again.added and again.new_embeddings == 0
    assert [v.version for v in open_store(indexed).versions("chirp")] == ["2022-03-01", "2023-10-01", "2025-02-01"]


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_fused_search_finds_the_deletion_clause(indexed, mode):
    r = Retriever(indexed, embedder=HashEmbedder(), learned=False)
    scope = r.resolve("chirp")
    hits = r.search("delete account", scope, k=4, mode=mode)
    assert hits and all(h.clause.version == "2025-02-01" for h in hits)
    assert any("delete" in h.clause.text.lower() for h in hits), [h.clause.text[:60] for h in hits]
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_comparison_of_two_versions_counts_each_kind_of_change(indexed):
    r = Retriever(indexed, embedder=HashEmbedder(), learned=False)
    cmp = compare_versions(r, "chirp/privacy-policy", "2023-10-01", "2025-02-01")
    n = counts(cmp.changes)
    assert (n["added"], n["removed"], n["changed"]) == (1, 0, 3) and cmp.new.key == "chirp/privacy-policy@2025-02-01"
