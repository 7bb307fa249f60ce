"""Answer quality on gold questions: ClauseCite's trained ranking beside the hand-tuned ranking it
replaced and the tutorial LangChain RAG, in one run.

Run: `.venv/bin/python bench/quality.py [--gold FILE ...] [--no-baseline]`. The gold files are the shared
dev set and ClauseCite's own held-out sets (bench/questions/*.yaml) over ../shared/corpora, then the
blind held-out-service set (bench/blind/heldout-services.yaml) over the 12 training-corpus documents of
services held out of all training. "hand-tuned ranking" is ClauseCite at commit BASELINE (MiniLM + BM25
fused by hand-set weights, glossary, word-level abstention rule), checked out into a git worktree and
run through its own `cli.py eval --json` on its own index. The tutorial baseline is the RAG a user would build from
the LangChain tutorial: RecursiveCharacterTextSplitter(1000, 200) over each version's clean text (the
same text ClauseCite indexes), the same MiniLM model, a Chroma vector store, top-4 similarity search
filtered to the version asked about, never abstaining; its 4 chunks become the citations. Both are scored
by qa.evaluate.score. A retrieval table follows: recall@1/3/5 and MRR@10 of the gold quotes' clauses.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import CORPORA, DEV, MODES, ROOT, SHARED, bench_dir, build, md_table, rank_metrics

from ingest.embedder import Embedder
from ingest.records import content_hash
from qa.answer import Answerer
from qa.evaluate import load_gold, norm, run_gold, score, table
from qa.records import Answer, Citation, Scope
from qa.retrieve import Retriever
from train.pairs import link_corpus
from train.split import HELD_OUT_SERVICES, documents

BASELINE = "714a8ca"  # the last commit with the hand-tuned ranking and the word-level abstention rule
BLIND = ROOT / "bench" / "blind" / "heldout-services.yaml"


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
        self.db = Chroma(
            collection_name="tutorial-rag",
            embedding_function=_as_langchain(embedder),
            persist_directory=str(persist_dir),
        )
        self.db.add_documents(docs, ids=[f"c{i}" for i in range(len(docs))])
        self.chunks = len(docs)

    def search(self, question: str, scope: Scope, k: int = 4):
        """(chunk text, distance) of the k nearest chunks of the scoped version."""
        where = {"$and": [{"service": scope.service}, {"document": scope.document}, {"version": scope.version}]}
        return [(d.page_content, s) for d, s in self.db.similarity_search_with_score(question, k=k, filter=where)]

    def answer(self, question: str, scope: Scope) -> Answer:
        """Its 4 chunks as citations; the tutorial pipeline never abstains."""
        found = self.search(question, scope, 4)
        cites = tuple(
            Citation(
                n=i + 1,
                clause_id=f"chunk-{i + 1}",
                service=scope.service,
                document=scope.document,
                version=scope.version,
                section="",
                text=t,
                quote=t,
                score=-s,
            )
            for i, (t, s) in enumerate(found)
        )
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
        rows.append([f"clausecite {mode} (clauses, fine-tuned encoder)", *rank_metrics(ranks).values()])
    ranks = [_rank([t for t, _ in rag.search(qn, sc, 10)], q) for qn, sc, q in quotes]
    rows.append(["tutorial RAG (1000-char chunks)", *rank_metrics(ranks).values()])
    return rows, len(quotes)


def blind_corpus() -> Path:
    """A corpus-layout folder of the held-out services' documents (links into ../shared/training)."""
    return link_corpus([p for p in documents() if p.parts[-3] in HELD_OUT_SERVICES], bench_dir("blind-corpus"))


def baseline_tree() -> Path:
    """A checkout of commit BASELINE (a git worktree kept in the bench folder)."""
    tree = bench_dir("baseline-src") / BASELINE
    if not (tree / "cli.py").is_file():
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", "--force", str(tree), BASELINE],
            check=True,
            capture_output=True,
        )
    shared = tree.parent / "shared"  # its bench scripts look for ../shared beside their checkout
    if shared.is_symlink() and not shared.exists():
        shared.unlink()  # left by a moved repository
    if not shared.exists():
        shared.symlink_to(SHARED, target_is_directory=True)
    return tree


