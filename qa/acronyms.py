"""Short forms a question uses for a phrase the policy spells out: "DMs" for Direct Messages, "AI" for
artificial intelligence, "GPC" for Global Privacy Control.

Neither the embedding model nor the ranker knows every short form people type, and a hand-written
list goes stale. The policy itself says what its phrases are; a question word that the version never
uses is matched against the version's own phrases whose initials spell it. Of those, one wins by the
strongest evidence the version gives:
1. it is defined there: "Direct Messages (DMs)";
2. it is close in meaning to the short form (MiniLM cosine, "AI" ~ "artificial intelligence");
3. it is written as a name, every word capitalised ("Direct Messages"), at least NAMED_AT times, or it
   opens a section's title ("4.1 Direct messages"), and it is not far from the short form in meaning
   (MiniLM knows few short forms, but "Account Information" for "AI" is far) nor a company's name.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence

from ingest.chunking import NUMBERED

CLOSE = 0.6  # cosine at which a spelled-out phrase means the short form ("EU" ~ "European Union": 0.83)
NAMED_AT = 3  # ...or times the phrase is written as a name ("Direct Messages"), if it is not far in meaning:
NAMED_CLOSE = 0.3  # "DMs" ~ "Direct Messages" 0.39, but "AI" ~ "Account Information" 0.16
_COMPANY = frozenset(["inc", "llc", "ltd", "corp", "co", "company", "limited", "gmbh", "plc"])
_WORD = re.compile(r"\b[A-Za-z][A-Za-z']{1,5}\b")
_SKIP = frozenset(
    (
        "a",
        "an",
        "and",
        "as",
        "at",
        "by",
        "for",
        "from",
        "in",
        "of",
        "on",
        "or",
        "the",
        "to",
        "with",
        "my",
        "me",
        "am",
        "do",
        "is",
        "it",
        "us",
        "we",
        "our",
        "if",
        "so",
        "no",
        "not",
        "can",
        "how",
        "why",
        "who",
        "get",
        "got",
        "any",
        "all",
        "did",
        "has",
        "had",
        "was",
        "are",
        "you",
    )
)


def short_forms(question: str, vocabulary: Iterable[str], stem: Callable[[str], str]) -> list[str]:
    """The question's short forms that the version never uses: two to five letters written with two
    capitals ("AI", "DMs", "GPC"), or two or three letters in lower case ("dms"); a plural "s" aside.

    `stem` maps a word to the stem the vocabulary holds ("" for a stop word).
    """
    used = set(vocabulary)
    out: list[str] = []
    for m in _WORD.finditer(question):
        word = m.group(0)
        base = _letters(word)
        capitals = sum(ch.isupper() for ch in base) >= 2 and len(base) <= 5
        if not (capitals or (word.islower() and 2 <= len(base) <= 3)):
            continue
        if base.lower() in _SKIP or not stem(word) or stem(word) in used or word in out:
            continue
        out.append(word)
    return out


def _letters(word: str) -> str:
    """The initials a short form spells: "DMs" -> "DM", "dm's" -> "dm"."""
    return word if word.endswith("ss") else re.sub(r"'?s$", "", word)


def spelled_out(
    short: str,
    text: str,
    closeness: Callable[[str, list[str]], list[float]] | None = None,
    titles: Sequence[str] = (),
) -> str:
    """The phrase of `text` that `short` stands for, lower-cased; "" when the version has none.

    `closeness(short, phrases)` gives the cosine of each phrase to the short form; `titles` are the
    version's headings, whose opening words name their topic.
    """
    letters = [re.escape(ch) for ch in _letters(short).lower()]
    words = r"\s+".join(rf"({ch}[a-z]+)" for ch in letters)
    phrase = re.compile(rf"\b{words}\b", re.IGNORECASE)
    seen: list[str] = []
    named: Counter[str] = Counter()
    for m in phrase.finditer(text):
        parts = m.groups()
        if any(p.lower() in _SKIP for p in parts):
            continue
        key = " ".join(p.lower() for p in parts)
        if re.match(rf"\s*\(\s*{re.escape(_letters(short))}'?s?\s*\)", text[m.end() : m.end() + 12], re.IGNORECASE):
            return key  # defined right there: "Direct Messages (DMs)"
        if key not in seen:
            seen.append(key)
        whole = not re.match(r"\s+[A-Z]", text[m.end() : m.end() + 2])  # not "Digital Millennium" of a longer name
        if whole and all(p[0].isupper() and p[1:].islower() for p in parts) and parts[-1].lower() not in _COMPANY:
            named[key] += 1  # a name, not a shouted disclaimer
    for title in titles:
        opening = phrase.match(NUMBERED.sub("", title.strip(), count=1))
        key = " ".join(p.lower() for p in opening.groups()) if opening else ""
        if opening and key in seen and opening.groups()[-1].lower() not in _COMPANY:
            named[key] += NAMED_AT  # a section named after it: as good as a name written again and again
    if not seen or closeness is None:
        return ""
    sims = dict(zip(seen, closeness(short, seen), strict=True))
    best = max(seen, key=lambda p: sims[p])
    if sims[best] >= CLOSE:
        return best
    names = [p for p, n in named.most_common() if n >= NAMED_AT and sims[p] >= NAMED_CLOSE]
    return names[0] if names else ""


def phrases(
    question: str,
    text: str,
    vocabulary: Iterable[str],
    stem: Callable[[str], str],
    closeness: Callable[[str, list[str]], list[float]] | None = None,
    titles: Sequence[str] = (),
) -> list[str]:
    """What the question's short forms stand for in this version ("direct messages"), where it says."""
    found = (spelled_out(s, text, closeness, titles) for s in short_forms(question, vocabulary, stem))
    return list(dict.fromkeys(p for p in found if p))


def expand(question: str, spelled: list[str]) -> str:
    """The question followed by the phrases its short forms stand for, if any."""
    return f"{question} ({'; '.join(spelled)})" if spelled else question
