"""Ingest: sources -> clean text -> clauses -> embeddings -> store, one version at a time."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ingest.chunking import chunk
from ingest.embedder import DIM, Embedder
from ingest.errors import InputError
from ingest.loaders import LoadError, find_effective_date, find_title, load_clean
from ingest.records import Clause, PolicyVersion, sha256_text
from ingest.sources import VersionSource, check_one_file_per_version, discover, single
from ingest.store import ClauseStore, pause_for_crash_test
from ingest.worker import load_clean_isolated
from settings import Settings

Progress = Callable[[str, int, int], None]
log = logging.getLogger(__name__)


class VersionConflict(InputError):
    """Same service/document/date already indexed with different text."""


@dataclass
class IngestReport:
    """What an ingest did: versions added, replaced or unchanged, clauses, new embeddings, time."""

    added: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    clauses: int = 0
    distinct_texts: int = 0
    new_embeddings: int = 0
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """What a person reads at the end of an ingest: one line, then a line per warning."""
        line = (
            f"{len(self.added)} version(s) indexed, {len(self.unchanged)} unchanged; "
            f"{self.clauses} clauses, {self.new_embeddings} new embeddings, {self.seconds:.1f} s"
        )
        fixed = (
            [
                f"repaired {len(self.repaired)} version(s) whose vectors were missing, from the catalog's "
                f"texts: {', '.join(self.repaired)}"
            ]
            if self.repaired
            else []
        )
        return "\n".join(
            [line, *fixed] + [f"skipped {s}" for s in self.skipped] + [f"warning: {w}" for w in self.warnings]
        )


def open_store(settings: Settings) -> ClauseStore:
    """The clause store that the settings point at."""
    return ClauseStore(settings.data_dir, settings.collection_name, settings.chroma_url)


def read_version(src: VersionSource, settings: Settings, clean_timeout: float = 0) -> PolicyVersion:
    """Load one source into a PolicyVersion of clean text (in a child process when given a time limit)."""
    text = (
        load_clean_isolated(src.path, settings.max_upload_bytes, clean_timeout)
        if clean_timeout
        else load_clean(src.path, settings.max_upload_bytes)
    )
    return PolicyVersion(
        src.service,
        src.document,
        src.effective_date,
        text,
        title=src.title or find_title(text),
        source=src.source or str(src.path),
        sha256=sha256_text(text),
    )


def collect(
    paths: list[Path],
    service: str = "",
    document: str = "",
    version: str = "",
    skipped: list[str] | None = None,
    source: str = "",
) -> list[VersionSource]:
    """Version sources from folders (layout) and single files (flags, name or text); files in a
    folder's layout that cannot be indexed go to `skipped`, each with the reason."""
    found: list[VersionSource] = []
    for p in map(Path, paths):
        if p.is_dir():
            found.extend(discover(p, skipped))
        elif p.is_file():
            date = version
            if not date and not p.stem[:4].isdigit():
                date = find_effective_date(load_clean(p))
            found.append(single(p, service, document, date, source=source))
        else:
            raise LoadError(f"{p}: no such file or folder; check the path")
    check_one_file_per_version(found)
    return found


def ingest(
    paths: list[Path],
    settings: Settings,
    *,
    service: str = "",
    document: str = "",
    version: str = "",
    replace: bool = False,
    progress: Progress | None = None,
    embedder: Embedder | None = None,
    clean_timeout: float = 0,
    skip_bad: bool = False,
    source: str = "",
) -> IngestReport:
    """Index every version found under `paths`; unchanged versions cost nothing.

    With `clean_timeout`, each file is cleaned in a child process and refused after that many seconds
    (the app does this, so an upload never stalls other people's questions). A policy file in a
    folder's layout that cannot be indexed stops the run before anything is written, unless `skip_bad`.
    `source` names where a single file came from (the URL of a fetched page).
    """
    t0 = time.perf_counter()
    skipped: list[str] = []
    sources = collect(paths, service, document, version, skipped, source)
    if skipped and not skip_bad:
        raise LoadError(
            f"{len(skipped)} policy file(s) cannot be indexed, so nothing was:\n"
            + "".join(f"  {s}\n" for s in skipped)
            + "fix or rename them, or pass --skip-bad to index the rest"
        )
    versions = [read_version(s, settings, clean_timeout) for s in sources]  # bad input stops before writing
    store = open_store(settings)
    store.count()  # a damaged index fails here, instead of calling every version "unchanged"
    embedder = embedder or Embedder(settings.embedding_model, settings.data_dir)
    report = IngestReport(skipped=skipped)
    _repair(store, embedder, report)
    todo = [(v, chunk(v, settings.max_clause_chars)) for v in versions if not _unchanged(store, v, replace, report)]
    report.warnings = [w for v, clauses in todo for w in _shrunken(v, clauses, store, todo)]
    every = [c for _, clauses in todo for c in clauses]
    total = len(every)
    tick = (lambda done, new: progress("embed", done, new)) if progress else None
    # one call for all versions: batches of like-length texts across versions, no half-empty batches;
    # a re-ingest of unchanged versions never opens the embedding cache
    vectors, report.new_embeddings = (
        embedder.embed_cached([c.content_hash for c in every], [c.text for c in every], tick)
        if todo
        else (np.zeros((0, DIM), np.float32), 0)
    )
    second = embedder.second_opinion()
    if todo and second is not embedder:  # the ranker's second opinion: cached, so no question waits for it
        tick = (lambda done, new: progress("second embedding", done, new)) if progress else None
        second.embed_cached([c.content_hash for c in every], [c.text for c in every], tick)
    if todo:  # clauses embedded (the vector cache may hold them), nothing indexed yet: a kill here loses nothing
        pause_for_crash_test("CLAUSECITE_TEST_PAUSE_BEFORE_WRITE", "paused before writing %d version(s)", len(todo))
    done = 0
    for v, clauses in todo:
        store.write(v, clauses, vectors[done : done + len(clauses)])
        done += len(clauses)
        report.added.append(v.key)
        report.clauses += len(clauses)
        if progress:
            progress("version", done, total)
    report.distinct_texts = len({c.content_hash for c in every})
    report.seconds = time.perf_counter() - t0
    return report


