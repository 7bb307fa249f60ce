"""Adding an uploaded file: check its type and size, keep it under the data folder, index it, clean up.

The app's "Add a policy" tab and batch upload call this; nothing here knows about Gradio.
"""

from __future__ import annotations

import logging
import shutil
import uuid
from pathlib import Path

from ingest.embedder import Embedder
from ingest.errors import InputError
from ingest.loaders import SUPPORTED
from ingest.pipeline import IngestReport, Progress, ingest
from ingest.records import version_key
from ingest.sources import check_date
from ingest.store import check_name
from settings import Settings

log = logging.getLogger(__name__)
CLEAN_SECONDS = 60  # an upload is cleaned in a child process and refused after this long


def check_upload(path: str | Path | None, max_bytes: int, allowed: tuple[str, ...], what: str) -> Path:
    """An uploaded file whose type and size are within limits, or an InputError saying why not."""
    if not path:
        raise InputError(f"choose a {what} file to upload")
    p = Path(path)
    if p.suffix.lower() not in allowed:
        raise InputError(f"{p.name}: unsupported file type {p.suffix or '(none)'}; use one of {', '.join(allowed)}")
    size = p.stat().st_size
    if size > max_bytes:
        raise InputError(f"{p.name}: {size:,} bytes is over the {max_bytes:,}-byte upload limit")
    return p


def add_upload(
    path: str | Path | None,
    settings: Settings,
    *,
    service: str,
    document: str,
    effective: str,
    embedder: Embedder | None = None,
    progress: Progress | None = None,
) -> tuple[str, IngestReport]:
    """Index one uploaded version, kept under data/uploads; returns its `service/document@date` and the report.

    A refused upload leaves nothing behind: its folder is removed before the error goes on.
    """
    p = check_upload(path, settings.max_upload_bytes, tuple(SUPPORTED), "policy")
    service, document = check_name("service", service.strip()), check_name("document", document.strip())
    date = check_date(effective.strip())
    folder = settings.data_dir / "uploads" / uuid.uuid4().hex
    folder.mkdir(parents=True)
    dest = folder / f"{date}{p.suffix.lower()}"
    shutil.copyfile(p, dest)
    try:
        report = ingest(
            [dest],
            settings,
            service=service,
            document=document,
            version=date,
            progress=progress,
            embedder=embedder,
            clean_timeout=CLEAN_SECONDS,
        )
    except Exception:
        shutil.rmtree(folder, ignore_errors=True)  # nothing half-kept from a refused upload
        raise
    key = version_key(service, document, date)
    log.info("upload %s indexed as %s", p.name, key)
    return key, report
