"""Pure clause alignment between two versions: same, moved, changed (with a word diff), added, removed."""

from __future__ import annotations

import difflib
import re
from collections import Counter, defaultdict

from ingest.records import Clause
from qa.records import ChangeStatus, ClauseChange

WORD = re.compile(r"\w+(?:['’]\w+)?", re.UNICODE)
MATCH_AT = 0.5  # word-set similarity at which two clauses count as one clause reworded


def words(text: str) -> set[str]:
    """Lower-cased word set of a text."""
    return {w.lower() for w in WORD.findall(text)}


def similarity(a: str, b: str) -> float:
    """Dice coefficient of the two texts' word sets (0..1)."""
    wa, wb = words(a), words(b)
    return 2 * len(wa & wb) / (len(wa) + len(wb)) if wa and wb else 0.0


def word_diff(old: str, new: str) -> tuple[tuple[str, str], ...]:
    """Word-level diff as (op, text) pairs: '=' kept, '-' removed, '+' added."""
    a, b = old.split(), new.split()
    out: list[tuple[str, str]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(("=", " ".join(a[i1:i2])))
        if op in ("delete", "replace"):
            out.append(("-", " ".join(a[i1:i2])))
        if op in ("insert", "replace"):
            out.append(("+", " ".join(b[j1:j2])))
    return tuple(out)


def _section_key(section: str) -> str:
    """A section's number when it has one (titles get reworded), else its title."""
    m = re.match(r"^\s*(\d+(?:\.\d+)*)", section)
    return m.group(1) if m else section.strip(" .").lower()


def align(old: list[Clause], new: list[Clause]) -> list[ClauseChange]:
    """Match every clause of `new` to one of `old` (same text first, then most similar), in new order."""
    by_hash: dict[str, list[Clause]] = defaultdict(list)
    for c in old:
        by_hash[c.content_hash].append(c)
    pairs: dict[str, ClauseChange] = {}
    used: set[str] = set()
    for c in new:
        twins = [o for o in by_hash.get(c.content_hash, []) if o.clause_id not in used]
        if twins:
            o = min(
                twins, key=lambda o: (_section_key(o.section) != _section_key(c.section), abs(o.ordinal - c.ordinal))
            )
            used.add(o.clause_id)
            moved = _section_key(o.section) != _section_key(c.section)
            pairs[c.clause_id] = ClauseChange(ChangeStatus.MOVED if moved else ChangeStatus.SAME, c.section, o, c, 1.0)
    rest_old = [o for o in old if o.clause_id not in used]
    rest_new = [c for c in new if c.clause_id not in pairs]
    for score, o, c in _best_pairs(rest_old, rest_new):
        pairs[c.clause_id] = ClauseChange(ChangeStatus.CHANGED, c.section, o, c, score, word_diff(o.text, c.text))
        used.add(o.clause_id)
    out = [pairs.get(c.clause_id) or ClauseChange(ChangeStatus.ADDED, c.section, None, c) for c in new]
    removed = [ClauseChange(ChangeStatus.REMOVED, o.section, o, None) for o in old if o.clause_id not in used]
    return _interleave(out, removed)


def _best_pairs(old: list[Clause], new: list[Clause]) -> list[tuple[float, Clause, Clause]]:
    """Greedy one-to-one pairing of the most similar remaining clauses above MATCH_AT."""
    wo = [words(o.text) for o in old]
    candidates = []
    for c in new:
        wc = words(c.text)
        for o, w in zip(old, wo, strict=True):
            if wc and w:
                s = 2 * len(wc & w) / (len(wc) + len(w))
                if s >= MATCH_AT:
                    candidates.append((s + (0.05 if _section_key(o.section) == _section_key(c.section) else 0), o, c))
    taken_o, taken_c, out = set(), set(), []
    for s, o, c in sorted(candidates, key=lambda t: -t[0]):
        if o.clause_id not in taken_o and c.clause_id not in taken_c:
            taken_o.add(o.clause_id)
            taken_c.add(c.clause_id)
            out.append((min(s, 1.0), o, c))
    return out


def _interleave(changes: list[ClauseChange], removed: list[ClauseChange]) -> list[ClauseChange]:
    """Place each removed clause after the new clause aligned to its nearest old predecessor."""
    anchor = {ch.old.ordinal: i for i, ch in enumerate(changes) if ch.old is not None}
    slots: dict[int, list[ClauseChange]] = defaultdict(list)
    for r in removed:
        before = [o for o in anchor if o < r.before.ordinal]
        slots[anchor[max(before)] if before else -1].append(r)
    out = list(slots.get(-1, []))
    for i, ch in enumerate(changes):
        out.append(ch)
        out.extend(slots.get(i, []))
    return out


def counts(changes: list[ClauseChange]) -> Counter:
    """How many clauses of each status."""
    return Counter(ch.status for ch in changes)


def render_diff(diff: tuple[tuple[str, str], ...]) -> str:
    """Markdown word diff: ~~removed~~ and **added** words."""
    parts = [t if op == "=" else (f"~~{t}~~" if op == "-" else f"**{t}**") for op, t in diff]
    return " ".join(p for p in parts if p)


def report_markdown(changes: list[ClauseChange], old_name: str, new_name: str, include_same: bool = False) -> str:
    """A change report grouped by section, with counts at the top."""
    n = counts(changes)
    lines = [
        f"# What changed: {old_name} → {new_name}",
        "",
        f"**{n['added']} added, {n['removed']} removed, {n['changed']} changed, {n['moved']} moved, "
        f"{n['same']} unchanged** clauses.",
        "",
    ]
    section = None
    for ch in changes:
        if ch.status == "same" and not include_same:
            continue
        if ch.section != section:
            section = ch.section
            lines += [f"## {section or '(no section)'}", ""]
        lines.append(_line(ch))
    return "\n".join(lines).rstrip() + "\n"


def _one(text: str) -> str:
    return " ".join(text.split())


def _line(ch: ClauseChange) -> str:
    if ch.status == ChangeStatus.ADDED:
        return f"- **Added:** {_one(ch.after.text)}\n"
    if ch.status == ChangeStatus.REMOVED:
        return f"- **Removed** (was in {ch.before.section}): {_one(ch.before.text)}\n"
    if ch.status == ChangeStatus.MOVED:
        return f"- **Moved** from {ch.before.section}: {_one(ch.after.text)}\n"
    if ch.status == ChangeStatus.CHANGED:
        return f"- **Changed:** {render_diff(ch.diff)}\n"
    return f"- Unchanged: {_one(ch.after.text)}\n"
