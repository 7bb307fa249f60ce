"""The Atom feed of new policy versions (`data/changes.atom`): entries kept as JSON, rendered as Atom."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ingest.files import write_atomic
from ingest.store import StoreError

ATOM = "http://www.w3.org/2005/Atom"
FEED_FILE = "changes.atom"
ENTRIES_FILE = Path("changes") / "feed.json"
MAX_ENTRIES = 200
TITLE = "ClauseCite: new versions of the policies you follow"
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # characters XML 1.0 cannot carry


@dataclass(frozen=True)
class FeedEntry:
    """One new version: which policy, against which earlier version, and what changed there."""

    service: str
    document: str
    version: str
    previous: str
    updated: str  # RFC 3339 time of the check that found it
    url: str
    added: int = 0
    removed: int = 0
    changed: int = 0
    sections: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        """A stable id: the same policy version is the same entry whoever checks it."""
        return uuid.uuid5(uuid.NAMESPACE_URL, f"clausecite:{self.service}/{self.document}@{self.version}").urn

    def summary(self) -> str:
        """One line: the counts, against which version."""
        since = f" since {self.previous}" if self.previous else " (first version indexed)"
        return f"{self.added} added, {self.removed} removed, {self.changed} changed clauses{since}"


def feed_path(data_dir: Path) -> Path:
    """`<data>/changes.atom`."""
    return Path(data_dir) / FEED_FILE


def load_entries(data_dir: Path) -> list[FeedEntry]:
    """The entries written so far, newest first."""
    path = Path(data_dir) / ENTRIES_FILE
    if not path.exists():
        return []
    try:
        return [FeedEntry(**row) for row in json.loads(path.read_text("utf-8"))]
    except (ValueError, TypeError) as exc:
        raise StoreError(f"{path} is unreadable ({exc}); delete it to start the feed again") from None


def add_entries(data_dir: Path, entries: list[FeedEntry]) -> Path:
    """Put new entries at the top (one per version), keep the newest MAX_ENTRIES, rewrite the feed; its path."""
    ids = {e.id for e in entries}
    kept = (list(entries) + [e for e in load_entries(data_dir) if e.id not in ids])[:MAX_ENTRIES]
    write_atomic(Path(data_dir) / ENTRIES_FILE, json.dumps([asdict(e) for e in kept], indent=1).encode("utf-8"))
    return write_feed(data_dir, kept)


def write_feed(data_dir: Path, entries: list[FeedEntry] | None = None) -> Path:
    """Write `changes.atom` atomically from the entries (read from disk when not given)."""
    entries = load_entries(data_dir) if entries is None else entries
    path = feed_path(data_dir)
    write_atomic(path, render_atom(entries))
    return path


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _text(parent: ET.Element, tag: str, text: str, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
    el.text = _NOT_XML.sub("", text)
    return el


def render_atom(entries: list[FeedEntry], updated: str = "") -> bytes:
    """A valid Atom 1.0 document with one entry per new version (pure: no I/O)."""
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    _text(feed, "id", uuid.uuid5(uuid.NAMESPACE_URL, "clausecite:changes").urn)
    _text(feed, "title", TITLE)
    _text(feed, "updated", updated or (entries[0].updated if entries else _now()))
    author = ET.SubElement(feed, f"{{{ATOM}}}author")
    _text(author, "name", "ClauseCite")
    _text(feed, "generator", "ClauseCite")
    for e in entries:
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        _text(entry, "id", e.id)
        _text(entry, "title", f"{e.service}/{e.document}: new version {e.version}")
        _text(entry, "updated", e.updated)
        if e.url:
            ET.SubElement(entry, f"{{{ATOM}}}link", {"rel": "alternate", "href": e.url})
        _text(entry, "summary", e.summary())
        for section in e.sections:
            ET.SubElement(entry, f"{{{ATOM}}}category", {"term": _NOT_XML.sub("", section)[:200]})
        body = "Changed sections: " + "; ".join(e.sections) if e.sections else "No section changed."
        _text(entry, "content", f"{e.summary()}. {body}", type="text")
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="utf-8") + b"\n"


def now() -> str:
    """The current UTC time as Atom wants it (RFC 3339)."""
    return _now()
