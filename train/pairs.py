"""From labelled questions to training rows: the training corpus indexed, evidence mapped to clauses,
and hard negatives mined by today's hybrid search."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from pathlib import Path

from ingest.records import Clause
from qa.records import Scope
from train.data import Example, norm
from train.split import training_documents

ROOT = Path(__file__).resolve().parent.parent
INDEX = ROOT / "data" / "train-index"  # a data folder of its own: the training corpus, never the app's


def link_corpus(docs: list[Path], folder: Path) -> Path:
    """A corpus-layout folder of links to the given documents (ingest reads service/document/DATE.md).

    A capture that holds its terms twice (booking-com's) is indexed up to where they start again.
    """
    from ingest.chunking import find_second_policy
    from train.data import clean_text

    for src in docs:
        dst = folder / src.parts[-3] / src.parts[-2] / src.name
        dst.parent.mkdir(parents=True, exist_ok=True)
        if dst.exists() or dst.is_symlink():
            continue
        text = clean_text(src)
        where = find_second_policy(text)
        line = re.search(r"again at line (\d+)", where)
        if line:
            dst.write_text("\n".join(text.split("\n")[: int(line.group(1)) - 1]), "utf-8")
        else:
            dst.symlink_to(src)
    return folder


def index_settings(data_dir: Path = INDEX, embedding_model: str = ""):
    """Settings over the training index (the embedding model may be a fine-tuned one)."""
    from settings import Settings

    over = {"embedding_model": embedding_model} if embedding_model else {}
    return Settings.from_env(data_dir=data_dir, chroma_url="", **over)


def build_index(settings, docs: list[Path] | None = None):
    """Ingest the training documents (unchanged ones cost nothing); the ingest report.

    An index under a fine-tuned encoder starts its packaged-MiniLM vectors (the ranker's second
    opinion) from the packaged index's, which step 1 encoded already: minutes saved on 2 cores.
    """
    import shutil

    from ingest.embedder import PACKAGED, model_label
    from ingest.pipeline import ingest

    cache = f"embeddings--{model_label(PACKAGED)}.sqlite"
    if settings.data_dir != INDEX and (INDEX / cache).is_file() and not (settings.data_dir / cache).exists():
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        shutil.copy2(INDEX / cache, settings.data_dir / cache)
    layout = link_corpus(docs or training_documents(), settings.data_dir / "corpus")
    return ingest([layout], settings)


def positives(ex: Example, clauses: list[Clause]) -> set[str]:
    """Ids of the clauses holding an evidence quote (or, for a quote across two clauses, its halves)."""
    texts = [(c.clause_id, norm(c.text)) for c in clauses]
    out: set[str] = set()
    for quote in ex.evidence:
        q = norm(quote).rstrip(".")
        hit = {cid for cid, t in texts if q in t}
        if not hit and len(q) > 40:  # a quote that runs over a clause boundary: its start and its end
            head, tail = q[: len(q) // 2], q[len(q) // 2 :]
            hit = {cid for cid, t in texts if head in t or tail in t}
        out |= hit
    return out


@dataclass(frozen=True)
class Row:
    """One question with its candidates: (clause, label) in today's ranked order."""

    example: Example
    scope: Scope
    candidates: tuple[Clause, ...]
    positive: frozenset[str]


def mine(examples: list[Example], retriever, k: int = 32, mode: str = "hybrid", vectors=None) -> list[Row]:
    """For every example, the top-k candidates of the retriever and which of them hold its evidence.

    `vectors` are the questions' embeddings, when they were encoded together (much faster than one by one).
    """
    rows = []
    for i, ex in enumerate(examples):
        scope = Scope(ex.service, ex.document, ex.version)
        clauses = retriever.store.clauses(*scope.__dict__.values())
        pos = positives(ex, clauses) if ex.answerable else set()
        hits = retriever.search(ex.question, scope, k=k, mode=mode, vector=None if vectors is None else vectors[i])
        rows.append(Row(ex, scope, tuple(h.clause for h in hits), frozenset(pos)))
    return rows


def triplets(rows: list[Row], clauses_of, seed: int = 13) -> list[tuple[str, str, str]]:
    """(question, evidence clause, hard negative) for the bi-encoder: one per evidence clause."""
    rng = random.Random(seed)
    out = []
    for r in rows:
        if not r.positive:
            continue
        by_id = {c.clause_id: c for c in clauses_of(r.scope)}
        negatives = [c.text for c in r.candidates[:16] if c.clause_id not in r.positive]
        for cid in sorted(r.positive):
            if cid in by_id and negatives:
                out.append((r.example.question, by_id[cid].text, rng.choice(negatives[:8])))
    rng.shuffle(out)
    return out
