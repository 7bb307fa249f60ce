"""`check`: fetch every remembered source, index a version only when its clean text changed, and for
each new version write the clause-level change report and an entry of the Atom feed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ingest.embedder import Embedder
from ingest.errors import ClauseCiteError
from ingest.fetch import SourceEntry, fetch_one
from ingest.files import write_atomic
from ingest.pipeline import ingest, open_store
from ingest.watch import WatchedSource, fetch_policy, load_sources, pick_date, same_text, today
from qa.compare import align, counts, report_markdown
from qa.feed import FeedEntry, add_entries, feed_path, now, write_feed
from settings import Settings

UNCHANGED, NEW, FAILED = "unchanged", "new version", "failed"


@dataclass(frozen=True)
class CheckLine:
    """What a check found for one source: unchanged, a new version (with its counts), or why it failed."""

    source: WatchedSource
    status: str
    version: str = ""
    previous: str = ""
    added: int = 0
    removed: int = 0
    changed: int = 0
    sections: tuple[str, ...] = ()
    report: str = ""
    reason: str = ""

    def text(self) -> str:
        """The one line a person reads for this source."""
        name = self.source.name
        if self.status == FAILED:
            return f"{name}: failed: {self.reason}"
        if self.status == UNCHANGED:
            return f"{name}: unchanged ({self.version})" if self.version else f"{name}: unchanged"
        if not self.previous:
            return f"{name}: new version {self.version}: first version indexed"
        return f"{name}: new version {self.version}: {self.added} added, {self.removed} removed, {self.changed} changed"


def check(
    settings: Settings,
    *,
    services: tuple[str, ...] = (),
    embedder: Embedder | None = None,
    progress: Callable[[CheckLine], None] | None = None,
) -> list[CheckLine]:
    """Check every remembered source (or those of `services`); a failure is one line, the rest still run."""
    sources = [s for s in load_sources(settings.data_dir) if not services or s.service in services]
    lines = []
    for src in sources:
        try:
            line = _check_one(src, settings, embedder)
        except (ClauseCiteError, OSError) as exc:  # this source failed; the others still run
            line = CheckLine(src, FAILED, reason=str(exc))
        lines.append(line)
        if progress is not None:
            progress(line)
    new = [_entry(line) for line in lines if line.status == NEW]
    if new:
        add_entries(settings.data_dir, new[::-1])  # the feed lists newest first
    elif not feed_path(settings.data_dir).exists():
        write_feed(settings.data_dir, [])  # a feed reader can subscribe before the first change
    return lines


def _check_one(src: WatchedSource, settings: Settings, embedder: Embedder | None) -> CheckLine:
    store = open_store(settings)
    if src.pinned:
        if store.get_version(src.service, src.document, src.effective_date):
            return CheckLine(src, UNCHANGED, src.effective_date)
        entry = SourceEntry(src.service, src.document, src.title, src.effective_date, src.url, src.sha256)
        path, _ = fetch_one(entry, settings.data_dir / "sources", timeout=settings.fetch_timeout)
        return _index(src, path, src.effective_date, settings, embedder)  # source: the manifest's URL
    fetched = fetch_policy(src.url, settings, service=src.service, document=src.document)
    versions = store.versions(src.service, src.document)
    newest = versions[-1].version if versions else ""
    if newest and same_text(store.clean_text(src.service, src.document, newest), fetched.clean):
        fetched.path.unlink(missing_ok=True)  # a copy of what is indexed already: nothing to keep
        return CheckLine(src, UNCHANGED, newest)
    return _index(src, fetched.path, pick_date(fetched.stated, newest, today()), settings, embedder)


def _index(src: WatchedSource, path: Path, date: str, settings: Settings, embedder: Embedder | None) -> CheckLine:
    """Index one new version, then write its change report against the version before it."""
    ingest(
        [path], settings, service=src.service, document=src.document, version=date, embedder=embedder, source=src.url
    )
    store = open_store(settings)
    earlier = [v.version for v in store.versions(src.service, src.document) if v.version < date]
    if not earlier:
        return CheckLine(src, NEW, date)
    previous = earlier[-1]
    changes = align(store.clauses(src.service, src.document, previous), store.clauses(src.service, src.document, date))
    old, new = f"{src.name}@{previous}", f"{src.name}@{date}"
    report = settings.data_dir / "changes" / src.service / src.document / f"{previous}_to_{date}.md"
    write_atomic(report, report_markdown(changes, old, new).encode("utf-8"))
    n = counts(changes)
    sections = tuple(
        dict.fromkeys(ch.section or "(no section)" for ch in changes if ch.status not in ("same", "moved"))
    )
    return CheckLine(src, NEW, date, previous, n["added"], n["removed"], n["changed"], sections, str(report))


def _entry(line: CheckLine) -> FeedEntry:
    s = line.source
    return FeedEntry(
        s.service,
        s.document,
        line.version,
        line.previous,
        now(),
        s.url,
        line.added,
        line.removed,
        line.changed,
        list(line.sections),
    )
