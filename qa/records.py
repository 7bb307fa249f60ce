"""Records of answering: what was asked about, what retrieval found, and the answer with its citations.

`Answer`, `Citation` and `ClauseChange` carry `to_dict`/`from_dict` for the batch and export contract
of DESIGN.md: `from_dict(x.to_dict()).to_dict() == x.to_dict()`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ingest.records import Clause, content_hash, version_key


class Support(StrEnum):
    """How far an answer's clauses settle the question; only NOT_ADDRESSED sets `abstained`."""

    ADDRESSED = "addressed"
    PARTLY = "partly"  # cites the closest clauses, none of which clearly settles the question
    NOT_ADDRESSED = "not addressed"


class ChangeStatus(StrEnum):
    """What happened to a clause between two versions."""

    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"
    MOVED = "moved"
    SAME = "same"


@dataclass(frozen=True)
class Scope:
    """Which policy version a question is about: one service, one document, one version."""

    service: str
    document: str
    version: str

    @property
    def key(self) -> str:
        """`service/document@version`."""
        return version_key(self.service, self.document, self.version)


@dataclass(frozen=True)
class Hit:
    """One retrieved clause with its fused/reranked score (higher is better)."""

    clause: Clause
    score: float
    dense: float = 0.0
    lexical: float = 0.0


@dataclass(frozen=True)
class Draft:
    """An answer before verification: text with [n] markers and (n, quote) pairs it claims."""

    text: str
    cited: tuple[tuple[int, str], ...]
    backend: str


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

    @property
    def version_key(self) -> str:
        """The cited version's name, `service/document@YYYY-MM-DD`."""
        return version_key(self.service, self.document, self.version)

    def to_dict(self) -> dict[str, Any]:
        """The contract fields of a citation, as DESIGN.md names them."""
        return {
            "n": self.n,
            "service": self.service,
            "document": self.document,
            "version": self.version,
            "section": self.section,
            "clause_id": self.clause_id,
            "text": self.text,
            "quote": self.quote,
            "source": self.source,
            "score": round(float(self.score), 4),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Citation:
        """The Citation of a contract dict (`to_dict`'s fields; score optional)."""
        fields = ("n", "clause_id", "service", "document", "version", "section", "text", "quote", "source")
        return cls(**{k: d[k] for k in fields}, score=float(d.get("score", 0.0)))


@dataclass(frozen=True)
class ClauseChange:
    """One aligned pair of clauses between two versions: added, removed, changed, moved or same."""

    status: ChangeStatus
    section: str
    old: Clause | None = None
    new: Clause | None = None
    similarity: float = 0.0
    diff: tuple[tuple[str, str], ...] = ()

    @property
    def before(self) -> Clause:
        """The earlier version's clause; an added clause has none (a ValueError)."""
        if self.old is None:
            raise ValueError(f"an {self.status} clause has no earlier wording")
        return self.old

    @property
    def after(self) -> Clause:
        """The later version's clause; a removed clause has none (a ValueError)."""
        if self.new is None:
            raise ValueError(f"a {self.status} clause has no later wording")
        return self.new

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for export: status, section, both sides' ids and texts, and the word diff."""
        return {
            "status": str(self.status),
            "section": self.section,
            "old": _side(self.old),
            "new": _side(self.new),
            "similarity": round(self.similarity, 3),
            "diff": [list(p) for p in self.diff],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ClauseChange:
        """The ClauseChange of an export dict; each side's Clause is rebuilt from its id, version,
        section and text (the id holds service, document and position)."""
        return cls(
            ChangeStatus(d["status"]),
            d["section"],
            _clause(d.get("old")),
            _clause(d.get("new")),
            float(d.get("similarity", 0.0)),
            tuple((op, text) for op, text in d.get("diff", [])),
        )


def _side(c: Clause | None) -> dict[str, str] | None:
    return None if c is None else {"version": c.version, "section": c.section, "clause_id": c.clause_id, "text": c.text}


def _clause(side: dict[str, str] | None) -> Clause | None:
    """A Clause from an exported side; ids look like `service:document:version:ordinal:hash`."""
    if side is None:
        return None
    service, document, _, ordinal, _ = (side["clause_id"].split(":") + [""] * 5)[:5]
    text = side["text"]
    return Clause(
        side["clause_id"],
        service,
        document,
        side["version"],
        side["section"],
        (side["section"],),
        int(ordinal) if ordinal.isdigit() else 0,
        text,
        0,
        len(text),
        content_hash(text),
    )


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
    timings: dict[str, float] = field(default_factory=dict)
    id: str = ""
    error: str = ""
    support: Support | str = ""  # "" only for an error record, which never got as far as an answer
    confidence: float = 0.0  # the answerability model's probability that the policy addresses the question

    @property
    def version_key(self) -> str:
        """The answered version's name, `service/document@YYYY-MM-DD`."""
        return version_key(self.service, self.document, self.version)

    @property
    def state(self) -> str:
        """The support state as the exports write it: an error record reads 'error', never 'not addressed'."""
        return str(self.support) or ("error" if self.error else "not addressed" if self.abstained else "")

    def to_dict(self) -> dict[str, Any]:
        """The batch/export contract of DESIGN.md: one JSON object per question."""
        return {
            "id": self.id,
            "question": self.question,
            "service": self.service,
            "document": self.document,
            "version": self.version,
            "answer": self.text,
            "abstained": self.abstained,
            "support": self.state,
            "confidence": round(float(self.confidence), 3),
            "citations": [c.to_dict() for c in self.citations],
            "changes": [c.to_dict() for c in self.changes],
            "backend": self.backend,
            **({"error": self.error} if self.error else {}),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Answer:
        """The Answer of one batch/export object (a line of a .jsonl output, an item of a .json one)."""
        support = d.get("support", "")
        return cls(
            question=d["question"],
            service=d["service"],
            document=d["document"],
            version=d["version"],
            text=d["answer"],
            citations=tuple(Citation.from_dict(c) for c in d.get("citations", [])),
            abstained=bool(d.get("abstained", False)),
            changes=tuple(ClauseChange.from_dict(c) for c in d.get("changes", [])),
            backend=d.get("backend", "extractive"),
            id=str(d.get("id", "")),
            error=d.get("error", ""),
            support=Support(support) if support in Support._value2member_map_ else "",
            confidence=float(d.get("confidence", 0.0)),
        )
