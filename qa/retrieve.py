"""Retrieval over one policy version: hybrid candidates (dense + BM25), ranked by the trained ranker."""

from __future__ import annotations

import datetime as dt
import re
import threading
from dataclasses import dataclass
from typing import Any, Literal, get_args

import numpy as np

from ingest.embedder import Embedder
from ingest.errors import InputError
from ingest.pipeline import open_store
from ingest.records import Clause, content_hash
from ingest.store import ClauseStore, VersionInfo
from qa import acronyms, rank
from qa.rank import Candidate
from qa.records import Hit, Scope
from settings import Settings

RRF_K = 10  # reciprocal-rank fusion constant of the plain hybrid mode (a baseline in bench/)
REPEAT_WORDS = 8  # a clause of at least this many words inside another one is a repeat of it
Mode = Literal["learned", "hybrid", "dense", "bm25"]
MODES: tuple[Mode, ...] = get_args(Mode)
SHARE_OF = 30  # `word_share` counts a version of fewer clauses as this many
_VOCAB_WORD = re.compile(r"[A-Za-z][A-Za-z'-]{2,}")


class ScopeError(InputError):
    """The question names a policy or version that is not indexed; the message lists what is."""


def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def tokenize(texts: list[str]) -> list[list[str]]:
    """Lower-cased, stop-worded, stemmed tokens (the same for clauses and questions)."""
    import bm25s

    return bm25s.tokenize(texts, stopwords="en", stemmer=_stemmer(), return_ids=False, show_progress=False)


@dataclass
class _VersionIndex:
    """Per-version lexical index, clause words and heading vectors, built once per process."""

    clauses: list[Clause]
    by_id: dict[str, int]
    bm25: Any  # a bm25s.BM25 (bm25s is imported only when an index is built)
    section_vectors: np.ndarray  # one row per clause: its section heading's embedding
    base_vectors: np.ndarray  # one row per clause: its packaged-MiniLM embedding (the ranker's `base`)
    words: list[frozenset[str]]  # stemmed words of each clause with its section and lead-in
    heading_words: list[frozenset[str]]
    vocabulary: frozenset[str]
    word_share: dict[str, float] | None = None
    written: list[str] | None = None  # the version's own words as written, lower-cased
    written_vectors: np.ndarray | None = None
    text: str = ""  # the section titles once, then every clause: where a question's short forms are spelled out
    titles: tuple[str, ...] = ()  # every heading of the version once (each level of the clauses' heading paths)


@dataclass(frozen=True)
class Ranking:
    """The ranked clauses of one version for a question, and how likely it is that they address it."""

    hits: list[Hit]
    addressed: float  # the answerability model's probability that the version addresses the question
    spelled: tuple[str, ...] = ()  # what the question's short forms stand for in the version (qa/acronyms.py)


