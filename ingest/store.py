"""The clause index: Chroma for vectors (embedded or server), JSON version files as the catalog.

The only importer of chromadb. A version becomes visible only when its catalog file is written,
which happens last and atomically (temp file + os.replace); queries filter on the catalog's sha256,
so clauses of a half-written or replaced version are never returned.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

from ingest.errors import ClauseCiteError, InputError
from ingest.files import write_atomic
from ingest.records import Clause, PolicyVersion, version_key

log = logging.getLogger(__name__)
NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_CLIENTS: dict[str, object] = {}
_LOCK = threading.Lock()


class StoreError(ClauseCiteError, RuntimeError):
    """The data folder or Chroma server cannot be used; the message says how to recover."""


def check_name(kind: str, name: str) -> str:
    """Refuse service/document names that could escape the data folder or confuse the layout."""
    if not NAME.match(name or "") or ".." in name:
        raise InputError(
            f"{kind} name {name!r} is not allowed: use lower-case letters, digits, '.', "
            "'_' or '-' (for example 'x' or 'privacy-policy')"
        )
    return name


@dataclass(frozen=True)
class VersionInfo:
    """A complete version in the catalog: its name, title, source, sha256 and clause count."""

    service: str
    document: str
    version: str
    title: str
    source: str
    sha256: str
    clauses: int

    @property
    def key(self) -> str:
        """`service/document@version`."""
        return version_key(self.service, self.document, self.version)


def _client(data_dir: Path, chroma_url: str) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    key = chroma_url or str(data_dir)
    with _LOCK:
        if key not in _CLIENTS:
            opts = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
            try:
                if chroma_url:
                    u = urlparse(chroma_url)
                    _CLIENTS[key] = chromadb.HttpClient(
                        host=u.hostname or "127.0.0.1", port=u.port or 8000, ssl=u.scheme == "https", settings=opts
                    )
                else:
                    _CLIENTS[key] = chromadb.PersistentClient(path=str(data_dir / "chroma"), settings=opts)
            except Exception as exc:
                # the catalog and the vectors are rebuilt together: moving only chroma/ aside would leave
                # versions that ingest calls "unchanged" but that have no vectors
                fix = (
                    "start the server"
                    if chroma_url
                    else f"move the data folder {data_dir} aside and run `clausecite ingest` again to rebuild it"
                )
                raise StoreError(
                    f"cannot open the Chroma index at {chroma_url or data_dir / 'chroma'} ({exc}); {fix}"
                ) from exc
        return _CLIENTS[key]


class ClauseStore:
    """Clauses of every complete version: vectors in Chroma, records in catalog files."""

    def __init__(self, data_dir: Path, collection: str, chroma_url: str = ""):
        self.data_dir = Path(data_dir)
        self.catalog_dir = self.data_dir / "versions" / collection  # a catalog per model and recipe
        self.catalog_dir.mkdir(parents=True, exist_ok=True)
        self.chroma_url = chroma_url
        self._name = collection
        self._collections: dict[tuple[str, str], object] = {}
        self._cache: dict[str, tuple[str, list[Clause]]] = {}
        self._infos: dict[str, tuple[int, VersionInfo]] = {}

    def collection(self, service: str, document: str) -> Any:
        """The Chroma collection of one document's versions, opened once (cosine space).

        One collection per document keeps a scoped query's cost tied to that document's size, not to
        everything indexed.
        """
        key = (service, document)
        if key not in self._collections:
            name = f"{self._name}--{check_name('service', service)}--{check_name('document', document)}"
            self._collections[key] = self._guard(
                lambda: self._client().get_or_create_collection(
                    name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
                )
            )
        return self._collections[key]

    def _client(self):
        return _client(self.data_dir, self.chroma_url)

    def _guard(self, action):
        try:
            return action()
        except StoreError:
            raise
        except Exception as exc:
            raise StoreError(
                f"the Chroma index for {self._name!r} cannot be used ({exc}); move "
                f"{self.data_dir} aside and ingest again to rebuild it"
            ) from exc

    # catalog -------------------------------------------------------------------------------
    def _catalog_path(self, service: str, document: str, version: str) -> Path:
        return self.catalog_dir / check_name("service", service) / check_name("document", document) / f"{version}.json"

    def versions(self, service: str = "", document: str = "") -> list[VersionInfo]:
        """Complete versions, sorted by service, document and date."""
        pattern = f"{service or '*'}/{document or '*'}/*.json"
        return [self._info_at(p) for p in sorted(self.catalog_dir.glob(pattern)) if not p.name.startswith(".")]

    def other_indexes(self) -> list[str]:
        """Catalogs in this data folder made for another model or recipe (or an earlier build of the
        model) that hold versions: what a user upgraded from, and must ingest again."""
        return sorted(
            d.name
            for d in (self.data_dir / "versions").iterdir()
            if d.is_dir() and d != self.catalog_dir and any(d.glob("*/*/*.json"))
        )

    def _info_at(self, path: Path) -> VersionInfo:
        """A catalog file's version entry, parsed once per change of the file (questions ask often)."""
        try:
            stamp = path.stat().st_mtime_ns
        except OSError as exc:
            raise StoreError(f"catalog file {path} vanished ({exc}); run the command again") from exc
        cached = self._infos.get(str(path))
        if cached is None or cached[0] != stamp:
            try:
                cached = (stamp, VersionInfo(**self._read(path)["version"]))
            except TypeError as exc:  # fields missing or unknown
                raise _unreadable(path, f"its version entry does not fit ({exc})") from exc
            self._infos[str(path)] = cached
        return cached[1]

    def _read(self, path: Path) -> dict:
        try:
            data = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise _unreadable(path, str(exc)) from exc
        # valid JSON is not enough: `{}` or `null` left by a bad copy must not become a traceback
        if not (
            isinstance(data, dict)
            and isinstance(data.get("version"), dict)
            and isinstance(data.get("text"), str)
            and isinstance(data.get("clauses"), list)
        ):
            raise _unreadable(path, f"it holds {json.dumps(data)[:40]} instead of a version")
        return data

    def get_version(self, service: str, document: str, version: str) -> VersionInfo | None:
        """Catalog entry of one version, or None."""
        path = self._catalog_path(service, document, version)
        return self._info_at(path) if path.exists() else None

    def clean_text(self, service: str, document: str, version: str) -> str:
        """The version's clean text, which clause offsets index into."""
        return self._read(self._catalog_path(service, document, version))["text"]

    def clauses(self, service: str, document: str, version: str) -> list[Clause]:
        """All clauses of a complete version, in order (cached per process by sha256)."""
        path = self._catalog_path(service, document, version)
        if not path.exists():
            return []
        key = str(path)
        stamp = f"{path.stat().st_mtime_ns}"
        if key not in self._cache or self._cache[key][0] != stamp:
            data = self._read(path)
            self._cache[key] = (stamp, [Clause.from_dict(c) for c in data["clauses"]])
        return self._cache[key][1]

    # writing -------------------------------------------------------------------------------
    def write(self, version: PolicyVersion, clauses: list[Clause], vectors: np.ndarray, batch: int = 256) -> None:
        """Upsert clause vectors, then commit the catalog file, then drop stale vectors."""
        col = self.collection(version.service, version.document)
        for i in range(0, len(clauses), batch):
            part = clauses[i : i + batch]
            col.upsert(
                ids=[_vector_id(c.clause_id, version.sha256) for c in part],
                embeddings=vectors[i : i + batch].tolist(),
                # no documents: the catalog holds the texts, and Chroma would build a full-text index of them
                metadatas=[self._meta(c, version.sha256) for c in part],
            )
        # vectors written but catalog not: a kill here proves the half is never seen
        pause_for_crash_test(
            "CLAUSECITE_TEST_PAUSE_AFTER_UPSERT", "paused after upserting %d vectors of %s", len(clauses), version.key
        )
        info = VersionInfo(
            version.service,
            version.document,
            version.effective_date,
            version.title,
            version.source,
            version.sha256,
            len(clauses),
        )
        payload = {"version": info.__dict__, "text": version.text, "clauses": [c.to_dict() for c in clauses]}
        write_atomic(
            self._catalog_path(version.service, version.document, version.effective_date),
            json.dumps(payload, ensure_ascii=False).encode("utf-8"),
        )
        col.delete(
            where={
                "$and": [
                    {"service": version.service},
                    {"document": version.document},
                    {"version": version.effective_date},
                    {"sha": {"$ne": version.sha256}},
                ]
            }
        )

    @staticmethod
    def _meta(c: Clause, sha: str) -> dict:
        # only what queries and deletes filter on (the catalog has the rest): each field costs upsert time
        return {
            "service": c.service,
            "document": c.document,
            "version": c.version,
            "sha": sha,
            "vkey": _vkey(c.service, c.document, c.version, sha),
        }

    def query(self, vector: np.ndarray, info: VersionInfo, n: int) -> list[tuple[str, float]]:
        """(clause_id, cosine similarity) of the n nearest clauses of one complete version."""
        where = {"vkey": _vkey(info.service, info.document, info.version, info.sha256)}  # one equality: fast
        col = self.collection(info.service, info.document)
        res = col.query(query_embeddings=[np.asarray(vector).tolist()], n_results=n, where=where, include=["distances"])
        return [(i.split("@", 1)[0], 1.0 - float(d)) for i, d in zip(res["ids"][0], res["distances"][0], strict=True)]

    def vector_count(self, info: VersionInfo) -> int:
        """Vectors stored for exactly this version's text (its catalog entry says how many it needs)."""
        col = self.collection(info.service, info.document)
        where = {"vkey": _vkey(info.service, info.document, info.version, info.sha256)}
        return self._guard(lambda: len(col.get(where=where, include=[])["ids"]))

    def incomplete(self) -> list[tuple[VersionInfo, int]]:
        """Catalog versions with fewer vectors than clauses (a lost or copied-in-part `chroma/`): (version, vectors)."""
        counts = [(info, self.vector_count(info)) for info in self.versions()]
        return [(info, n) for info, n in counts if n < info.clauses]

    def incomplete_note(self, service: str, document: str, version: str) -> str:
        """What a person must know when one version's vectors are missing, or ''."""
        info = self.get_version(service, document, version)
        have = self.vector_count(info) if info else 0
        if info is None or have >= info.clauses:
            return ""
        return (
            f"the index is incomplete: {info.key} has {have} of its {info.clauses} clause vectors, so "
            "answers come from word matches alone; run `clausecite ingest` (any folder) to rebuild them"
        )

    def count(self) -> int:
        """Vectors in all of this store's collections (including any left by an interrupted ingest)."""

        def total() -> int:
            cols = [c for c in self._client().list_collections() if c.name.startswith(f"{self._name}--")]
            return sum(c.count() for c in cols)

        return self._guard(total)


def _unreadable(path: Path, why: str) -> StoreError:
    return StoreError(f"catalog file {path} is unreadable ({why}); delete it and ingest that version again")


def pause_for_crash_test(variable: str, message: str, *args: object) -> None:
    """Where tests/reliability kills an ingest: when the environment variable `variable` gives seconds,
    log `message` (the line the test waits for) and sleep."""
    seconds = float(os.environ.get(variable) or 0)
    if seconds:
        log.warning(message, *args)
        time.sleep(seconds)


def _vector_id(clause_id: str, sha: str) -> str:
    # a replacement's unchanged clauses keep their clause id; without the sha their upsert would relabel
    # the indexed version's vectors, which then vanish from its queries until the catalog is rewritten
    return f"{clause_id}@{sha[:16]}"


def _vkey(service: str, document: str, version: str, sha: str) -> str:
    """One metadata value naming a version's exact text, so a query filters on a single field."""
    return f"{version_key(service, document, version)}#{sha[:16]}"
