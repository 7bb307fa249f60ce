"""Records that flow from ingest to answers: one frozen dataclass per idea."""
from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass, field

_SPACE = re.compile(r"\s+")


def normalise_for_hash(text: str) -> str:
    """Collapse whitespace and case so cosmetic edits do not change a clause's content hash."""
    return _SPACE.sub(" ", text).strip().lower()


def content_hash(text: str) -> str:
    """Hash of a clause's normalised text alone: equal texts share one embedding."""
    return hashlib.sha256(normalise_for_hash(text).encode("utf-8")).hexdigest()[:32]


def sha256_text(text: str) -> str:
    """sha256 of a text's UTF-8 bytes."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


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
        return f"{self.service}/{self.document}@{self.effective_date}"


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
        return f"{self.service}/{self.document}@{self.version}"

    def to_dict(self) -> dict:
        """Plain dict (heading path as a list) for JSON and metadata."""
        d = asdict(self)
        d["heading_path"] = list(self.heading_path)
        return d


def make_clause_id(service: str, document: str, version: str, ordinal: int, text: str) -> str:
    """Stable id: the same version, position and text give the same id on every run."""
    raw = f"{service}/{document}@{version}#{ordinal}:{normalise_for_hash(text)}"
    return f"{service}:{document}:{version}:{ordinal:04d}:" + hashlib.sha1(raw.encode("utf-8")).hexdigest()[:10]


@dataclass(frozen=True)
class Citation:
    """A clause an answer relies on, with the verbatim words it quotes."""

    n: int
    clause_id: str
    service: str
    document: str
    version: str
    section: str
    text: str
    quote: str
    score: float = 0.0
    source: str = ""
    heading_path: tuple[str, ...] = ()
    char_start: int = 0
    char_end: int = 0

    def to_dict(self) -> dict:
        """The contract fields of a citation, as DESIGN.md names them."""
        return {
            "n": self.n, "service": self.service, "document": self.document,
            "version": self.version, "section": self.section, "clause_id": self.clause_id,
            "text": self.text, "quote": self.quote, "source": self.source,
            "score": round(float(self.score), 4),
        }


@dataclass(frozen=True)
class ClauseChange:
    """One aligned pair of clauses between two versions: added, removed, changed or same."""

    status: str
    section: str
    old: Clause | None = None
    new: Clause | None = None
    similarity: float = 0.0
    diff: tuple[tuple[str, str], ...] = ()

    def to_dict(self) -> dict:
        """Plain dict for export: status, section, both sides' ids and texts, and the word diff."""
        side = lambda c: None if c is None else {  # noqa: E731
            "version": c.version, "section": c.section, "clause_id": c.clause_id, "text": c.text}
        return {"status": self.status, "section": self.section, "old": side(self.old),
                "new": side(self.new), "similarity": round(self.similarity, 3),
                "diff": [list(p) for p in self.diff]}


@dataclass(frozen=True)
class Answer:
    """A question's answer: text with [n] markers, the citations behind them, or an abstention."""

    question: str
    service: str
    document: str
    version: str
    text: str
    citations: tuple[Citation, ...] = ()
    abstained: bool = False  # set only when support is "not addressed"
    changes: tuple[ClauseChange, ...] = ()
    related: tuple[Citation, ...] = ()
    backend: str = "extractive"
    timings: dict = field(default_factory=dict)
    id: str = ""
    error: str = ""
    support: str = ""  # "addressed", "partly" (cites the closest clauses, none settles it) or "not addressed"
    confidence: float = 0.0  # the answerability model's probability that the policy addresses the question

    def to_dict(self) -> dict:
        """The batch/export contract of DESIGN.md: one JSON object per question."""
        return {
            "id": self.id, "question": self.question, "service": self.service,
            "document": self.document, "version": self.version, "answer": self.text,
            "abstained": self.abstained, "support": self.support or ("error" if self.error else "not addressed" if self.abstained else ""),
            "confidence": round(float(self.confidence), 3), "citations": [c.to_dict() for c in self.citations],
            "changes": [c.to_dict() for c in self.changes], "backend": self.backend,
            **({"error": self.error} if self.error else {}),
        }
