"""Policies followed by URL: the remembered sources, fetching one into clean text, and whether its text
is new (markup, whitespace, date stamps and tracking parameters are not)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ingest.embedder import Embedder
from ingest.errors import InputError
from ingest.files import write_atomic
from ingest.loaders import SUPPORTED, LoadError, find_effective_date, load_clean
from ingest.pipeline import IngestReport, ingest
from ingest.sources import check_date
from ingest.store import StoreError, check_name
from ingest.web import Page, get, guard_for
from settings import Settings

SOURCES_FILE = "watchlist.json"
_TYPES = {
    "text/html": ".html",
    "application/xhtml+xml": ".html",
    "text/markdown": ".md",
    "text/x-markdown": ".md",
    "text/plain": ".txt",
    "application/pdf": ".pdf",
}


@dataclass(frozen=True)
class WatchedSource:
    """A policy followed by URL: which service and document it is, and where it lives.

    `pinned` sources come from a manifest (`fetch`): their bytes are fixed by `sha256`, so a check only
    indexes them when their version (`effective_date`) is missing.
    """

    service: str
    document: str
    url: str
    added: str = ""
    pinned: bool = False
    effective_date: str = ""
    sha256: str = ""
    title: str = ""

    @property
    def name(self) -> str:
        """`service/document`."""
        return f"{self.service}/{self.document}"


def sources_path(data_dir: Path) -> Path:
    """Where the remembered sources live: `<data>/watchlist.json`."""
    return Path(data_dir) / SOURCES_FILE


def load_sources(data_dir: Path) -> list[WatchedSource]:
    """The remembered sources, in the order they were added ([] before the first)."""
    path = sources_path(data_dir)
    if not path.exists():
        return []
    try:
        rows = json.loads(path.read_text("utf-8"))["sources"]
        return [WatchedSource(**row) for row in rows]
    except (ValueError, KeyError, TypeError) as exc:
        raise StoreError(
            f"{path} is not a list of sources ({exc}); fix it, or delete it and add the URLs again"
        ) from None


def remember(data_dir: Path, *sources: WatchedSource) -> list[WatchedSource]:
    """Add sources (one per service, document and URL), writing the file atomically; returns them all."""
    have = load_sources(data_dir)
    known = {(s.service, s.document, s.url) for s in have}
    for s in sources:
        check_name("service", s.service), check_name("document", s.document)
        if (s.service, s.document, s.url) not in known:
            have.append(s)
            known.add((s.service, s.document, s.url))
    payload = {"sources": [asdict(s) for s in have]}
    write_atomic(sources_path(data_dir), (json.dumps(payload, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
    return have


# the same text ----------------------------------------------------------------------------------
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_DATEISH = re.compile(
    r"\b(?:\d{4}-\d{1,2}-\d{1,2}(?:[t ]\d{1,2}:\d{2}(?::\d{2})?(?:\.\d+)?(?:z|[+-]\d{2}:?\d{2})?)?"
    rf"|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}|\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH},?\s+\d{{4}}"
    r"|\d{1,2}[/.]\d{1,2}[/.]\d{2,4}|\d{1,2}:\d{2}(?::\d{2})?\s*(?:am|pm|utc|gmt)?)",
    re.IGNORECASE,
)
_STAMP_WORDS = {
    "effective",
    "date",
    "last",
    "updated",
    "update",
    "modified",
    "revised",
    "reviewed",
    "as",
    "of",
    "on",
    "at",
    "from",
    "generated",
    "published",
    "retrieved",
    "page",
    "this",
    "was",
    "version",
    "privacy",
    "policy",
    "utc",
    "gmt",
    "am",
    "pm",
}
_TRACKING = re.compile(
    r"^(?:utm_\w+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|igshid|_ga|_gl|ref|ref_src|si)$", re.IGNORECASE
)
_URL = re.compile(r"https?://[^\s)>\]]+")


def is_stamp(block: str) -> bool:
    """True for a block that only dates the page: "Last updated: May 3, 2025", "Effective 2024-01-01"."""
    rest = _DATEISH.sub(" ", block)
    if rest == block or len(block) > 120:
        return False
    return all(w in _STAMP_WORDS for w in re.findall(r"[a-z]+", rest.lower()))


def _untracked(url: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING.match(k)]
    return urlunsplit(parts._replace(query=urlencode(query)))


def comparable(clean: str) -> str:
    """Clean text as compared between checks: no date stamps, no tracking parameters, one space between words."""
    text = " ".join(b for b in clean.split("\n\n") if not is_stamp(b.strip("#-|* ")))
    return " ".join(_URL.sub(lambda m: _untracked(m.group(0)), text).split())


def same_text(old_clean: str, new_clean: str) -> bool:
    """True when two clean texts differ at most in markup, whitespace, date stamps or tracking parameters."""
    return comparable(old_clean) == comparable(new_clean)


def pick_date(stated: str, newest: str, today: str) -> str:
    """The date of a changed text: the one it states when that is after the newest version, else today."""
    if stated and stated > today:
        raise InputError(f"the new text takes effect on {stated}; check again on or after that day")
    if stated and stated > newest:
        return stated
    if today > newest:
        return today
    raise InputError(
        f"the text changed, but version {newest} is already indexed and no later date applies; "
        "check again tomorrow, or ingest the page with --version and --replace"
    )


# fetch and index --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Fetched:
    """A policy page on disk with its clean text and the effective date it states ('' when none)."""

    page: Page
    path: Path
    clean: str
    stated: str

    @property
    def date(self) -> str:
        """The stated effective date, else the fetch date."""
        return self.stated or self.page.fetched


def fetch_policy(url: str, settings: Settings, *, service: str, document: str) -> Fetched:
    """Download a policy page under `data/downloads/<service>/<document>/` and read its clean text.

    Private addresses are refused when the settings' host listens beyond loopback (ingest.web.guard_for).
    """
    check_name("service", service), check_name("document", document)
    guard = guard_for(settings.host, settings.allow_private_urls)
    page = get(url, timeout=settings.fetch_timeout, max_bytes=settings.max_upload_bytes, guard=guard)
    if page.content_type and not (page.content_type.startswith("text/") or page.content_type in _TYPES):
        raise LoadError(f"{url} is not a policy page: it sends {page.content_type}, not HTML, text or PDF")
    name = f"{page.fetched}-{hashlib.sha256(page.data).hexdigest()[:12]}{_extension(page)}"
    path = settings.data_dir / "downloads" / service / document / name
    write_atomic(path, page.data)
    try:
        clean = load_clean(path, settings.max_upload_bytes)
    except LoadError as exc:
        path.unlink(missing_ok=True)
        why = str(exc).removeprefix(f"{path}: ")
        raise LoadError(f"{url} is not a policy page: {why}") from None
    stated = find_effective_date(clean)
    try:
        stated = check_date(stated) if stated else ""
    except ValueError:
        stated = stated if stated > page.fetched else ""  # a future date is kept (pick_date says so); a bad one is not
    return Fetched(page, path, clean, stated)


def _extension(page: Page) -> str:
    """The file type: the URL's own extension, else the content type, else a look at the bytes."""
    suffix = Path(urlsplit(page.final_url).path).suffix.lower()
    if suffix in SUPPORTED:
        return suffix
    if page.content_type in _TYPES:
        return _TYPES[page.content_type]
    head = page.data[:2048].lstrip().lower()
    return ".pdf" if head.startswith(b"%pdf") else ".html" if b"<html" in head or b"<body" in head else ".txt"


