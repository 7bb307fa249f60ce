"""Fine-tune the MiniLM bi-encoder on (question, evidence clause, hard negative) triplets.

The loss is multiple-negatives ranking: each question must score its own evidence clause above every
other clause in the batch and above the hard negatives mined by today's hybrid search. A plain torch
loop (no extra training libraries); CPU, fixed seed, progress on stderr, a checkpoint every epoch.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

SCALE = 20.0  # cosine similarities times this are the logits (the usual MNRL temperature)


def _embed(model, texts: list[str]):
    import torch

    features = model.tokenize(texts)
    out = model(features)["sentence_embedding"]
    return torch.nn.functional.normalize(out, dim=-1)


FROZEN_LAYERS = 2  # the word embeddings and the first layers stay as shipped: a third less work per step


def batches(triplets: list[tuple[str, str, str]], size: int, seed: int) -> list[list[tuple[str, str, str]]]:
    """Batches of like-length triplets (less padding), in a seeded random order."""
    rng = random.Random(seed)
    order = sorted(triplets, key=lambda t: (len(t[1]) + len(t[2]), rng.random()))
    out = [order[i : i + size] for i in range(0, len(order), size)]
    rng.shuffle(out)
    return out


def _freeze(model) -> None:
    bert = model[0].auto_model
    for p in bert.embeddings.parameters():
        p.requires_grad = False
    for layer in bert.encoder.layer[:FROZEN_LAYERS]:
        for p in layer.parameters():
            p.requires_grad = False


def fine_tune(
    triplets: list[tuple[str, str, str]],
    base: str,
    out_dir: Path,
    *,
    epochs: int = 1,
    batch_size: int = 32,
    lr: float = 3e-5,
    seed: int = 13,
    max_seq_length: int = 128,
    progress: Callable[[int, int, float], None] | None = None,
) -> Path:
    """Train from the model folder `base`, save an fp16 model folder at `out_dir`; returns it."""
    import torch
    from sentence_transformers import SentenceTransformer

    random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(max(1, torch.get_num_threads()))
    model = SentenceTransformer(base, device="cpu")
    model.max_seq_length = max_seq_length
    model.train()
    _freeze(model)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr, weight_decay=0.01)
    steps = epochs * ((len(triplets) + batch_size - 1) // batch_size)
    warmup = max(1, steps // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warmup, max(0.0, (steps - s) / max(1, steps - warmup)))
    )
    step = 0
    for epoch in range(epochs):
        for batch in batches(triplets, batch_size, seed + epoch):
            q = _embed(model, [t[0] for t in batch])
            docs = _embed(model, [t[1] for t in batch] + [t[2] for t in batch])
            logits = q @ docs.T * SCALE
            loss = torch.nn.functional.cross_entropy(logits, torch.arange(len(batch)))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            opt.zero_grad()
            step += 1
            if progress:
                progress(step, steps, float(loss.detach()))
        save(model, out_dir)
    return out_dir


def save(model, out_dir: Path) -> None:
    """Save the weights training changed (not the frozen word embeddings), fp16: ingest/embedder.py
    puts them over the packaged MiniLM. A third of the full model's size in the repo."""
    from safetensors.torch import save_file

    from ingest.embedder import LAYERS

    out_dir.mkdir(parents=True, exist_ok=True)
    state = model[0].auto_model.state_dict()
    layers = {k: v.detach().half().contiguous() for k, v in state.items() if not k.startswith("embeddings.")}
    save_file(layers, str(out_dir / LAYERS))