class Retriever:
    """Finds the clauses of one version that bear on a question; one per process, thread-safe."""

    def __init__(
        self,
        settings: Settings,
        store: ClauseStore | None = None,
        embedder: Embedder | None = None,
        models: rank.Models | None = None,
        *,
        learned: bool = True,
    ):
        self.settings = settings
        # a missing or damaged model file stops here, at start-up; `train/` mines without models
        self.models = models or (rank.load(settings.models_dir) if learned else None)
        self.store = store or open_store(settings)
        self.embedder = embedder or Embedder(settings.embedding_model, settings.data_dir)
        # the packaged MiniLM, beside the index: the abstention rule's words and the ranker's `base`
        self.word_embedder = self.embedder.second_opinion()
        self._indexes: dict[str, _VersionIndex] = {}
        self._recent: dict[str, np.ndarray] = {}  # query text -> vector, oldest first
        self._rankings: dict[str, Ranking] = {}  # version and question -> every candidate ranked, oldest first
        self._lock = threading.Lock()

    @property
    def trained(self) -> rank.Models:
        """The trained models; a Retriever made with `learned=False` (train/ mining) has none."""
        if self.models is None:
            raise rank.ModelError("this Retriever was made without the trained models (learned=False)")
        return self.models

    # scope ---------------------------------------------------------------------------------
    def resolve(self, service: str, document: str = "", version: str = "", as_of: str = "") -> Scope:
        """The version a question is about: explicit, as of a date, or the newest."""
        versions = self.store.versions()
        if not versions and (others := self.store.other_indexes()):
            raise ScopeError(
                f"nothing is indexed for the current embedding model and recipe ({self.settings.collection_name}); "
                f"{self.settings.data_dir} holds an index made with {', '.join(others)} (another model, or the "
                "model before it was retrained): run `clausecite ingest ...` again to index it with the current one"
            )
        return resolve_scope(versions, service, document, version, as_of)

    # search --------------------------------------------------------------------------------
    def index(self, scope: Scope) -> _VersionIndex:
        """Clauses and BM25 index of a version (cached; rebuilt if the version was replaced)."""
        info = self._info(scope)
        key = f"{scope.key}:{info.sha256}"
        with self._lock:
            if key not in self._indexes:
                self._indexes[key] = self._build(scope)
            return self._indexes[key]

    def _build(self, scope: Scope) -> _VersionIndex:
        import bm25s

        clauses = self.store.clauses(scope.service, scope.document, scope.version)
        docs = [f"{c.section} {lead} {c.text}" for c, lead in zip(clauses, lead_ins(clauses), strict=True)]
        stems = tokenize(docs)
        bm25 = bm25s.BM25()
        bm25.index(stems, show_progress=False)
        heads = [" ".join(c.heading_path[-2:]) or c.section for c in clauses]
        vecs, _ = self.embedder.embed_cached([content_hash("heading:" + h) for h in heads], heads)
        # ingest cached these; an index made before the ranker used them gets them once, here
        base, _ = self.word_embedder.embed_cached([c.content_hash for c in clauses], [c.text for c in clauses])
        words = [frozenset(s) for s in stems]
        return _VersionIndex(
            clauses,
            {c.clause_id: i for i, c in enumerate(clauses)},
            bm25,
            vecs,
            base,
            words,
            [frozenset(s) for s in tokenize(heads)],
            frozenset().union(*words),
            text="\n".join([*dict.fromkeys(c.section for c in clauses), *(c.text for c in clauses)]),
            titles=tuple(dict.fromkeys(h for c in clauses for h in c.heading_path)),
        )

    def spelled_out(self, question: str, scope: Scope) -> list[str]:
        """What the question's short forms stand for in this version ("DMs" -> "direct messages")."""
        idx = self.index(scope)
        return acronyms.phrases(question, idx.text, idx.vocabulary, _stem, self._phrase_closeness, idx.titles)

    def _phrase_closeness(self, short: str, phrases: list[str]) -> list[float]:
        vecs, _ = self.word_embedder.embed_cached([content_hash("phrase:" + p) for p in phrases], phrases)
        return [float(x) for x in vecs @ self.word_embedder.embed_query(short)]

    def word_share(self, scope: Scope) -> dict[str, float]:
        """For every stemmed word of a version, the share of its clauses (with section titles) that use it."""
        idx = self.index(scope)
        if idx.word_share is None:
            counts: dict[str, int] = {}
            for doc in tokenize([f"{c.section} {c.text}" for c in idx.clauses]):
                for w in set(doc):
                    counts[w] = counts.get(w, 0) + 1
            # below SHARE_OF clauses, a tenth is one clause or less: that one clause does not make a word common
            idx.word_share = {w: n / max(len(idx.clauses), SHARE_OF) for w, n in counts.items()}
        return idx.word_share

    def nearest_word(self, scope: Scope, word: str) -> tuple[str, float]:
        """The version's word closest in meaning to `word` (MiniLM cosine), e.g. "boss" -> ("job", 0.63)."""
        idx = self.index(scope)
        with self._lock:
            if idx.written is None:
                words = sorted({w.lower() for c in idx.clauses for w in _VOCAB_WORD.findall(f"{c.section} {c.text}")})
                idx.written_vectors, _ = self.word_embedder.embed_cached(
                    [content_hash("word:" + w) for w in words], words
                )
                idx.written = words
        if not idx.written:
            return "", 0.0
        sims = idx.written_vectors @ self.word_embedder.embed_query(word.lower())
        best = int(np.argmax(sims))
        return idx.written[best], float(sims[best])

    def closeness(self, question: str, scope: Scope, clauses: list[Clause]) -> float:
        """The best packaged-MiniLM cosine of the question and the clauses of the version (the rule's
        closeness test), from the vectors its index holds."""
        if not clauses:
            return 0.0
        idx = self.index(scope)
        rows = [idx.by_id[c.clause_id] for c in clauses]
        return float(np.max(idx.base_vectors[rows] @ self._query_vector(question, self.word_embedder)))

    def _info(self, scope: Scope) -> VersionInfo:
        info = self.store.get_version(scope.service, scope.document, scope.version)
        if info is None:
            raise ScopeError(f"{scope.key} is not indexed")
        return info

    def search(
        self,
        question: str,
        scope: Scope,
        k: int | None = None,
        mode: Mode = "learned",
        vector: np.ndarray | None = None,
    ) -> list[Hit]:
        """Top-k clauses of the scoped version; mode is 'learned' (default), 'hybrid', 'dense' or 'bm25'."""
        if mode == "learned":
            return self.rank(question, scope, k, vector).hits
        k = k or self.settings.k
        idx = self.index(scope)
        n = min(self.settings.candidates, len(idx.clauses))
        if n == 0:
            return []
        if vector is None and mode != "bm25":
            vector = self._query_vector(question)
        dense = dict(self.store.query(vector, self._info(scope), n)) if vector is not None and mode != "bm25" else {}
        lexical = self._lexical(question, idx, n) if mode != "dense" else {}
        fused = rrf(
            [
                sorted(dense, key=lambda c: dense[c], reverse=True),
                sorted(lexical, key=lambda c: lexical[c], reverse=True),
            ]
        )
        hits = [
            Hit(idx.clauses[idx.by_id[cid]], s, dense.get(cid, 0.0), lexical.get(cid, 0.0))
            for cid, s in fused.items()
            if cid in idx.by_id
        ]
        return _distinct(sorted(hits, key=lambda h: h.score, reverse=True), k)

    def rank(self, question: str, scope: Scope, k: int | None = None, vector: np.ndarray | None = None) -> Ranking:
        """The candidates ranked by the trained ranker, and the answerability of the question.

        The last few rankings are kept: one change answer ranks the version before up to three times.
        """
        key = f"{scope.key}:{self._info(scope).sha256}:{question}"
        with self._lock:
            done = self._rankings.pop(key, None)
        if done is None:
            done = self._rank(question, scope, vector)
        with self._lock:
            self._rankings[key] = done
            while len(self._rankings) > 64:
                self._rankings.pop(next(iter(self._rankings)))
        return Ranking(_distinct(done.hits, k or self.settings.k), done.addressed, done.spelled)

    def _rank(self, question: str, scope: Scope, vector: np.ndarray | None) -> Ranking:
        spelled = tuple(self.spelled_out(question, scope))
        if spelled:
            question, vector = acronyms.expand(question, list(spelled)), None
        cands, vocabulary, words = self.candidates(question, scope, vector)
        if not cands:
            return Ranking([], 0.0, spelled)
        models = self.trained
        probs = models.ranker.predict(rank.ranker_features(cands))
        top = np.argsort(-probs, kind="stable")[: rank.READ]
        read = models.reader.read(question, [cands[i].clause.text for i in top])
        scores = rank.blended(probs, top, models.blend.predict(np.column_stack([probs[top], read])))
        feats = rank.answer_features(probs, cands, vocabulary, words, read)
        addressed = float(models.answerable.predict(feats)[0])
        hits = [Hit(c.clause, float(p), c.dense, c.bm25) for c, p in zip(cands, scores, strict=True)]
        hits.sort(key=lambda h: (-h.score, h.clause.ordinal))
        return Ranking(hits, addressed, spelled)

    def candidates(
        self, question: str, scope: Scope, vector: np.ndarray | None = None
    ) -> tuple[list[Candidate], float, int]:
        """The dense and BM25 candidates of a version with their signals; the share of the question's
        words that the version uses, and how many words the question has."""
        idx = self.index(scope)
        n = min(self.settings.candidates, len(idx.clauses))
        if n == 0:
            return [], 0.0, 0
        vector = self._query_vector(question) if vector is None else vector
        dense = dict(self.store.query(vector, self._info(scope), n))
        lexical = self._lexical(question, idx, n)
        ids = [cid for cid in dict.fromkeys([*dense, *lexical]) if cid in idx.by_id]
        missing = [idx.clauses[idx.by_id[c]] for c in ids if c not in dense]
        if missing:  # BM25-only candidates: their cosine from the cached clause vectors
            vecs, _ = self.embedder.embed_cached([c.content_hash for c in missing], [c.text for c in missing])
            dense.update((c.clause_id, float(v @ vector)) for c, v in zip(missing, vecs, strict=True))
        rows = [idx.by_id[c] for c in ids]
        section = idx.section_vectors[rows] @ vector
        base = idx.base_vectors[rows] @ self._query_vector(question, self.word_embedder)
        q = question_words(question, scope)
        d_rank = {c: i for i, c in enumerate(sorted(dense, key=lambda c: dense[c], reverse=True))}
        b_rank = {c: i for i, c in enumerate(sorted(lexical, key=lambda c: lexical[c], reverse=True))}
        cands = [
            Candidate(
                idx.clauses[r],
                dense[c],
                lexical.get(c, 0.0),
                float(s),
                d_rank[c],
                b_rank.get(c, 4 * n),
                _share(q, idx.words[r]),
                _share(q, idx.heading_words[r]),
                float(x),
            )
            for c, r, s, x in zip(ids, rows, section, base, strict=True)
        ]
        return cands, _share(q, idx.vocabulary), len(q)

    def _query_vector(self, query: str, embedder: Embedder | None = None) -> np.ndarray:
        """The query's embedding (by the fine-tuned encoder, or `embedder`); the last few are kept,
        since one answer searches several versions."""
        embedder = embedder or self.embedder
        key = f"{embedder.name}\n{query}"
        with self._lock:
            vector = self._recent.pop(key, None)
        if vector is None:
            vector = embedder.embed_query(query)
        with self._lock:
            self._recent[key] = vector
            while len(self._recent) > 64:
                self._recent.pop(next(iter(self._recent)))
        return vector

    def _lexical(self, question: str, idx: _VersionIndex, n: int) -> dict[str, float]:
        tokens = tokenize([question])[0]
        if not tokens:
            return {}
        scores = idx.bm25.get_scores(tokens)
        top = np.argsort(-scores)[:n]
        return {idx.clauses[i].clause_id: float(scores[i]) for i in top if scores[i] > 0}


