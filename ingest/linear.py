"""Markup patterns applied to policy text in time that grows with its length, not its square.

Python's `re` backtracks. `pattern.sub` tries a pattern at every position, and a Markdown-link
pattern tried at each `[` of a file of brackets rescans the rest of the file every time (a 30 KB
file took a minute; 10 MB would take days). Each helper here gives exactly `pattern.sub`'s result
but skips the starts that a failed attempt has already proved hopeless, so every character is
scanned a bounded number of times.
"""

from __future__ import annotations

import re
from collections.abc import Callable


def sub_links(link: re.Pattern, link_text: re.Pattern, text: str, repl: Callable[[re.Match], str]) -> str:
    """`link.sub(repl, text)` for a `!?[link text](url)` pattern; `link_text` matches its text part
    greedily without backtracking (it stops where the text part must end)."""
    out, pos = [], 0
    o = text.find("[")
    while o >= 0:
        start = o - 1 if o > pos and text[o - 1] == "!" else o
        text_part = link_text.match(text, o + 1)  # possessive `*+`: it always matches, maybe empty
        end = text_part.end() if text_part else o + 1
        # a link needs `](` where its text ends: where there is none, trying the whole pattern is wasted
        m = link.match(text, start) if text.find("](", o, end + 2) >= 0 else None
        if m:
            out += [text[pos:start], repl(m)]
            pos = m.end()
            o = text.find("[", pos)
        else:
            # a `[` inside the text part this one just tried can only end where this one could have
            o = text.find("[", end)
    return "".join(out) + text[pos:]


def sub_spans(span: re.Pattern, opener: re.Pattern, mark: str, text: str) -> str:
    """`span.sub(r"\1", text)` for an emphasis pattern: `mark`, text on one line, `mark`.

    `opener` matches where a span may start. When a span that may start there has no end, no later
    start on the same line has one either: the ends it could use are a subset of those just tried.
    """
    out, pos = [], 0
    i = text.find(mark)
    while i >= 0:
        m = span.match(text, i)
        if m:
            out += [text[pos:i], m.group(1)]
            pos = m.end()
            i = text.find(mark, pos)
        elif opener.match(text, i):
            line_end = text.find("\n", i)
            i = -1 if line_end < 0 else text.find(mark, line_end)
        else:
            i = text.find(mark, i + 1)
    return "".join(out) + text[pos:]


def sub_tags(tag: re.Pattern, text: str) -> str:
    """`tag.sub("", text)` for a `<name ...>` pattern: a tag ends at a `>`, so none starts after the last."""
    end = text.rfind(">") + 1
    return tag.sub("", text[:end]) + text[end:]
