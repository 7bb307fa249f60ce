"""Answers with verified citations: extractive by default, an LLM draft when one is configured."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import replace
from typing import TYPE_CHECKING

from ingest.errors import InputError
from ingest.linear import sub_tags
from ingest.loaders import TAG
from ingest.records import Clause
from qa import abstain, rank
from qa.compare import align
from qa.dates import dates_in, without_dates
from qa.records import Answer, ChangeStatus, Citation, ClauseChange, Draft, Hit, Scope, Support
from qa.retrieve import Ranking, Retriever, ScopeError, previous_version, tokenize
from qa.verify import make_citation, verify
from settings import Settings

if TYPE_CHECKING:
    from qa.llm import LLMAnswerer

CHANGE_WORDS = re.compile(
    r"\b(new|newly|chang\w*|"
    r"before(?=\s*(?:[?.!,;)]|$|\d|the (?:update|change)|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b))|"
    r"previous\w*|(?<!be )(?<!been )used to|no longer|drop\w*|add(?:s|ed|ing|itions?)?|remov\w*|"
    r"start\w*|always|recent\w*|updat\w*|differ\w*|since|anymore|compare\w*|versus|vs\.?|earlier|"
    r"introduc\w*)\b",
    re.IGNORECASE,
)
# words before a change word that make it the asker's: the thing's owner or article ("my new phone"), the asker
OWN_THINGS = frozenset(["a", "an", "my", "your", "our", "whole", "brand", "the", "their", "his", "her"])
ASKER = frozenset(["i", "i'm", "im", "i've", "ive", "we", "we've"])
# ...unless the thing is the policy or a part of it: "the new policy", "a new clause", "the updated terms"
POLICY_NOUNS = frozenset(
    [
        "policy", "privacy", "version", "terms", "update", "notice", "rules", "wording", "clause", "clauses",
        "section", "sections", "paragraph", "provision", "provisions", "language", "text", "line",
    ]
)  # fmt: skip
# after "different", what makes it a difference in time: "different before", "different in the 2025 version"
IN_TIME = re.compile(
    r"[^?.!]*\b(?:before|previous\w*|earlier|old|older|last|used to|past|now|version|update\w*|\d{4})\b"
)
# in a change question, how it asks about the wording ("when did they start saying that ...") names no topic
ABOUT_WORDING = re.compile(
    r"\bwhen (?:did|does|was|were|has|have)\b|\b(?:say|says|saying|said|mention\w*)\b(?: that\b)?", re.IGNORECASE
)
# a follow-up that points back and names no topic of its own: "Was that in the policy before?", "is this new?"
POINTS_BACK = frozenset(
    ["that", "this", "it", "policy", "privacy", "terms", "version", "there", "here", "in", "the", "a"]
)
# a sentence ends at . ! ? or ; and spaces, but not after an abbreviation ("e.g.", "i.e.", "U.S.", "Inc.")
SENTENCE_END = re.compile(
    r"(?<!\be\.g\.)(?<!\bi\.e\.)(?<!\bU\.S\.)(?<!\bU\.K\.)(?<!\bInc\.)(?<!\bLtd\.)"
    r"(?<!\bNo\.)(?<!\bvs\.)(?<!\bcf\.)(?<!\bSt\.)(?<!\bCo\.)(?<!\bMr\.)(?<!\bMs\.)"
    r"(?<!\bDr\.)(?<=[.!?;])[\"”’)]*\s+"
)
ABSTAIN_TEXT = (
    "The {name} policy (version {version}) does not address this question. The closest clauses "
    "are listed as related, not cited."
)
ADDRESSED_TEXT = "{name} (version {version}) addresses this in {n} clause{s}:"
PARTLY_TEXT = (
    "{name} (version {version}) talks about this, but none of these clauses clearly settles the "
    "question; the closest {n} clause{s}:"
)
NEVER_USES = " It never uses the word{s} {words}; if the policy has its own word for it, try that."
DATED = "The question names a date, so this is version {version}; the newest is {newest}."
ADDRESSED, PARTLY, NOT_ADDRESSED = Support.ADDRESSED, Support.PARTLY, Support.NOT_ADDRESSED
MAX_DROPPED = 1  # clauses of the previous version cited because they were removed
MAX_REWORDED = 2  # earlier wordings cited for reworded clauses (the best-ranked); the rest get a note
# the earlier version's side of an unchanged clause is cited for the best clause, and for the second when it is on
# the question's topic: "was verifying users' age already in the policy?" is answered "yes" by the age clause of
# the version before, though a reworded clause ranks first. On the 36 change questions of dev and bench/questions:
# evidence recall 0.806 -> 0.819, 1,668 -> 1,751 characters cited.
SAME_CITED = 2
# In a change question, clauses that are new or reworded matter most, when they are on the question's topic: at
# CHANGE_SHARE of the best clause's relevance, or touching a part of the question. Only those are cited. On the 45
# change questions of dev and bench/questions: evidence recall 0.778 -> 0.806, 1,812 -> 1,754 characters cited.
CHANGE_BOOST = 3.0
CHANGE_SHARE = 0.2
COVER_FROM = 12  # a part of the question no cited clause touches is sought in this many ranked clauses
COVER_EACH = 2  # ...and up to this many of the clauses that touch it are cited


class QuestionError(InputError):
    """A question that cannot be asked as written; the message says why and what to do."""


def check_question(question: str, limit: int) -> str:
    """The question stripped, or a QuestionError for empty, wordless or over-long input."""
    q = (question or "").strip()
    if not q:
        raise QuestionError("the question is empty; type what you want to know about the policy")
    if not re.search(r"\w", q):
        raise QuestionError("the question has no words; type what you want to know about the policy")
    if len(q) > limit:
        raise QuestionError(
            f"the question is {len(q):,} characters; the limit is {limit:,}. Shorten it to the part you want answered"
        )
    return q


def is_change_question(question: str) -> bool:
    """True when the question asks what changed, is new, or was there before: a change word that is about
    the policy, not about the asker's own things and acts ("a new phone", "my removed post", "when I add a
    card", "before I changed it") or a difference that is not one in time ("different prices")."""
    return any(_about_the_policy(m, question) for m in CHANGE_WORDS.finditer(question))


