"""Helpers the tests import (conftest.py only holds fixtures): paths, record builders, fakes.

`HashEmbedder` has the Embedder's interface and gives deterministic hashed vectors (texts sharing
words point the same way), so the pure logic runs without the model; `make test-fast` uses it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.language_models import GenericFakeChatModel
from pydantic import Field

from ingest.embedder import DIM, Embedder
from ingest.records import Clause, content_hash, make_clause_id
from qa.records import Answer, Citation, Hit, Scope

REPO = Path(__file__).resolve().parents[1]
SHARED = (REPO / ".." / "shared").resolve()
CORPORA = SHARED / "corpora"
MESSY = SHARED / "fixtures" / "messy"
SAMPLE = REPO / "corpora" / "sample"
ACME = Scope("acme", "privacy-policy", "2024-01-01")
_WORD = re.compile(r"\w+")


class HashEmbedder(Embedder):
    """The Embedder with hashed bag-of-words vectors instead of a model: deterministic and instant."""

    def __init__(self, name: str = "hash", cache_dir: Path | None = None):
        super().__init__(name, cache_dir)

    def second_opinion(self) -> Embedder:
        """Itself: the hashed index needs no model at all."""
        return self

    def encode(
        self, texts: Sequence[str], batch_size: int = 64, progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        """Unit vectors: each lower-cased word adds one to the dimension its hash picks."""
        out = np.zeros((len(texts), DIM), np.float32)
        for row, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                out[row, int(hashlib.sha1(word.encode()).hexdigest()[:8], 16) % DIM] += 1.0
            out[row] /= max(float(np.linalg.norm(out[row])), 1e-9)
        self.encoded += len(texts)
        if progress:
            progress(len(texts))
        return out


def clause(ordinal: int, section: str, text: str, scope: Scope = ACME) -> Clause:
    """A Clause of `scope` with a real id and content hash."""
    return Clause(
        clause_id=make_clause_id(scope.service, scope.document, scope.version, ordinal, text),
        service=scope.service,
        document=scope.document,
        version=scope.version,
        section=section,
        heading_path=(section,),
        ordinal=ordinal,
        text=text,
        char_start=0,
        char_end=len(text),
        content_hash=content_hash(text),
    )


def hits(sections: Sequence[tuple[str, str]], scope: Scope = ACME) -> list[Hit]:
    """Hits over (section, text) pairs, best first."""
    return [Hit(clause(i, s, t, scope), score=1.0 - i / 10) for i, (s, t) in enumerate(sections)]


def answer(question: str = "Can I delete my data?", **fields: Any) -> Answer:
    """An addressed Answer about ACME citing one clause (fields override)."""
    cite = Citation(
        n=1,
        clause_id="acme:privacy-policy:2024-01-01:0001:abc",
        service="acme",
        document="privacy-policy",
        version="2024-01-01",
        section="2. Your rights",
        text="You can delete your data at any time.",
        quote="delete your data",
        score=0.8,
        source="acme.md",
    )
    base: dict[str, Any] = dict(citations=(cite,), support="addressed", confidence=0.9, id="1")
    return Answer(question, "acme", "privacy-policy", "2024-01-01", "You can [1].", **{**base, **fields})


class RecordingChat(GenericFakeChatModel):
    """A fake chat model that replies from a script and remembers every prompt it was sent."""

    seen: list = Field(default_factory=list)

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        self.seen.append(messages)
        return super()._generate(messages, stop=stop, run_manager=run_manager, **kwargs)


def fake_chat(*replies: object) -> RecordingChat:
    """A RecordingChat replying with each of `replies` in turn (dicts as JSON)."""
    return RecordingChat(messages=iter(r if isinstance(r, str) else json.dumps(r) for r in replies))
