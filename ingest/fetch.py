"""Download the pinned public sources in a manifest, verify their sha256, and cache them on disk."""

from __future__ import annotations

import csv
import datetime
import hashlib
import http.client
import os
import re
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ingest.errors import InputError
from ingest.files import write_atomic

COLUMNS = ("service", "document", "title", "effective_date", "url", "sha256")
_HEADER = "\t".join(COLUMNS)
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
MAX_BYTES = 10 * 1024 * 1024  # as much as ingest accepts from a file


class FetchError(InputError):
    """A source could not be downloaded, or its bytes did not match the pinned sha256."""


@dataclass(frozen=True)
class SourceEntry:
    """One manifest row: where a policy version lives and the sha256 its bytes must have."""

    service: str
    document: str
    title: str
    effective_date: str
    url: str
    sha256: str

    @property
    def relpath(self) -> Path:
        """Where the version goes under a corpus folder: `<service>/<document>/<date>.md`."""
        return Path(self.service, self.document, f"{self.effective_date}.md")


def _is_iso_date(text: str) -> bool:
    """True for a real calendar date written YYYY-MM-DD."""
    try:
        return bool(_DATE.fullmatch(text)) and bool(datetime.date.fromisoformat(text))
    except ValueError:
        return False


def _entry(row: list[str], where: str) -> SourceEntry:
    """Validate one data row and build its SourceEntry."""
    if len(row) != len(COLUMNS):
        raise InputError(f"{where}: expected {len(COLUMNS)} tab-separated columns, found {len(row)}")
    service, document, title, date, url, sha = (cell.strip() for cell in row)
    for column, name in (("service", service), ("document", document)):
        # These become folder names, so anything else could escape the destination folder.
        if not _NAME.fullmatch(name):
            raise InputError(f"{where}: {column} {name!r} must match {_NAME.pattern} (lowercase, no slashes)")
    if not _is_iso_date(date):
        raise InputError(f"{where}: effective_date {date!r} is not an ISO date (YYYY-MM-DD)")
    if not url.startswith(("http://", "https://")):
        raise InputError(f"{where}: url {url!r} must start with http:// or https://")
    if not _SHA256.fullmatch(sha.lower()):
        raise InputError(f"{where}: sha256 {sha!r} must be 64 hexadecimal characters")
    return SourceEntry(service, document, title, date, url, sha.lower())


def read_manifest(path: str | os.PathLike[str]) -> list[SourceEntry]:
    """Parse a tab-separated sources manifest, refusing bad columns, names, dates, URLs or hashes."""
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    if not rows or tuple(cell.strip() for cell in rows[0]) != COLUMNS:
        found = "\t".join(rows[0]) if rows else "an empty file"
        raise InputError(f"{path}: header must be {_HEADER!r}, found {found!r}")
    return [_entry(row, f"{path}, line {n}") for n, row in enumerate(rows[1:], start=2) if any(row)]


def _sha256_file(path: Path) -> str | None:
    """sha256 of a file's bytes, or None when it does not exist."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return None


def _download(url: str, timeout: float, max_bytes: int = MAX_BYTES) -> bytes:
    """GET a URL's bytes, reading no more than `max_bytes`; every network failure becomes a FetchError."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            declared = int(response.headers.get("Content-Length") or 0)
            data = b"" if declared > max_bytes else response.read(max_bytes + 1)  # never the whole of a huge body
        if declared > max_bytes or len(data) > max_bytes:
            raise FetchError(
                f"{url} sends more than {max_bytes:,} bytes, over the limit for a policy; "
                "nothing was kept (save the page's policy text to a file and ingest that)"
            )
        return data
    except (OSError, http.client.HTTPException) as exc:  # URLError, HTTPError, timeouts are OSErrors
        raise FetchError(
            f"could not download {url}: {exc}. Check your network connection and try again, "
            "or work offline with the sample corpus in corpora/sample."
        ) from exc


def fetch_one(entry: SourceEntry, dest_dir: Path, *, timeout: float = 30) -> tuple[Path, bool]:
    """Make sure one entry is on disk and verified; return its path and whether it was downloaded."""
    target = Path(dest_dir) / entry.relpath
    if _sha256_file(target) == entry.sha256:
        return target, False
    data = _download(entry.url, timeout)
    got = hashlib.sha256(data).hexdigest()
    if got != entry.sha256:
        raise FetchError(
            f"{entry.url} returned bytes with sha256 {got}, but the manifest pins {entry.sha256}. "
            "The source may have changed or the download was tampered with; nothing was written. "
            "Check the URL, and update the manifest's sha256 only if you trust the new content."
        )
    write_atomic(target, data)
    return target, True


def fetch_sources(
    manifest_path: str | os.PathLike[str],
    dest_dir: str | os.PathLike[str],
    *,
    timeout: float = 30,
    progress: Callable[[SourceEntry, str], None] | None = None,
) -> list[Path]:
    """Fetch every manifest entry into `dest_dir`, reusing verified copies; stop at the first failure."""
    paths = []
    for entry in read_manifest(manifest_path):
        path, downloaded = fetch_one(entry, Path(dest_dir), timeout=timeout)
        if progress is not None:
            progress(entry, "downloaded" if downloaded else "cached")
        paths.append(path)
    return paths