def _about_the_policy(m: re.Match[str], question: str) -> bool:
    before = re.findall(r"[\w']+", question[: m.start()].lower())[-2:]
    after = re.findall(r"[\w']+", question[m.end() :].lower())[:1]
    word = m.group(0).lower()
    the_policy = after[:1] == ["one"] and before[-1:] == ["the"]  # "is that in the new one?"
    if before[-1:] and before[-1] in OWN_THINGS and after and after[0] not in POLICY_NOUNS and not the_policy:
        return False  # an adjective on the asker's thing: "my new phone", "a whole new account"
    if ASKER & set(before) and not word.startswith(("new", "differ", "since", "vs", "versus")):
        return False  # the asker's own act: "when I add a card", "I used to use an app", "if I always log in"
    if word.startswith("differ"):  # "different prices" is no change; "different before" is
        return bool(IN_TIME.match(question, m.end()))
    return True


def topic_of(question: str) -> str:
    """What to search for: the question without markup tags, without the dates it names (they pick
    the version) and, for a change question, without its change words ("new", "changed", "since"),
    which the comparison answers; either would otherwise find clauses about policy changes."""
    question = sub_tags(TAG, question)  # an HTML tag pasted into a question names no topic
    undated = without_dates(question)
    question = undated if len(re.findall(r"\w+", undated)) >= 2 else question
    if not is_change_question(question):
        return question
    parts = [CHANGE_WORDS.sub(" ", ABOUT_WORDING.sub(" ", s)) for s in SENTENCE_END.split(question)]
    named = [p for p in parts if set(re.findall(r"\w+", p.lower())) - POINTS_BACK - abstain.FILLER_WORDS]
    topic = re.sub(r"\s+", " ", " ".join(named or parts)).strip()
    return topic if len(re.findall(r"\w+", topic)) >= 2 else question


def sentences(text: str) -> list[str]:
    """The sentences of a clause, verbatim; abbreviations such as "e.g." do not end one."""
    out, start = [], 0
    for m in SENTENCE_END.finditer(text):
        out.append(text[start : m.start()].strip() or text[start : m.end()].strip())
        start = m.end()
    out.append(text[start:].strip())
    return [x for x in out if x]


def best_quote(text: str, question: str, limit: int = 300, share: Mapping[str, float] | None = None) -> str:
    """The sentence of a clause that best matches the question's words (verbatim), or the clause. With the
    version's word `share` (Retriever.word_share), a rare word counts more than a common one: "train" decides
    between "we use the information ... on X" and "we use ... to train our models", "X" and "use" do not."""
    if len(text) <= limit:
        return text
    q = set(tokenize([question])[0])
    weight = (lambda w: -math.log(max(share.get(w, 0.0), 0.01))) if share else (lambda w: 1.0)
    parts = sentences(text)
    scored = [(sum(weight(w) for w in q & set(tokenize([s])[0])), -i, s) for i, s in enumerate(parts)]
    best = max(scored)[2] if scored else text
    best = best if best in text else text
    return best if len(best) <= limit else best[:limit].rsplit(" ", 1)[0]


