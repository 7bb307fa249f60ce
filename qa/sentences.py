"""Sentences of a clause, verbatim: what quotes are cut from."""

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