def _repair(store: ClauseStore, embedder: Embedder, report: IngestReport) -> None:
    """Re-embed every catalog version whose vectors are missing or short, from the catalog's own texts.

    Without this, a lost `chroma/` left every version "unchanged" and answers quietly came from BM25 alone.
    """
    for info, _ in store.incomplete():
        clauses = store.clauses(info.service, info.document, info.version)
        version = PolicyVersion(
            info.service,
            info.document,
            info.version,
            store.clean_text(info.service, info.document, info.version),
            title=info.title,
            source=info.source,
            sha256=info.sha256,
        )
        vectors, new = embedder.embed_cached([c.content_hash for c in clauses], [c.text for c in clauses])
        store.write(version, clauses, vectors)
        report.repaired.append(info.key)
        report.new_embeddings += new


SHRUNK_TO = 0.1  # a section keeping under a tenth of its text in the version before...
SHRUNK_FROM = 1000  # ...of at least this many characters was probably cut short in the capture


def section_sizes(clauses: list[Clause]) -> dict[str, int]:
    """Characters of clause text per section."""
    sizes: dict[str, int] = {}
    for c in clauses:
        sizes[c.section] = sizes.get(c.section, 0) + len(c.text)
    return sizes


def shrunken_sections(clauses: list[Clause], neighbour: list[Clause]) -> list[tuple[str, int, int]]:
    """Sections (same heading) that kept under SHRUNK_TO of their text in `neighbour`: (section, now, there)."""
    now, there = section_sizes(clauses), section_sizes(neighbour)
    return [
        (s, now[s], there[s]) for s in now if s and there.get(s, 0) >= SHRUNK_FROM and now[s] < SHRUNK_TO * there[s]
    ]


def _shrunken(
    v: PolicyVersion, clauses: list[Clause], store: ClauseStore, todo: list[tuple[PolicyVersion, list[Clause]]]
) -> list[str]:
    """Warnings for sections of `v` that lost most of their text since the version before it.

    Only the version before counts: policies grow sections over time, and a later version that
    restructures its text is no sign that an earlier capture was cut short.
    """
    batch = {o.effective_date: cl for o, cl in todo if (o.service, o.document) == (v.service, v.document)}
    earlier = sorted(
        d for d in {i.version for i in store.versions(v.service, v.document)} | set(batch) if d < v.effective_date
    )
    if not earlier:
        return []
    near = earlier[-1]
    neighbour = batch.get(near) or store.clauses(v.service, v.document, near)
    return [
        f"{v.key}: section \u201c{s}\u201d has {now:,} characters of text against {there:,} in {near}; "
        "the capture may be cut short, so check its source"
        for s, now, there in shrunken_sections(clauses, neighbour)
    ]


def _unchanged(store: ClauseStore, v: PolicyVersion, replace: bool, report: IngestReport) -> bool:
    have = store.get_version(v.service, v.document, v.effective_date)
    if have is None:
        return False
    if have.sha256 == v.sha256:
        report.unchanged.append(v.key)
        return True
    if not replace:
        raise VersionConflict(
            f"{v.key} is already indexed with different text (from {have.source}); "
            "pass --replace to replace it, or give this version its own date"
        )
    return False


def ensure_indexed(settings: Settings, embedder: Embedder | None = None) -> IngestReport | None:
    """Index the default corpus when nothing is indexed yet (a first start); None when there was no need."""
    store = open_store(settings)
    if store.versions():
        return None
    if others := store.other_indexes():
        log.warning(
            "this data folder was indexed with another embedding model or an earlier build of it (%s); "
            "the sample corpus is indexed again now, and any other policies need `clausecite ingest` again",
            ", ".join(others),
        )
    log.info("index is empty; ingesting %s ...", settings.default_corpus)
    report = ingest([settings.default_corpus], settings, embedder=embedder)
    log.info("%s", report.summary())
    return report