class Answerer:
    """Turns a question and a policy scope into an Answer whose every citation is checked."""

    def __init__(self, settings: Settings, retriever: Retriever | None = None, llm: LLMAnswerer | None = None):
        self.settings = settings
        self.retriever = retriever or Retriever(settings)
        self.llm = llm
        self._alignments: dict[tuple[str, str], dict[str, ClauseChange]] = {}
        self._removed: dict[tuple[str, str], set[str]] = {}

    def ask(
        self, question: str, *, service: str, document: str = "", version: str = "", as_of: str = "", id: str = ""
    ) -> Answer:
        """Answer one question about one policy version (newest, as of a date, or named)."""
        t0 = time.perf_counter()
        q = check_question(question, self.settings.max_question_chars)
        scope = newest = self.retriever.resolve(service, document, version, as_of)
        earlier = None
        if not (version or as_of):
            scope, earlier = self._scopes_named_in(q, newest)
        ranking = self.retriever.rank(topic_of(q), scope, k=16 if is_change_question(q) else COVER_FROM)
        t1 = time.perf_counter()
        answer = self._compose(q, scope, ranking, earlier)
        if scope != newest:
            dated = DATED.format(version=scope.version, newest=newest.version)
            answer = replace(answer, text=f"{answer.text}\n\n{dated}")
        timings = {"retrieve_ms": round((t1 - t0) * 1000, 1), "total_ms": round((time.perf_counter() - t0) * 1000, 1)}
        return replace(answer, id=id, timings=timings)

    def _scopes_named_in(self, q: str, newest: Scope) -> tuple[Scope, Scope | None]:
        """The version a question's dates point at, and the earlier one it compares with, if it names one.

        "in September 2023" asks about the version in effect then; "since May 2023", or a second,
        earlier date, names the version to compare with. A date before the first indexed version is
        passed over (the newest version answers).
        """

        def at(day: str) -> Scope | None:
            try:
                return self.retriever.resolve(newest.service, newest.document, as_of=day)
            except ScopeError:
                return None

        mentions = dates_in(q)
        plain = [at(m.date) for m in mentions if not m.since]
        since = [at(m.date) for m in mentions if m.since]
        asked = max((s for s in plain if s), key=lambda s: s.version, default=newest)
        before = [s for s in since + plain if s and s.version < asked.version]
        return asked, min(before, key=lambda s: s.version, default=None)

    def _compose(self, q: str, scope: Scope, ranking: Ranking, earlier: Scope | None = None) -> Answer:
        hits = ranking.hits
        prev = (earlier or self._previous(scope)) if is_change_question(q) else None
        facets = self.facets(q, scope, ranking.spelled)
        idx = self.retriever.index(scope)

        def words(h: Hit) -> frozenset[str]:
            return idx.words[idx.by_id[h.clause.clause_id]]

        topical = on_topic(hits, facets, words) if prev is not None else set()
        ordered = self._favour_changes(prev, scope, hits, topical) if prev is not None else hits
        confidence = self.addressed(q, ranking, prev)
        support = self.support(confidence) if hits else NOT_ADDRESSED
        asks_rule = confidence < self.retriever.trained.rule_below
        missing = self.unaddressed(q, scope, hits, ordered, prev) if asks_rule else None
        if support == NOT_ADDRESSED or missing is not None:
            return self._abstain(q, scope, hits, confidence, missing or [])
        # a change answer cites only clauses on the question's topic: a clause merely reworded is no news
        pool = ordered if prev is None else [h for h in ordered if h.clause.clause_id in topical]
        chosen = covering(select(pool, rank.CITE_SHARE), ordered, facets, words)
        if self.llm is not None:
            drafted = self._llm_answer(q, scope, hits)
            if drafted is not None:
                return replace(drafted, support=support, confidence=confidence)
            fallback = self._extractive(q, scope, chosen, prev, support, topical)
            return replace(
                fallback,
                backend="extractive (fallback: the LLM answer had no verifiable citation)",
                confidence=confidence,
            )
        return replace(self._extractive(q, scope, chosen, prev, support, topical), confidence=confidence)

    def facets(self, q: str, scope: Scope, spelled: tuple[str, ...] = ()) -> list[frozenset[str]]:
        """The parts of a question a full answer must touch, each as the stemmed words a clause on it
        uses: its topic words that the version uses, and the phrases its short forms stand for (`spelled`,
        as the ranking found them)."""
        share = self.retriever.word_share(scope)
        change_words = " ".join(m.group(0) for m in CHANGE_WORDS.finditer(q))  # "what changed" is no topic
        words = [frozenset([w]) for w in abstain.keywords(q, scope, share, change_words) if w in share]
        phrases = [frozenset(tokenize([p])[0]) for p in spelled]
        return [f for f in phrases + words if f]

    def addressed(self, q: str, ranking: Ranking, prev: Scope | None) -> float:
        """How likely the version addresses the question; a change question counts the version before
        too, since "did they drop X?" is answered by X's clause there."""
        if prev is None:
            return ranking.addressed
        return max(ranking.addressed, self.retriever.rank(topic_of(q), prev, k=3).addressed)

    def support(self, confidence: float) -> str:
        """The answer state for an answerability probability (thresholds shipped with the model)."""
        models = self.retriever.trained
        if confidence >= models.addressed:
            return ADDRESSED
        return PARTLY if confidence >= models.partly else NOT_ADDRESSED

    def _quote(self, text: str, q: str, scope: Scope) -> str:
        """best_quote with the version's word shares, so that the question's rare words choose the sentence."""
        return best_quote(text, q, share=self.retriever.word_share(scope))

    # extractive ----------------------------------------------------------------------------
    def _extractive(
        self,
        q: str,
        scope: Scope,
        chosen: list[Hit],
        prev: Scope | None,
        support: str = ADDRESSED,
        topical: AbstractSet[str] = frozenset(),
    ) -> Answer:
        cited = [make_citation(i + 1, h, self._quote(h.clause.text, q, scope)) for i, h in enumerate(chosen)]
        head = ADDRESSED_TEXT if support == ADDRESSED else PARTLY_TEXT
        lines = [head.format(name=_name(scope), version=scope.version, n=len(cited), s="s" if len(cited) > 1 else "")]
        lines += [f"[{c.n}] {(c.section or 'Preamble').rstrip('.')}: “{c.quote}”" for c in cited]
        changes: list[ClauseChange] = []
        if prev is not None:
            changes = self._changes_for(prev, scope, [h.clause.clause_id for h in chosen])
            extra, notes = self._change_citations(changes, cited, q, topical)
            gone_hits, gone, gone_notes = self._dropped(q, prev, scope, len(cited) + len(extra))
            cited += extra + gone
            changes += [ClauseChange(ChangeStatus.REMOVED, h.clause.section, h.clause, None) for h in gone_hits]
            which = (
                f"the previous version ({prev.version})" if prev == self._previous(scope) else f"version {prev.version}"
            )
            lines += ["", f"Compared with {which}:"] + notes + gone_notes
        elif is_change_question(q):
            lines += ["", f"This is the first indexed version of {_name(scope)}; there is nothing earlier to compare."]
        return Answer(
            q,
            scope.service,
            scope.document,
            scope.version,
            "\n".join(lines),
            tuple(cited),
            changes=tuple(changes),
            backend="extractive",
            support=support,
        )

    def _change_citations(
        self, changes: list[ClauseChange], cited: list[Citation], q: str, topical: AbstractSet[str]
    ) -> tuple[list[Citation], list[str]]:
        """The earlier version's side of the `cited` clauses: the old wording of the best-ranked reworded
        ones on the question's topic (ids in `topical`, up to MAX_REWORDED), and the first SAME_CITED clauses
        as the earlier version has them when they are unchanged and on topic (the proof that they are not
        new; the best clause always). The rest get a note."""
        reworded = [i for i, ch in enumerate(changes) if ch.status == "changed" and ch.after.clause_id in topical]
        reworded = reworded[:MAX_REWORDED]
        same = [
            i
            for i, ch in enumerate(changes[:SAME_CITED])
            if ch.status in ("same", "moved") and (i == 0 or ch.after.clause_id in topical)
        ]
        extra: list[Citation] = []
        notes: list[str] = []
        for i, ch in enumerate(changes):
            if ch.status == "added":
                notes.append(f"[{i + 1}] is new: no earlier clause says this.")
                continue
            if i not in reworded + same:
                was = "was reworded since" if ch.status == "changed" else "is unchanged from"
                notes.append(f"[{i + 1}] {was} {ch.before.version} ({ch.before.section}).")
                continue
            n, old = len(cited) + len(extra) + 1, ch.before
            quote = self._quote(old.text, q, Scope(old.service, old.document, old.version))
            extra.append(make_citation(n, Hit(old, ch.similarity), quote))
            if i in same:
                notes.append(
                    f"[{i + 1}] is unchanged from {old.version}, where it is [{n}] ({old.section}); "
                    f"it reads the same {self._since(old)}."
                )
            else:
                notes.append(f"[{i + 1}] was reworded; the {old.version} wording was [{n}]: “{extra[-1].quote}”")
        return extra, notes

    def _dropped(self, q: str, prev: Scope, scope: Scope, start: int) -> tuple[list[Hit], list[Citation], list[str]]:
        """Clauses of the previous version on this question that the asked-about version no longer has."""
        self._changes_for(prev, scope, [])
        removed = self._removed[(prev.key, scope.key)]
        hits = [h for h in self.retriever.search(topic_of(q), prev, k=5) if h.clause.clause_id in removed][:MAX_DROPPED]
        cited = [make_citation(start + i + 1, h, self._quote(h.clause.text, q, prev)) for i, h in enumerate(hits)]
        notes = [f"[{c.n}] ({prev.version}, {c.section}) is no longer in this version: “{c.quote}”" for c in cited]
        return hits, cited, notes

    def _favour_changes(self, prev: Scope, scope: Scope, hits: list[Hit], topical: AbstractSet[str]) -> list[Hit]:
        """The hits with the new or reworded ones on the question's topic (ids in `topical`) moved up: a
        clause is not favoured for being reworded alone."""
        changes = self._changes_for(prev, scope, [h.clause.clause_id for h in hits])
        status = {ch.after.clause_id: ch.status for ch in changes}
        boosted = [
            replace(h, score=h.score * CHANGE_BOOST)
            if status.get(h.clause.clause_id) in ("added", "changed") and h.clause.clause_id in topical
            else h
            for h in hits
        ]
        return sorted(boosted, key=lambda h: h.score, reverse=True)

    def _previous(self, scope: Scope) -> Scope | None:
        return previous_version(self.retriever.store.versions(scope.service, scope.document), scope)

    def _changes_for(self, prev: Scope, scope: Scope, clause_ids: list[str]) -> list[ClauseChange]:
        aligned = self._alignment(prev, scope)
        return [aligned[cid] for cid in clause_ids if cid in aligned]

    def _alignment(self, prev: Scope, scope: Scope) -> dict[str, ClauseChange]:
        """The clauses of `scope` aligned with those of `prev` (by the later clause's id), computed once."""
        key = (prev.key, scope.key)
        if key not in self._alignments:
            store = self.retriever.store
            old = store.clauses(prev.service, prev.document, prev.version)
            new = store.clauses(scope.service, scope.document, scope.version)
            changes = align(old, new)
            self._alignments[key] = {ch.new.clause_id: ch for ch in changes if ch.new is not None}
            self._removed[key] = {ch.before.clause_id for ch in changes if ch.status == "removed"}
        return self._alignments[key]

    def _since(self, clause: Clause) -> str:
        """How far back a clause reads the same, as the end of a sentence: "since 2023-09-29, where it
        first appears" (or "(earlier versions word it differently)", or "..., the first indexed version")."""
        scope = Scope(clause.service, clause.document, clause.version)
        cid = clause.clause_id
        while (prev := self._previous(scope)) is not None:
            ch = self._alignment(prev, scope).get(cid)
            if ch is None or ch.status not in ("same", "moved"):
                first = ch is None or ch.status == "added"
                how = ", where it first appears" if first else " (earlier versions word it differently)"
                return f"since {scope.version}{how}"
            scope, cid = prev, ch.before.clause_id
        return f"since {scope.version}, the first indexed version"

    # abstain / llm -------------------------------------------------------------------------
    def unaddressed(
        self, q: str, scope: Scope, hits: list[Hit], ordered: list[Hit], prev: Scope | None
    ) -> list[str] | None:
        """The word-level rule (qa/abstain.py): None when the version addresses the question; else the
        question's words it never uses (may be []). Asked beside the learned answerability when that is
        below the models' `rule_below` (train/fit.py RULE_SHARE): the model alone misses questions on
        topics the policy never names (a refund for a wrong horoscope reads as close to the refund
        clauses), docs/benchmarks.md."""
        if not hits:
            return []
        change_words = " ".join(m.group(0) for m in CHANGE_WORDS.finditer(q)) if prev is not None else ""
        share = self.retriever.word_share(scope)
        words = abstain.keywords(q, scope, share, change_words)
        if not abstain.may_abstain(q, words, share.keys(), 0.0):  # every keyword is used: no model work
            return None
        closest = self.retriever.closeness(q, scope, [h.clause for h in hits[: abstain.SUPPORT_CLAUSES]])
        if not abstain.may_abstain(q, words, share.keys(), closest):
            return None
        weight = abstain.weights(q, words, self.retriever.word_embedder.encode)
        before = self.retriever.search(topic_of(q), prev, k=abstain.SUPPORT_CLAUSES) if prev is not None else []
        missing = abstain.unaddressed(
            q, weight, share.keys(), ordered, closest, before, lambda word: self.retriever.nearest_word(scope, word)
        )
        return missing or None

    def _abstain(
        self, q: str, scope: Scope, hits: list[Hit], confidence: float = 0.0, missing: Sequence[str] = ()
    ) -> Answer:
        related = tuple(make_citation(i + 1, h, self._quote(h.clause.text, q, scope)) for i, h in enumerate(hits[:3]))
        text = ABSTAIN_TEXT.format(name=_name(scope), version=scope.version)
        if missing:
            text += NEVER_USES.format(s="s" if len(missing) > 1 else "", words=", ".join(f"“{w}”" for w in missing[:3]))
        return Answer(
            q,
            scope.service,
            scope.document,
            scope.version,
            text,
            (),
            abstained=True,
            related=related,
            backend="extractive",
            support=NOT_ADDRESSED,
            confidence=confidence,
        )

    def _llm_answer(self, q: str, scope: Scope, hits: list[Hit]) -> Answer | None:
        assert self.llm is not None, "only called when an LLM is configured"
        draft: Draft = self.llm.draft(q, scope, hits)
        text, cited, dropped = verify(draft, hits)
        if not cited:
            return None  # nothing verifiable: the extractive answer stands in (backend says so)
        return Answer(q, scope.service, scope.document, scope.version, text, tuple(cited), backend=draft.backend)


