"""Find policy versions: the `service/document/YYYY-MM-DD.ext` layout, a manifest, or one file."""

from __future__ import annotations

import csv
import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from ingest.errors import InputError
from ingest.loaders import SUPPORTED, LoadError
from ingest.records import version_key
from ingest.store import check_name

MANIFESTS = ("MANIFEST.tsv", "sources.tsv")
_DATE_LIKE = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}$")  # a version's file name, even a wrong one: 2024-1-5


@dataclass(frozen=True)
class VersionSource:
    """Where one version comes from, before it is read."""

    service: str
    document: str
    effective_date: str
    path: Path
    title: str = ""
    source: str = ""

    @property
    def key(self) -> str:
        """`service/document@YYYY-MM-DD`."""
        return version_key(self.service, self.document, self.effective_date)


def check_date(value: str, what: str = "effective date") -> str:
    """An ISO date no later than today, or an InputError that says how to pass one."""
    try:
        day = dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise InputError(f"{what} {value!r} is not a date; write it as YYYY-MM-DD") from None
    if day > dt.date.today():
        raise InputError(f"{what} {value} is in the future; ingest a version once it is in effect")
    return day.isoformat()


def _manifest_rows(root: Path) -> dict[str, dict]:
    for name in MANIFESTS:
        path = root / name
        if path.exists():
            with path.open(encoding="utf-8", newline="") as fh:
                # .get: a manifest without these columns adds nothing, rather than a KeyError traceback
                return {
                    row.get("file") or f"{row.get('service')}/{row.get('document')}/{row.get('effective_date')}.md": row
                    for row in csv.DictReader(fh, delimiter="\t")
                }
    return {}


def discover(root: Path, skipped: list[str] | None = None) -> list[VersionSource]:
    """Every `service/document/YYYY-MM-DD.ext` file under a folder, with manifest titles/sources.

    A file named like a version that cannot be indexed (a future or impossible date, `2024-1-5`, a
    name with capitals) is added to `skipped` with the reason; READMEs, licences and notes are not.
    """
    root = Path(root)
    if not root.is_dir():
        raise LoadError(f"{root}: no such folder; check the path")
    rows = _manifest_rows(root)
    found, bad = [], []
    for path in sorted(p for p in root.rglob("*") if p.suffix.lower() in SUPPORTED and p.is_file()):
        rel, parts = path.relative_to(root), path.absolute().parts
        if rel.parts[0].startswith(".") or len(parts) < 3:
            continue
        # names come from the file's own place, so `ingest corpora/x` works as well as `ingest corpora`
        service, document, stem = parts[-3], parts[-2], path.stem
        try:
            date = check_date(stem)
            check_name("service", service), check_name("document", document)
        except InputError as exc:
            if _DATE_LIKE.match(stem):
                bad.append(f"{path}: {exc}")
            continue
        row = rows.get(rel.as_posix(), {})
        found.append(
            VersionSource(
                service, document, date, path, row.get("title", ""), row.get("source") or row.get("url") or str(path)
            )
        )
    if not found:
        why = f" (and {len(bad)} file(s) that cannot be: {'; '.join(bad)})" if bad else ""
        raise LoadError(
            f"{root}: no policy versions found{why}; lay files out as "
            "<service>/<document>/<YYYY-MM-DD>.<md|html|txt|pdf>"
        )
    if skipped is not None:
        skipped.extend(bad)
    return found


def check_one_file_per_version(sources: list[VersionSource]) -> None:
    """Refuse two files for one version (`2024-01-01.md` beside `2024-01-01.html`): which one is meant?"""
    seen: dict[str, VersionSource] = {}
    for s in sources:
        if s.key in seen:
            raise LoadError(f"two files for one version {s.key}: {seen[s.key].path} and {s.path}; keep one of them")
        seen[s.key] = s


def single(
    path: Path,
    service: str = "",
    document: str = "",
    version: str = "",
    effective_from_text: str = "",
    source: str = "",
) -> VersionSource:
    """One file named on the command line; names from flags, the date from a flag, its name or its text;
    `source` names where it came from (a URL) when that is not the file itself."""
    path = Path(path)
    if not service or not document:
        # never guessed from its folders: a download in data/downloads would become policy "data/downloads"
        raise InputError(
            f"{path}: say which policy this is with --service and --document (to ingest a "
            "corpus laid out as <service>/<document>/<YYYY-MM-DD>.ext, name its folder)"
        )
    date = version or _date_from_name(path.stem) or effective_from_text
    if not date:
        raise InputError(f"{path}: no effective date in the file name or text; pass --version YYYY-MM-DD")
    return VersionSource(
        check_name("service", service),
        check_name("document", document),
        check_date(date),
        path,
        source=source or str(path),
    )


def _date_from_name(stem: str) -> str:
    try:
        return dt.date.fromisoformat(stem).isoformat()
    except ValueError:
        return ""
