"""Hybrid retrieval over one policy version: dense (Chroma) + BM25 (bm25s), fused, reranked."""
from __future__ import annotations

import datetime as dt
import re
import threading
from dataclasses import dataclass

import numpy as np

from ingest.embedder import Embedder
from ingest.pipeline import open_store
from ingest.records import Clause, content_hash
from ingest.store import ClauseStore, VersionInfo
from qa.glossary import expand
from qa.records import Hit, Scope
from settings import Settings

# Fusion constants chosen on the dev set (recall@8 0.84 vs 0.76 for plain hybrid); see docs/benchmarks.md.
RRF_K = 10
W = [1.0, 1.0, 0.7]  # dense, BM25, section-heading match
REPEAT_WORDS = 8  # a clause of at least this many words inside another one is a repeat of it
_VOCAB_WORD = re.compile(r"[A-Za-z][A-Za-z'-]{2,}")


class ScopeError(ValueError):
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
    """Per-version lexical index and clause vectors, built once per process."""

    clauses: list[Clause]
    by_id: dict[str, int]
    bm25: object
    section_vectors: np.ndarray  # one row per clause: its section heading's embedding
    word_share: dict[str, float] | None = None
    words: list[str] | None = None  # the version's own words as written, lower-cased
    word_vectors: np.ndarray | None = None


