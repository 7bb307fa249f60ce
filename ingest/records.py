"""Records of ingest: a policy version and its clauses, one frozen dataclass per idea."""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

_SPACE = re.compile(r"\s+")


def normalise_for_hash(text: str) -> str:
    """Collapse whitespace and case so cosmetic edits do not change a clause's content hash."""
    return _SPACE.sub(" ", text).strip().lower()


def content_hash(text: str) -> str:
    """Hash of a clause's normalised text alone: equal texts share one embedding."""
    return hashlib.sha256(normalise_for_hash(text).encode("utf-8")).hexdigest()[:32]


def version_key(service: str, document: str, version: str) -> str:
    """A version's name, `service/document@YYYY-MM-DD`: how every record, message and export names it."""
    return f"{service}/{document}@{version}"


def sha256_text(text: str) -> str:
    """sha256 of a text's UTF-8 bytes."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


_FILE_DIGESTS: dict[tuple[str, int, int], str] = {}


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in blocks, kept per process until its size or mtime changes: start-up
    checks the model files and names the index after the encoder's weights, with one read of each."""
    path = Path(path).resolve()
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key not in _FILE_DIGESTS:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        _FILE_DIGESTS[key] = h.hexdigest()
    return _FILE_DIGESTS[key]


@dataclass(frozen=True)
class PolicyVersion:
    """One effective-dated version of one document of one service, as clean text."""

    service: str
    document: str
    effective_date: str
    text: str
    title: str = ""
    source: str = ""
    sha256: str = ""

    @property
    def key(self) -> str:
        """The version's name, `service/document@YYYY-MM-DD`."""
        return version_key(self.service, self.document, self.effective_date)


@dataclass(frozen=True)
class Clause:
    """The smallest unit a person would cite, inside one section of one version."""

    clause_id: str
    service: str
    document: str
    version: str
    section: str
    heading_path: tuple[str, ...]
    ordinal: int
    text: str
    char_start: int
    char_end: int
    content_hash: str
    source: str = ""
    kind: str = "paragraph"

    @property
    def version_key(self) -> str:
        """The clause's version name, `service/document@YYYY-MM-DD`."""
        return version_key(self.service, self.document, self.version)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (heading path as a list) for JSON and metadata."""
        d = asdict(self)
        d["heading_path"] = list(self.heading_path)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Clause:
        """The Clause that `to_dict` wrote (a catalog entry)."""
        return cls(**{**d, "heading_path": tuple(d["heading_path"])})


def make_clause_id(service: str, document: str, version: str, ordinal: int, text: str) -> str:
    """Stable id: the same version, position and text give the same id on every run."""
    raw = f"{version_key(service, document, version)}#{ordinal}:{normalise_for_hash(text)}"
    return f"{service}:{document}:{version}:{ordinal:04d}:" + hashlib.sha1(raw.encode("utf-8")).hexdigest()[:10]