def _stem(word: str) -> str:
    stems = tokenize([word])[0]
    return stems[0] if stems else ""


def question_words(question: str, scope: Scope) -> set[str]:
    """The question's stemmed content words, less the service's own name."""
    return set(tokenize([question])[0]) - set(tokenize([scope.service.replace("-", " ")])[0])


def _share(words: set[str], within: frozenset[str]) -> float:
    return len(words & within) / len(words) if words else 0.0


def rrf(rankings: list[list[str]], weights: list[float] | None = None) -> dict[str, float]:
    """Reciprocal-rank fusion of several rankings of ids."""
    out: dict[str, float] = {}
    for ranking, w in zip(rankings, weights or [1.0] * len(rankings), strict=True):
        for place, cid in enumerate(ranking):
            out[cid] = out.get(cid, 0.0) + w / (RRF_K + place + 1)
    return out


def resolve_scope(
    versions: list[VersionInfo], service: str, document: str = "", version: str = "", as_of: str = ""
) -> Scope:
    """Pick one indexed version; unknown names and dates get an error listing what is indexed."""
    service = (service or "").strip().lower()
    services = sorted({v.service for v in versions})
    if service not in services:
        raise ScopeError(
            f"no policy of service {service!r} is indexed; indexed services: "
            f"{', '.join(services) or 'none (run `clausecite ingest ...`)'}"
        )
    mine = [v for v in versions if v.service == service]
    docs = sorted({v.document for v in mine})
    if not document:
        document = docs[0] if len(docs) == 1 else ("privacy-policy" if "privacy-policy" in docs else "")
    if document not in docs:
        raise ScopeError(f"{service} has no document {document!r} indexed; choose one of {', '.join(docs)}")
    dates = sorted(v.version for v in mine if v.document == document)
    chosen = _pick(dates, version, as_of, f"{service}/{document}")
    return Scope(service, document, chosen)


