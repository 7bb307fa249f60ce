"""Whether a policy version addresses a question at all, or ClauseCite should say it does not.

The rule: find the question's focus word, the word that carries most of its meaning, and require it
(or a policy term the glossary translates it to) in one of the clauses the answer would lead with.
When it is missing, answer anyway if one of those clauses is close in meaning to the whole question;
otherwise abstain. "Does X honor Global Privacy Control?" finds clauses about cookies and browsers,
but none says "control": the policy talks near the topic, not about it.

Calibrated on ../shared/questions/dev.yaml and checked on bench/questions/holdout.yaml (see
docs/benchmarks.md); no question's words are special-cased.
"""
from __future__ import annotations

import re

from qa.glossary import glossary_terms
from qa.records import Hit, Scope

SUPPORT_CLAUSES = 3   # the focus word must be in one of the first three clauses of the answer
CLOSE_DENSE = 0.67    # ...unless one of them is this close in meaning (cosine) to the question
COMMON_SHARE = 0.10   # words in a tenth of a version's clauses (its name, "data", "information") name no topic
FILLER = ("me my mine am did does do would what anything thing things stuff now actually too never ever "
          "really just can could will should is are was were i you your it its they them their someone "
          "something how why when where who which if so get got any some there this that these those")
MONTHS = ("january february march april may june july august september october november december "
          "jan feb mar apr jun jul aug sep sept oct nov dec")
_WORD = re.compile(r"[A-Za-z0-9']+")


def _stems(text: str) -> list[str]:
    from qa.retrieve import tokenize

    return tokenize([text])[0]


def keywords(question: str, scope: Scope, word_share: dict[str, float], change_words: str = "") -> list[str]:
    """Stemmed words of the question that could name its topic in this version."""
    drop = set(_stems(f"{FILLER} {MONTHS} {scope.service} {scope.document.replace('-', ' ')} {change_words}"))
    words = set(_stems(question)) - drop
    return sorted(w for w in words if not w.isdigit() and word_share.get(w, 0.0) < COMMON_SHARE)


def focus_word(question: str, words: list[str], embed) -> str | None:
    """The keyword whose removal moves the question's embedding most (`embed` maps texts to unit vectors)."""
    if not words:
        return None
    surface = _WORD.findall(question)
    stems = [set(_stems(s)) for s in surface]
    variants = [" ".join(s for s, st in zip(surface, stems) if w not in st) for w in words]
    vectors = embed([" ".join(surface)] + variants)
    shift = {w: 1.0 - float(v @ vectors[0]) for w, v in zip(words, vectors[1:])}
    return max(words, key=lambda w: (shift[w], w))


def clause_words(hits: list[Hit]) -> set[str]:
    """Stemmed words of the clauses (with their section titles)."""
    out: set[str] = set()
    for h in hits:
        out.update(_stems(f"{h.clause.section} {h.clause.text}"))
    return out


def addressed(question: str, focus: str | None, leading: list[Hit], closest: float, also: list[Hit] = ()) -> bool:
    """True when the focus word (or its policy terms) is in the leading clauses, or they are close in meaning.

    `leading` are the clauses the answer would lead with; `also` more evidence (for a change question,
    the best clauses of the version before); `closest` the best cosine of the top clauses.
    """
    if focus is None or closest >= CLOSE_DENSE:
        return True
    support = clause_words(list(leading[:SUPPORT_CLAUSES]) + list(also))
    return focus in support or bool(glossary_terms(question).get(focus, set()) & support)
