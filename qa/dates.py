"""Dates a question names ("the September 2023 update", "since May 2023", "Aug 7 and Aug 11 2023",
"the 2025 version").

A question that names a date is about the version in effect then, unless the user picked a version
or an "as of" date themselves; "since DATE" names the earlier side of a comparison.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field

_MONTH = (
    r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
_YEAR = r"(?:19|20)\d\d"
# a year names a version when a word for one follows it ("the 2025 version", "2023 privacy policy")
_VERSION_WORD = r"(?:privacy\s+)?(?:version|policy|policies|update|terms|tos|revision|rewrite|edition|text)s?\b"
_DATE = re.compile(
    rf"(?P<since>\bsince\s+(?:the\s+)?)?(?:"
    rf"\b(?P<iso>{_YEAR}-\d\d-\d\d)\b"
    rf"|\b(?P<d1>\d{{1,2}})(?:st|nd|rd|th)?\s+(?P<m1>{_MONTH})\.?,?\s+(?P<y1>{_YEAR})\b"
    rf"|\b(?P<m2>{_MONTH})\.?(?:\s+(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?\b)?(?:,?\s+(?P<y2>{_YEAR}))?\b"
    rf"|\b(?P<y3>{_YEAR})(?=['’]?s?\s+{_VERSION_WORD}))",
    re.IGNORECASE,
)
_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]


@dataclass(frozen=True)
class Mention:
    """A date in a question: the day it stands for (a month stands for its last day) and whether it
    follows "since"."""

    date: str
    since: bool = False
    span: tuple[int, int] = field(default=(0, 0), compare=False)  # where the question names it


def dates_in(question: str) -> list[Mention]:
    """The dates a question names, in order. A month and day without a year take the next year named
    ("Aug 7 and Aug 11 2023"); a year followed by a word for a version ("the 2025 version") stands for
    its last day; a month alone, or a bare year, names no date ("may I ...", "in 2023")."""
    found: list[tuple[str | None, tuple[int, int | None] | None, int | None, bool, tuple[int, int]]] = []
    for m in _DATE.finditer(question):
        since = bool(m.group("since"))
        if m.group("iso"):
            found.append((m.group("iso"), None, None, since, m.span()))
            continue
        if m.group("y3"):  # the version of that year: the one in effect at its end
            found.append((f"{m.group('y3')}-12-31", None, None, since, m.span()))
            continue
        month = _MONTHS.index((m.group("m1") or m.group("m2"))[:3].lower()) + 1
        day, year = m.group("d1") or m.group("d2"), m.group("y1") or m.group("y2")
        if day or year:
            found.append((None, (month, int(day) if day else None), int(year) if year else None, since, m.span()))
    out: list[Mention] = []
    for i, (iso, month_day, year, since, span) in enumerate(found):
        if iso:
            out.append(Mention(iso, since, span))
            continue
        year = year or next((f[2] for f in found[i + 1 :] if f[2]), None)
        if year is None or month_day is None:
            continue
        month, day = month_day
        last = calendar.monthrange(year, month)[1]
        if day is None or 1 <= day <= last:
            out.append(Mention(f"{year:04d}-{month:02d}-{day or last:02d}", since, span))
    return out


def without_dates(question: str) -> str:
    """The question with the dates it names (`dates_in`) taken out ("what changed about biometrics in
    September 2023?" -> "what changed about biometrics in ?"): the date picks the version, and as search
    words it would find clauses that carry dates (a policy's "Changes" section) instead of the topic."""
    out = question
    for m in reversed(dates_in(question)):
        out = f"{out[: m.span[0]]} {out[m.span[1] :]}"
    return re.sub(r"\s+", " ", out).strip()