def _pick(dates: list[str], version: str, as_of: str, name: str) -> str:
    listed = ", ".join(dates)
    if version:
        if version not in dates:
            raise ScopeError(f"{name} has no version {version}; indexed versions: {listed}")
        return version
    if as_of:
        try:
            day = dt.date.fromisoformat(str(as_of).strip()).isoformat()
        except ValueError:
            raise ScopeError(f"as-of date {as_of!r} is not a date; write it as YYYY-MM-DD") from None
        earlier = [d for d in dates if d <= day]
        if not earlier:
            raise ScopeError(
                f"{name} has no version in effect on {day}; the first indexed version is {dates[0]} (indexed: {listed})"
            )
        return earlier[-1]
    return dates[-1]


def previous_version(versions: list[VersionInfo], scope: Scope) -> Scope | None:
    """The version of the same document just before the scoped one, if any."""
    dates = sorted(v.version for v in versions if (v.service, v.document) == (scope.service, scope.document))
    earlier = [d for d in dates if d < scope.version]
    return Scope(scope.service, scope.document, earlier[-1]) if earlier else None


def lead_ins(clauses: list[Clause]) -> list[str]:
    """For each clause, the paragraph that introduces it ('... including:'), if it is a list item."""
    out, lead, section = [], "", None
    for c in clauses:
        if c.section != section:
            lead, section = "", c.section
        if c.kind == "paragraph":
            lead = c.text if c.text.rstrip().endswith(":") else ""
            out.append("")
        else:
            out.append(lead)
    return out


def _distinct(hits: list[Hit], k: int) -> list[Hit]:
    """The first k hits that say something new: a sentence the policy repeats (alone, or inside a
    longer clause) is cited once, in its best-ranked clause. Short texts ("Learn more", a one-word
    row) only count as repeats when equal, or they would hide every clause that uses their words."""
    kept: list[str] = []
    out: list[Hit] = []
    for h in hits:
        words = " ".join(h.clause.text.lower().split())
        if not any(_repeats(words, other) for other in kept):
            kept.append(words)
            out.append(h)
            if len(out) == k:
                break
    return out


def _repeats(a: str, b: str) -> bool:
    short, long = (a, b) if len(a) <= len(b) else (b, a)
    return short == long or (short.count(" ") >= REPEAT_WORDS - 1 and short in long)
