"""Records used inside answering: what was asked about, and what retrieval found."""
from __future__ import annotations

from dataclasses import dataclass

from ingest.records import Clause


@dataclass(frozen=True)
class Scope:
    """Which policy version a question is about: one service, one document, one version."""

    service: str
    document: str
    version: str

    @property
    def key(self) -> str:
        """`service/document@version`."""
        return f"{self.service}/{self.document}@{self.version}"


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