def select(hits: list[Hit], share: float) -> list[Hit]:
    """The clauses worth citing: the best, then those whose relevance is at least `share` of the best,
    within rank.MAX_CITED clauses and rank.CITED_CHARS characters."""
    return [hits[i] for i in rank.select([h.score for h in hits], [len(h.clause.text) for h in hits], share)]


def on_topic(hits: list[Hit], facets: list[frozenset[str]], words: Callable[[Hit], frozenset[str]]) -> set[str]:
    """Ids of the hits on the question's topic, not merely nearby: those at CHANGE_SHARE of the best one's
    relevance, and those that touch a part of the question (`facets`, as for `covering`)."""
    floor = CHANGE_SHARE * max((h.score for h in hits), default=0.0)
    return {h.clause.clause_id for h in hits if h.score >= floor or any(f <= words(h) for f in facets)}


def covering(
    chosen: list[Hit], ranked: list[Hit], facets: list[frozenset[str]], words: Callable[[Hit], frozenset[str]]
) -> list[Hit]:
    """The chosen clauses, plus for each part of the question that none of them touches, the best-ranked
    COVER_EACH of the first COVER_FROM clauses that touch it ("Will my DMs train AI?" cites the
    AI-training clause and the ones on direct messages). Within rank.MAX_CITED clauses and
    rank.CITED_CHARS characters, an added clause takes the place of the weakest chosen ones that touch
    no part of the question the others do not. `words(hit)` is a clause's stemmed words (the version
    index keeps them)."""
    out = list(chosen)

    def fits(extra: Hit) -> bool:
        return (
            len(out) < rank.MAX_CITED
            and sum(len(h.clause.text) for h in out) + len(extra.clause.text) <= rank.CITED_CHARS
        )

    def spare() -> list[Hit]:
        return [
            h
            for h in out[1:]
            if not any(f <= words(h) and not any(f <= words(o) for o in out if o is not h) for f in facets)
        ]

    for facet in facets:
        if not out or any(facet <= words(h) for h in out):
            continue
        extras = [h for h in ranked[:COVER_FROM] if h not in out and facet <= words(h)][:COVER_EACH]
        for extra in extras:
            while not fits(extra) and spare():
                out.remove(spare()[-1])
            if not fits(extra):
                break
            out.append(extra)
    return out


def _name(scope: Scope) -> str:
    return f"{scope.service}/{scope.document}"
