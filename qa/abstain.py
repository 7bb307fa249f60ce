"""The words of a question that could name its topic, and those a policy version never uses.

Whether a version addresses a question is decided by the trained answerability model (qa/rank.py).
These words serve what is shown around that decision: the parts of a question a full answer must
cover (qa.answer.covering), and, when ClauseCite abstains, the question's words the version never
uses, so the user can try the policy's own word.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from qa.records import Scope

COMMON_SHARE = 0.10  # words in a tenth of a version's clauses (its name, "data", "information") name no topic
FILLER = (
    "me my mine am did does do would what anything thing things stuff now actually too never ever "
    "really just can could will should is are was were i you your it its they them their someone "
    "something how why when where who which if so get got any some there this that these those "
    "im ive dont cant wont didnt doesnt isnt"
)
MONTHS = (
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec"
)
_WORD = re.compile(r"[A-Za-z0-9']+")


def _stems(text: str) -> list[str]:
    from qa.retrieve import tokenize

    return tokenize([text])[0]


def keywords(question: str, scope: Scope, word_share: Mapping[str, float], change_words: str = "") -> list[str]:
    """Stemmed words of the question that could name its topic in this version."""
    drop = set(_stems(f"{FILLER} {MONTHS} {scope.service} {scope.document.replace('-', ' ')} {change_words}"))
    words = set(_stems(question)) - drop
    return sorted(w for w in words if not w.isdigit() and word_share.get(w, 0.0) < COMMON_SHARE)


def never_used(question: str, scope: Scope, word_share: Mapping[str, float], change_words: str = "") -> list[str]:
    """The question's topic words (as the question writes them, in its order) that the version never uses."""
    absent = [w for w in keywords(question, scope, word_share, change_words) if w not in word_share]
    words = [as_written(question, w) for w in absent]
    return sorted(words, key=question.find)


def as_written(question: str, stem: str) -> str:
    """The question's own spelling of a stemmed word."""
    return next((s for s in _WORD.findall(question) if stem in _stems(s)), stem)