def index_fetched(
    fetched: Fetched,
    settings: Settings,
    *,
    service: str,
    document: str,
    version: str = "",
    replace: bool = False,
    embedder: Embedder | None = None,
    progress: Callable | None = None,
) -> tuple[str, IngestReport]:
    """Index a fetched page as `version` (default: the date it states, else the fetch date) and remember its URL;
    `replace` replaces a version of that date indexed with other text."""
    date = check_date(version or fetched.date)
    report = ingest(
        [fetched.path],
        settings,
        service=service,
        document=document,
        version=date,
        replace=replace,
        embedder=embedder,
        progress=progress,
        source=fetched.page.url,
    )
    remember(settings.data_dir, WatchedSource(service, document, fetched.page.url, added=fetched.page.fetched))
    return date, report


def add_url(
    url: str,
    settings: Settings,
    *,
    service: str,
    document: str,
    version: str = "",
    replace: bool = False,
    embedder: Embedder | None = None,
    progress: Callable | None = None,
) -> tuple[Fetched, str, IngestReport]:
    """Fetch a policy URL, index it and remember it: (what was fetched, the version's date, the ingest report)."""
    fetched = fetch_policy(url, settings, service=service, document=document)
    date, report = index_fetched(
        fetched,
        settings,
        service=service,
        document=document,
        version=version,
        replace=replace,
        embedder=embedder,
        progress=progress,
    )
    return fetched, date, report


def date_note(fetched: Fetched, date: str) -> str:
    """Where a version's date came from, in words."""
    if date != fetched.date:
        return f"effective date {date} as given"
    if fetched.stated:
        return f"effective date {date} as the page states it"
    return f"no effective date stated on the page, so the fetch date {date}; pass --version to correct it"


def today() -> str:
    """Today's date, ISO."""
    return dt.date.today().isoformat()