class Retriever:
    """Finds the clauses of one version that bear on a question; one per process, thread-safe."""

    def __init__(self, settings: Settings, store: ClauseStore | None = None, embedder: Embedder | None = None):
        self.settings = settings
        self.store = store or open_store(settings)
        self.embedder = embedder or Embedder(settings.embedding_model, settings.data_dir)
        self._indexes: dict[str, _VersionIndex] = {}
        self._recent: dict[str, np.ndarray] = {}  # query text -> vector, oldest first
        self._lock = threading.Lock()

    # scope ---------------------------------------------------------------------------------
    def resolve(self, service: str, document: str = "", version: str = "", as_of: str = "") -> Scope:
        """The version a question is about: explicit, as of a date, or the newest."""
        return resolve_scope(self.store.versions(), service, document, version, as_of)

    # search --------------------------------------------------------------------------------
    def index(self, scope: Scope) -> _VersionIndex:
        """Clauses and BM25 index of a version (cached; rebuilt if the version was replaced)."""
        info = self._info(scope)
        key = f"{scope.key}:{info.sha256}"
        with self._lock:
            if key not in self._indexes:
                import bm25s

                clauses = self.store.clauses(scope.service, scope.document, scope.version)
                bm25 = bm25s.BM25()
                docs = [f"{c.section} {lead} {c.text}" for c, lead in zip(clauses, lead_ins(clauses))]
                bm25.index(tokenize(docs), show_progress=False)
                heads = [" ".join(c.heading_path[-2:]) or c.section for c in clauses]
                vecs, _ = self.embedder.embed_cached([content_hash("heading:" + h) for h in heads], heads)
                self._indexes[key] = _VersionIndex(clauses, {c.clause_id: i for i, c in enumerate(clauses)},
                                                   bm25, vecs)
            return self._indexes[key]

    def word_share(self, scope: Scope) -> dict[str, float]:
        """For every stemmed word of a version, the share of its clauses (with section titles) that use it."""
        idx = self.index(scope)
        if idx.word_share is None:
            counts: dict[str, int] = {}
            for doc in tokenize([f"{c.section} {c.text}" for c in idx.clauses]):
                for w in set(doc):
                    counts[w] = counts.get(w, 0) + 1
            idx.word_share = {w: n / max(len(idx.clauses), 1) for w, n in counts.items()}
        return idx.word_share

    def nearest_word(self, scope: Scope, word: str) -> tuple[str, float]:
        """The version's word closest in meaning to `word` (MiniLM cosine), e.g. "boss" -> ("job", 0.63).

        The version's words are embedded once per process (and cached on disk with the clauses' vectors).
        """
        idx = self.index(scope)
        with self._lock:
            if idx.words is None:
                words = sorted({w.lower() for c in idx.clauses for w in _VOCAB_WORD.findall(f"{c.section} {c.text}")})
                idx.word_vectors, _ = self.embedder.embed_cached([content_hash("word:" + w) for w in words], words)
                idx.words = words
        if not idx.words:
            return "", 0.0
        sims = idx.word_vectors @ self.embedder.embed_query(word.lower())
        best = int(np.argmax(sims))
        return idx.words[best], float(sims[best])

    def _info(self, scope: Scope) -> VersionInfo:
        info = self.store.get_version(scope.service, scope.document, scope.version)
        if info is None:
            raise ScopeError(f"{scope.key} is not indexed")
        return info

    def search(self, question: str, scope: Scope, k: int | None = None, mode: str = "rerank",
               vector: np.ndarray | None = None) -> list[Hit]:
        """Top-k clauses of the scoped version; mode is 'rerank' (default), 'hybrid', 'dense' or 'bm25'."""
        k = k or self.settings.k
        idx = self.index(scope)
        n = min(self.settings.candidates, len(idx.clauses))
        if n == 0:
            return []
        query = expand(question) if mode == "rerank" else question
        if vector is None and mode != "bm25":
            vector = self._query_vector(query)
        dense = self._dense(question, scope, n, vector) if mode != "bm25" else {}
        lexical = self._lexical(query, idx, n) if mode != "dense" else {}
        rankings = [sorted(dense, key=dense.get, reverse=True), sorted(lexical, key=lexical.get, reverse=True)]
        if mode == "rerank":
            rankings.append(self._by_section(vector, idx, set(dense) | set(lexical), dense))
        fused = rrf(rankings, W)
        hits = [Hit(idx.clauses[idx.by_id[cid]], s, dense.get(cid, 0.0), lexical.get(cid, 0.0))
                for cid, s in fused.items() if cid in idx.by_id]
        return _distinct(sorted(hits, key=lambda h: h.score, reverse=True), k)

    def _query_vector(self, query: str) -> np.ndarray:
        """The query's embedding; the last few are kept, since one answer searches several versions."""
        with self._lock:
            vector = self._recent.pop(query, None)
        if vector is None:
            vector = self.embedder.embed_query(query)
        with self._lock:
            self._recent[query] = vector
            while len(self._recent) > 64:
                self._recent.pop(next(iter(self._recent)))
        return vector

    def _dense(self, question: str, scope: Scope, n: int, vector: np.ndarray | None) -> dict[str, float]:
        return dict(self.store.query(vector, self._info(scope), n))

    @staticmethod
    def _by_section(vector: np.ndarray, idx: _VersionIndex, candidates: set[str], dense: dict[str, float]) -> list[str]:
        """Candidates ordered by how well their section heading matches the question."""
        rows = sorted(idx.by_id[c] for c in candidates if c in idx.by_id)  # document order breaks ties
        sims = idx.section_vectors[rows] @ vector if rows else np.zeros(0)

        def key(p):
            return -round(float(p[1]), 2), -dense.get(idx.clauses[p[0]].clause_id, 0), p[0]

        order = sorted(zip(rows, sims), key=key)
        return [idx.clauses[i].clause_id for i, _ in order]

    def _lexical(self, question: str, idx: _VersionIndex, n: int) -> dict[str, float]:
        tokens = tokenize([question])[0]
        if not tokens:
            return {}
        scores = idx.bm25.get_scores(tokens)
        top = np.argsort(-scores)[:n]
        return {idx.clauses[i].clause_id: float(scores[i]) for i in top if scores[i] > 0}


def rrf(rankings: list[list[str]], weights: list[float] | None = None) -> dict[str, float]:
    """Reciprocal-rank fusion of several rankings of ids."""
    out: dict[str, float] = {}
    for ranking, w in zip(rankings, weights or [1.0] * len(rankings)):
        for rank, cid in enumerate(ranking):
            out[cid] = out.get(cid, 0.0) + w / (RRF_K + rank + 1)
    return out


def resolve_scope(versions: list[VersionInfo], service: str, document: str = "", version: str = "",
                  as_of: str = "") -> Scope:
    """Pick one indexed version; unknown names and dates get an error listing what is indexed."""
    service = (service or "").strip().lower()
    services = sorted({v.service for v in versions})
    if service not in services:
        raise ScopeError(f"no policy of service {service!r} is indexed; indexed services: "
                         f"{', '.join(services) or 'none (run `python cli.py ingest ...`)'}")
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
            raise ScopeError(f"{name} has no version in effect on {day}; the first indexed version is "
                             f"{dates[0]} (indexed: {listed})")
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
