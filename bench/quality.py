"""Answer quality on gold questions: ClauseCite (extractive) beside the tutorial LangChain RAG.

Run: `.venv/bin/python bench/quality.py [--data DIR] [--gold FILE ...]`. The gold files are the shared
dev set and ClauseCite's own held-out sets (bench/questions/*.yaml: written by the team, never used to
tune the set that checks them; see docs/benchmarks.md). The baseline is the RAG a user would build from
the LangChain tutorial: RecursiveCharacterTextSplitter(1000, 200) over each version's clean text (the
same text ClauseCite indexes), the same MiniLM model, a Chroma vector store, top-4 similarity search
filtered to the version asked about, never abstaining; its 4 chunks become the citations. Both are scored
by qa.evaluate.score. A retrieval table follows: recall@1/3/5 and MRR@10 of the gold quotes' clauses.
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from _common import CORPORA, DEV, MODES, bench_dir, build, md_table, rank_metrics

from ingest.embedder import Embedder
from ingest.records import Answer, Citation, content_hash
from qa.answer import Answerer
from qa.evaluate import load_gold, norm, run_gold, score, table
from qa.records import Scope
from qa.retrieve import Retriever


class MiniLMEmbeddings:
    """LangChain Embeddings over ClauseCite's Embedder (same model, same cache) for the baseline."""

    def __init__(self, embedder: Embedder):
        self.embedder = embedder

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Vectors of chunk texts (cached by content hash in the data folder)."""
        vecs, _ = self.embedder.embed_cached([content_hash("lc-chunk:" + t) for t in texts], texts)
        return vecs.tolist()

    def embed_query(self, text: str) -> list[float]:
        """Vector of a question."""
        return self.embedder.embed_query(text).tolist()


def _as_langchain(embedder: Embedder):
    from langchain_core.embeddings import Embeddings

    return type("MiniLM", (MiniLMEmbeddings, Embeddings), {})(embedder)


class TutorialRAG:
    """The LangChain tutorial pipeline: split, embed, Chroma, top-k similarity search in one version."""

    def __init__(self, store, embedder: Embedder, persist_dir: Path):
        from langchain_chroma import Chroma
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200, add_start_index=True)
        docs = []
        for v in store.versions():
            meta = {"service": v.service, "document": v.document, "version": v.version}
            docs += splitter.create_documents([store.clean_text(v.service, v.document, v.version)], [meta])
        self.db = Chroma(collection_name="tutorial-rag", embedding_function=_as_langchain(embedder),
                         persist_directory=str(persist_dir))
        self.db.add_documents(docs, ids=[f"c{i}" for i in range(len(docs))])
        self.chunks = len(docs)

    def search(self, question: str, scope: Scope, k: int = 4):
        """(chunk text, distance) of the k nearest chunks of the scoped version."""
        where = {"$and": [{"service": scope.service}, {"document": scope.document}, {"version": scope.version}]}
        return [(d.page_content, s) for d, s in self.db.similarity_search_with_score(question, k=k, filter=where)]

    def answer(self, question: str, scope: Scope) -> Answer:
        """Its 4 chunks as citations; the tutorial pipeline never abstains."""
        found = self.search(question, scope, 4)
        cites = tuple(Citation(n=i + 1, clause_id=f"chunk-{i + 1}", service=scope.service, document=scope.document,
                               version=scope.version, section="", text=t, quote=t, score=-s)
                      for i, (t, s) in enumerate(found))
        text = "\n\n".join(f"[{c.n}] {c.text}" for c in cites)
        return Answer(question, scope.service, scope.document, scope.version, text, cites, backend="langchain-rag")


def _scope(key: str) -> Scope:
    policy, _, version = key.partition("@")
    service, _, document = policy.partition("/")
    return Scope(service, document, version)


def _rank(texts: list[str], quote: str) -> int | None:
    q = norm(quote).rstrip(".")
    return next((i + 1 for i, t in enumerate(texts) if q in norm(t)), None)


def retrieval_rows(items, retriever: Retriever, rag: TutorialRAG) -> list[list]:
    """recall@1/3/5 and MRR@10 per mode over every gold quote, searched in the quote's own version."""
    quotes = [(it.question, _scope(v), q) for it in items if it.answerable for v, q in it.evidence]
    rows = []
    for mode in MODES:
        ranks = [_rank([h.clause.text for h in retriever.search(qn, sc, k=10, mode=mode)], q) for qn, sc, q in quotes]
        rows.append([f"clausecite {mode} (clauses)", *rank_metrics(ranks).values()])
    ranks = [_rank([t for t, _ in rag.search(qn, sc, 10)], q) for qn, sc, q in quotes]
    rows.append(["tutorial RAG (1000-char chunks)", *rank_metrics(ranks).values()])
    return rows, len(quotes)


def main() -> None:
    """Print the answer-quality table and the retrieval table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gold", type=Path, nargs="*", default=None,
                        help="gold files (default: the dev set, then bench/questions/*.yaml)")
    parser.add_argument("--data", type=Path, default=None, help="data folder (default CLAUSECITE_DATA or a kept temp folder)")
    args = parser.parse_args()
    data = args.data or (Path(os.environ["CLAUSECITE_DATA"]) if os.environ.get("CLAUSECITE_DATA") else bench_dir("corpora"))
    settings, report = build(CORPORA, data)
    print(f"index: {data} ({report.summary()})")
    answerer = Answerer(settings)
    store, embedder = answerer.retriever.store, answerer.retriever.embedder
    golds = args.gold or [DEV, *sorted((Path(__file__).parent / "questions").glob("*.yaml"))]
    with tempfile.TemporaryDirectory(prefix="bench-rag-") as tmp:
        t0 = time.perf_counter()
        rag = TutorialRAG(store, embedder, Path(tmp))
        t_build = time.perf_counter() - t0
        for gold in golds:
            report_gold(gold, answerer, rag)
    print(f"\nThe tutorial RAG built {rag.chunks} chunks in {t_build:.1f} s.")


def report_gold(gold: Path, answerer: Answerer, rag: TutorialRAG) -> None:
    """Both systems' answer-quality rows and the retrieval table for one gold file."""
    store = answerer.retriever.store
    items = load_gold(gold)
    t0 = time.perf_counter()
    ours = run_gold(items, lambda it: answerer.ask(it.question, it.service, it.document, as_of=it.as_of, id=it.id))
    t_ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    theirs = run_gold(items, lambda it: rag.answer(it.question, answerer.retriever.resolve(
        it.service, it.document, as_of=it.as_of)))
    t_theirs = time.perf_counter() - t0
    rows, n_quotes = retrieval_rows(items, answerer.retriever, rag)
    metrics = {"clausecite (extractive)": score(items, ours, store.clean_text),
               "tutorial LangChain RAG (top-4 chunks)": score(items, theirs, store.clean_text)}
    unans = sum(not it.answerable for it in items)
    print(f"\n### Answer quality: {gold.name}, {len(items)} questions ({unans} unanswerable) over {CORPORA.name}\n")
    print(table(metrics))
    print(f"\nclausecite answered in {t_ours:.1f} s; the tutorial RAG in {t_theirs:.1f} s.")
    print(f"\n### Retrieval ({gold.name}): {n_quotes} gold evidence quotes, searched in the version each quote is from\n")
    print(md_table(["system / mode", "recall@1", "recall@3", "recall@5", "MRR@10"], rows))

if __name__ == "__main__":
    main()
