"""Ingest: sources -> clean text -> clauses -> embeddings -> store, one version at a time."""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ingest.chunking import chunk
from ingest.embedder import Embedder
from ingest.loaders import LoadError, find_effective_date, find_title, load_clean
from ingest.records import PolicyVersion, sha256_text
from ingest.sources import VersionSource, discover, single
from ingest.store import ClauseStore
from settings import Settings

Progress = Callable[[str, int, int], None]


class VersionConflict(ValueError):
    """Same service/document/date already indexed with different text."""


@dataclass
class IngestReport:
    """What an ingest did: versions added, replaced or unchanged, clauses, new embeddings, time."""

    added: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    clauses: int = 0
    distinct_texts: int = 0
    new_embeddings: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        """One line a person reads at the end of an ingest."""
        return (f"{len(self.added)} version(s) indexed, {len(self.unchanged)} unchanged; "
                f"{self.clauses} clauses, {self.new_embeddings} new embeddings, {self.seconds:.1f} s")


def open_store(settings: Settings) -> ClauseStore:
    """The clause store that the settings point at."""
    return ClauseStore(settings.data_dir, settings.collection_name, settings.chroma_url)


def read_version(src: VersionSource, settings: Settings) -> PolicyVersion:
    """Load one source into a PolicyVersion of clean text."""
    text = load_clean(src.path, settings.max_upload_bytes)
    return PolicyVersion(src.service, src.document, src.effective_date, text,
                         title=src.title or find_title(text), source=src.source or str(src.path),
                         sha256=sha256_text(text))


def collect(paths: list[Path], service: str = "", document: str = "", version: str = "") -> list[VersionSource]:
    """Version sources from folders (layout) and single files (flags, name or text)."""
    found: list[VersionSource] = []
    for p in map(Path, paths):
        if p.is_dir():
            found.extend(discover(p))
        elif p.is_file():
            date = version
            if not date and not p.stem[:4].isdigit():
                date = find_effective_date(load_clean(p))
            found.append(single(p, service, document, date))
        else:
            raise LoadError(f"{p}: no such file or folder; check the path")
    return found


def ingest(paths: list[Path], settings: Settings, *, service: str = "", document: str = "",
           version: str = "", replace: bool = False, progress: Progress | None = None,
           embedder: Embedder | None = None) -> IngestReport:
    """Index every version found under `paths`; unchanged versions cost nothing."""
    t0 = time.perf_counter()
    sources = collect(paths, service, document, version)
    versions = [read_version(s, settings) for s in sources]  # read all first: bad input stops before writing
    store = open_store(settings)
    store.count()  # a damaged index fails here, instead of calling every version "unchanged"
    embedder = embedder or Embedder(settings.embedding_model, settings.data_dir)
    report = IngestReport()
    todo = [(v, chunk(v, settings.max_clause_chars)) for v in versions
            if not _unchanged(store, v, replace, report)]
    every = [c for _, clauses in todo for c in clauses]
    total = len(every)
    tick = (lambda done, new: progress("embed", done, new)) if progress else None
    # one call for all versions: batches of like-length texts across versions, no half-empty batches;
    # a re-ingest of unchanged versions never opens the embedding cache
    vectors, report.new_embeddings = embedder.embed_cached(
        [c.content_hash for c in every], [c.text for c in every], tick) if todo else (None, 0)
    done = 0
    for v, clauses in todo:
        store.write(v, clauses, vectors[done:done + len(clauses)])
        done += len(clauses)
        report.added.append(v.key)
        report.clauses += len(clauses)
        if progress:
            progress("version", done, total)
    report.distinct_texts = len({c.content_hash for c in every})
    report.seconds = time.perf_counter() - t0
    return report


def _unchanged(store: ClauseStore, v: PolicyVersion, replace: bool, report: IngestReport) -> bool:
    have = store.get_version(v.service, v.document, v.effective_date)
    if have is None:
        return False
    if have.sha256 == v.sha256:
        report.unchanged.append(v.key)
        return True
    if not replace:
        raise VersionConflict(f"{v.key} is already indexed with different text (from {have.source}); "
                              "pass --replace to replace it, or give this version its own date")
    return False
