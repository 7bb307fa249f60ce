"""A retrained encoder (`make model`) must not meet clause vectors of the weights before it: its index
and vector cache carry a digest of its weights, and a data folder indexed with the old build says to
ingest again."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import replace

import pytest

from ingest.embedder import LAYERS, SHIPPED, Embedder, model_label
from ingest.pipeline import ensure_indexed, ingest, open_store
from qa.retrieve import Retriever, ScopeError
from settings import Settings
from tests.helpers import SAMPLE, HashEmbedder

pytestmark = pytest.mark.fast  # hashed vectors: no model is loaded


def _encoder(folder, weights: bytes):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / LAYERS).write_bytes(weights)
    return str(folder)


def test_a_fine_tuned_model_is_labelled_with_a_digest_of_its_weights(tmp_path):
    name = _encoder(tmp_path / "encoder", b"weights of one training run")
    first = model_label(name)
    assert first == "encoder-" + hashlib.sha256(b"weights of one training run").hexdigest()[:8]

    _encoder(tmp_path / "encoder", b"weights of the next run")
    assert model_label(name) != first
    assert model_label("all-MiniLM-L6-v2") == "all-MiniLM-L6-v2"  # packaged: fixed by its package

    shipped = hashlib.sha256((SHIPPED / "clausecite-minilm" / LAYERS).read_bytes()).hexdigest()[:8]
    assert model_label("clausecite-minilm") == f"clausecite-minilm-{shipped}"


def test_retraining_the_encoder_moves_its_collection_and_vector_cache(tmp_path):
    name = _encoder(tmp_path / "encoder", b"old weights")
    settings = Settings(data_dir=tmp_path / "data", embedding_model=name)
    old_collection = settings.collection_name
    old_cache = Embedder(name, settings.data_dir)._cache

    _encoder(tmp_path / "encoder", b"new weights")
    assert settings.collection_name != old_collection
    assert model_label(name) in settings.collection_name
    new_cache = Embedder(name, settings.data_dir)._cache
    assert old_cache is not None and new_cache is not None
    assert new_cache.path != old_cache.path  # vectors cached for the old weights are not reused


def test_a_folder_indexed_with_the_old_build_says_to_ingest_again(tmp_path, caplog):
    name = _encoder(tmp_path / "encoder", b"old weights")
    settings = Settings(data_dir=tmp_path / "data", embedding_model=name, default_corpus=SAMPLE)
    ingest([SAMPLE], settings, embedder=HashEmbedder(name, settings.data_dir))
    old = settings.collection_name
    assert Retriever(settings, learned=False).resolve("chirp").version == "2025-02-01"

    _encoder(tmp_path / "encoder", b"new weights")  # `make model` retrained it
    assert open_store(settings).versions() == []  # the old vectors are not used with the new weights
    with pytest.raises(ScopeError, match="ingest") as err:
        Retriever(settings, learned=False).resolve("chirp")
    assert old in str(err.value)

    with caplog.at_level(logging.WARNING):
        report = ensure_indexed(settings, embedder=HashEmbedder(name, settings.data_dir))
    assert report is not None and len(report.added) == 3
    assert any(old in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    assert Retriever(replace(settings), learned=False).resolve("chirp").version == "2025-02-01"