def baseline_metrics(gold: Path, corpus: Path) -> dict | None:
    """The hand-tuned ranking's metrics on a gold file: commit BASELINE, run in a worktree of its own."""
    tree = baseline_tree()
    env = {**os.environ, "CLAUSECITE_DATA": str(bench_dir(f"baseline-data-{corpus.name}")), "CLAUSECITE_CHROMA_URL": ""}

    def run(*a: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "cli.py", *a], cwd=tree, env=env, capture_output=True, text=True)

    done = run("ingest", str(corpus))
    if done.returncode:
        print(f"(baseline ingest failed: {done.stderr.strip()[-300:]})")
        return None
    out = run("eval", str(gold.resolve()), "--json")  # resolved: the baseline runs in its own checkout
    if out.returncode:
        print(f"(baseline eval of {gold.name} failed: {out.stderr.strip()[-300:]})")
        return None
    return json.loads(out.stdout)


def main() -> None:
    """Print, per gold file, the answer-quality table of the three systems and the retrieval table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--gold",
        type=Path,
        nargs="*",
        default=None,
        help="gold files over ../shared/corpora (default: the dev set, then bench/questions/*.yaml)",
    )
    parser.add_argument("--no-blind", action="store_true", help="leave out the blind held-out-service set")
    parser.add_argument("--no-baseline", action="store_true", help="leave out the hand-tuned ranking (commit BASELINE)")
    parser.add_argument("--blind-only", action="store_true", help="only the blind held-out-service set")
    args = parser.parse_args()
    golds = args.gold or [DEV, *sorted((Path(__file__).parent / "questions").glob("*.yaml"))]
    plan = [] if args.blind_only else [(CORPORA, golds)]
    plan += [] if args.no_blind or args.gold else [(blind_corpus(), [BLIND])]
    for corpus, files in plan:
        settings, report = build(corpus, bench_dir(f"learned-{corpus.name}"))
        print(f"\nindex: {settings.data_dir} ({report.summary()})")
        answerer = Answerer(settings)
        with tempfile.TemporaryDirectory(prefix="bench-rag-") as tmp:
            rag = TutorialRAG(answerer.retriever.store, Embedder("all-MiniLM-L6-v2", settings.data_dir), Path(tmp))
            for gold in files:
                old = None if args.no_baseline else baseline_metrics(gold, corpus)
                report_gold(gold, answerer, rag, old, corpus.name)


def report_gold(gold: Path, answerer: Answerer, rag: TutorialRAG, old: dict | None, corpus: str) -> None:
    """The three systems' answer-quality rows and the retrieval table for one gold file."""
    store = answerer.retriever.store
    items = load_gold(gold)
    t0 = time.perf_counter()
    ours = run_gold(
        items, lambda it: answerer.ask(it.question, service=it.service, document=it.document, as_of=it.as_of, id=it.id)
    )
    t_ours = time.perf_counter() - t0
    theirs = run_gold(
        items, lambda it: rag.answer(it.question, answerer.retriever.resolve(it.service, it.document, as_of=it.as_of))
    )
    rows, n_quotes = retrieval_rows(items, answerer.retriever, rag)
    metrics = {"clausecite, trained ranking (new)": score(items, ours, store.clean_text)}
    if old:
        metrics[f"clausecite, hand-tuned ranking ({BASELINE})"] = old
    metrics["tutorial LangChain RAG (top-4 chunks)"] = score(items, theirs, store.clean_text)
    unans = sum(not it.answerable for it in items)
    states = {s: sum(a.support == s for a in ours) for s in ("addressed", "partly", "not addressed")}
    print(f"\n### Answer quality: {gold.name}, {len(items)} questions ({unans} unanswerable) over {corpus}\n")
    print(table(metrics))
    print(
        f"\nnew: {states['addressed']} addressed, {states['partly']} partly, {states['not addressed']} not "
        f"addressed; answered in {t_ours:.1f} s."
    )
    print(
        f"\n### Retrieval ({gold.name}): {n_quotes} gold evidence quotes, searched in the version each quote is from\n"
    )
    print(md_table(["system / mode", "recall@1", "recall@3", "recall@5", "MRR@10"], rows))


if __name__ == "__main__":
    main()
