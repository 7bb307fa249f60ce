"""PolicyQA retrieval: is a clause holding one of a question's evidence quotes in the top 1/3/5?

Run: `.venv/bin/python bench/policyqa.py [--limit N]`. Ingests ../shared/benchmarks/policyqa/corpus (20
OPP-115 policies) into its own data folder, then searches every question of gold.yaml (2,420; or a
fixed, evenly spaced sample of N with --limit) in its policy with each retrieval mode ('learned' is the
trained ranker). Question vectors are encoded once and passed in. The PriBot
reference (top-3 0.82, Harkous et al. 2018, on its own questions), the hand-tuned ranking this
replaced (run at its commit) and the goal (top-3 >= 0.60) are shown.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time

from _common import MODES, POLICYQA, bench_dir, build, md_table, rank_metrics
from quality import BASELINE, baseline_tree

from ingest.embedder import Embedder
from qa.evaluate import load_gold, norm
from qa.retrieve import Retriever


def sample(items: list, limit: int | None) -> list:
    """All items, or `limit` of them evenly spaced through the file (deterministic)."""
    if not limit or limit >= len(items):
        return items
    step = len(items) / limit
    return [items[int(i * step)] for i in range(limit)]


def first_rank(texts: list[str], quotes: list[str]) -> int | None:
    """1-based rank of the first text that contains any quote (after normalising)."""
    return next((i + 1 for i, t in enumerate(texts) if any(q in t for q in quotes)), None)


def run(items, retriever: Retriever, embedder: Embedder) -> tuple[dict, dict, int]:
    """Ranks per mode, seconds per mode, and how many questions have a quote inside some clause (ceiling)."""
    scopes = [retriever.resolve(it.service, it.document, as_of=it.as_of) for it in items]
    quotes = [[norm(q).rstrip(".") for _, q in it.evidence] for it in items]
    plain = embedder.encode([it.question for it in items])
    ceiling = 0
    for sc, qs in zip(scopes, quotes, strict=True):
        texts = [norm(c.text) for c in retriever.index(sc).clauses]
        ceiling += first_rank(texts, qs) is not None
    ranks, seconds, normed = {}, {}, {}
    for mode in MODES:
        t0, ranks[mode] = time.perf_counter(), []
        for it, sc, qs, v in zip(items, scopes, quotes, plain, strict=True):
            hits = retriever.search(it.question, sc, k=10, mode=mode, vector=v)
            texts = [normed.setdefault(h.clause.clause_id, norm(h.clause.text)) for h in hits]
            ranks[mode].append(first_rank(texts, qs))
        seconds[mode] = time.perf_counter() - t0
    return ranks, seconds, ceiling


def baseline_row(limit: int | None) -> list | None:
    """The hand-tuned ranking's row ('rerank' at commit BASELINE), run in its own worktree and data folder."""
    env = {**os.environ, "CLAUSECITE_BENCH_DIR": str(bench_dir("baseline-bench"))}
    out = subprocess.run(
        [sys.executable, "bench/policyqa.py", *(["--limit", str(limit)] if limit else [])],
        cwd=baseline_tree(),
        env=env,
        capture_output=True,
        text=True,
    )
    m = re.search(r"^\| clausecite rerank \|(.*)\|$", out.stdout, re.MULTILINE)
    if m is None:  # say why, as bench/quality.py does: a row that silently vanishes hid a broken baseline before
        print(f"(baseline PolicyQA run gave no row: {(out.stderr or out.stdout).strip()[-300:]})")
        return None
    return [f"hand-tuned ranking ({BASELINE})", *[c.strip() for c in m.group(1).split("|")]]


def main() -> None:
    """Print recall@1/3/5 and MRR@10 per mode with the PriBot reference and the goal beside them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="evenly spaced sample of N questions (default: all)")
    parser.add_argument("--no-baseline", action="store_true", help="leave out the hand-tuned ranking (commit BASELINE)")
    args = parser.parse_args()
    t0 = time.perf_counter()
    settings, report = build(POLICYQA / "corpus", bench_dir("policyqa"))
    print(f"index: {settings.data_dir} ({report.summary()})")
    every = [it for it in load_gold(POLICYQA / "gold.yaml") if it.answerable and it.evidence]
    items = sample(every, args.limit)
    retriever = Retriever(settings)
    ranks, seconds, ceiling = run(items, retriever, retriever.embedder)
    n = len(items)
    which = (
        "all" if n == len(every) else f"an evenly spaced sample of {n} of {len(every)} (every {len(every) / n:.2f}th)"
    )
    print(f"\n### PolicyQA dev retrieval: {which} questions, 20 policies\n")
    rows = [[f"clausecite {m}", *rank_metrics(ranks[m]).values(), f"{1000 * seconds[m] / n:.0f}"] for m in MODES]
    old = None if args.no_baseline else baseline_row(args.limit)
    rows += [old] if old else []
    rows.append(["PriBot (2018, reference)", "-", "0.82", "-", "-", "-"])
    rows.append(["goal", "-", ">= 0.60", "-", "-", "-"])
    print(md_table(["system / mode", "recall@1", "recall@3", "recall@5", "MRR@10", "ms/question"], rows))
    print(
        f"\nceiling: {ceiling}/{n} = {ceiling / n:.3f} of these questions have an evidence quote that lies "
        "wholly inside one clause, so 1.0 is reachable in principle."
    )
    print(f"total {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
