"""Plain words people use for policy terms: how the word rule finds a question's topic in legal words.

Each entry maps a pattern in the question to the terms policies use. The word rule (qa/abstain.py) counts
a question word as used by a version when one of its terms is. Kept general: vocabulary, never particular
questions.
"""

from __future__ import annotations

import re

TERMS: list[tuple[str, str]] = [
    (r"\bdms?\b|\bprivate messages?\b|\binbox\b", "direct messages contents of messages"),
    (
        r"\bai\b|\bartificial intelligence\b|\bgrok\b|\bgemini\b|\bllms?\b|\bchatbots?\b",
        "artificial intelligence machine learning models train",
    ),
    (r"\btrain(s|ing|ed)?\b", "train machine learning models"),
    (r"\bads?\b|\badvertis", "advertising advertisers personalized ads"),
    (
        r"\bcops?\b|\bpolice\b|\bgovernment\b|\bsubpoenas?\b|\bcourts?\b",
        "law enforcement legal process governmental request comply with law",
    ),
    (r"\bhang on to\b|\bkeep\b|\bhow long\b|\bstore\b|\bretain", "retain keep retention period delete"),
    (r"\bdelet\w*|\berase\b|\bremove\b|\bget rid of\b", "delete deletion deactivate remove account"),
    (r"\bwhere i am\b|\blocation\b|\bgps\b|\bwhere i live\b", "location information precise approximate IP address"),
    (
        r"\bkids?\b|\bchild(ren)?\b|\bminors?\b|\b1[0-7][- ]year[- ]old\b|\bteens?\b|\bunder 1[38]\b|\bage\b",
        "children minimum age under 13 parents",
    ),
    (r"\bsell\b|\bsold\b|\bselling\b", "sell personal information third parties"),
    (r"\bshare[sd]?\b|\bhand (over|out)\b|\bgive\b|\bwho (gets|sees)\b", "share disclose third parties"),
    (r"\bface\b|\bfingerprints?\b|\bbiometric", "biometric information"),
    (
        r"\bjobs?\b|\bemploy|\bcareer|\bwork history\b|\bresume\b|\bcv\b",
        "job applications employment history employers",
    ),
    (r"\bcookies?\b|\btrack(s|ing|ed)?\b|\bpixels?\b", "cookies similar technologies tracking"),
    (r"\bopt[- ]?out\b|\bturn off\b|\bswitch off\b|\bstop\b|\bobject\b", "opt out settings object control"),
    (r"\bconsent\b|\bagree\b|\bpermission\b|\bask me\b", "consent legal basis withdraw consent"),
    (r"\bdata\b|\binfo\b|\bstuff\b", "information personal data"),
    (r"\bcompensat\w*|\bpaid\b|\bpay\b|\bmoney\b", "payment compensation"),
    (r"\brecordings?\b|\brecord\b", "recordings customer content"),
    (r"\bcancel\w*|\bterminat\w*|\bquit\b", "termination cancel subscription"),
    (r"\bverify\b|\bverification\b|\bid\b|\bidentity\b", "verify identity government ID"),
]
_COMPILED = [(re.compile(p, re.IGNORECASE), t) for p, t in TERMS]


def glossary_terms(question: str) -> dict[str, set[str]]:
    """For each stemmed question word the glossary translates, the stems of the policy terms it stands for."""
    from qa.retrieve import tokenize

    out: dict[str, set[str]] = {}
    for pattern, terms in _COMPILED:
        for m in pattern.finditer(question):
            for word in tokenize([m.group(0)])[0]:
                out.setdefault(word, set()).update(tokenize([terms])[0])
    return out
