"""Sentences of a clause, verbatim: what quotes are cut from and what the reader reads a long clause in."""

from __future__ import annotations

import re

# a sentence ends at . ! ? or ; and spaces, but not after an abbreviation ("e.g.", "i.e.", "U.S.", "Inc.")
SENTENCE_END = re.compile(
    r"(?<!\be\.g\.)(?<!\bi\.e\.)(?<!\bU\.S\.)(?<!\bU\.K\.)(?<!\bInc\.)(?<!\bLtd\.)"
    r"(?<!\bNo\.)(?<!\bvs\.)(?<!\bcf\.)(?<!\bSt\.)(?<!\bCo\.)(?<!\bMr\.)(?<!\bMs\.)"
    r"(?<!\bDr\.)(?<=[.!?;])[\"”’)]*\s+"
)


def sentences(text: str) -> list[str]:
    """The sentences of a clause, verbatim; abbreviations such as "e.g." do not end one."""
    out, start = [], 0
    for m in SENTENCE_END.finditer(text):
        out.append(text[start : m.start()].strip() or text[start : m.end()].strip())
        start = m.end()
    out.append(text[start:].strip())
    return [x for x in out if x]


def windows(text: str, limit: int) -> list[str]:
    """A clause as runs of whole sentences of at most `limit` characters, one starting at each sentence
    until the rest fits in one; a clause within the limit (or one sentence longer than it) is itself."""
    if len(text) <= limit:
        return [text]
    parts = sentences(text)
    out = []
    for i, first in enumerate(parts):
        window = first
        for nxt in parts[i + 1 :]:
            if len(window) + 1 + len(nxt) > limit:
                break
            window += " " + nxt
        out.append(window)
        if len(" ".join(parts[i:])) <= limit:
            break
    return out or [text]
