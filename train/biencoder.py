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


def fine_tune(triplets: list[tuple[str, str, str]], base: str, out_dir: Path, *, epochs: int = 1,
              batch_size: int = 32, lr: float = 3e-5, seed: int = 13, max_seq_length: int = 200,
              progress: Callable[[int, int, float], None] | None = None) -> Path:
    """Train from the model folder `base`, save an fp16 model folder at `out_dir`; returns it."""
    import torch
    from sentence_transformers import SentenceTransformer

    random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(max(1, torch.get_num_threads()))
    model = SentenceTransformer(base, device="cpu")
    model.max_seq_length = max_seq_length
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    steps = epochs * ((len(triplets) + batch_size - 1) // batch_size)
    warmup = max(1, steps // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warmup, max(0.0, (steps - s) / max(1, steps - warmup))))
    step = 0
    for epoch in range(epochs):
        order = list(triplets)
        random.Random(seed + epoch).shuffle(order)
        for i in range(0, len(order), batch_size):
            batch = order[i:i + batch_size]
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
                progress(step, steps, float(loss))
        save(model, out_dir)
    return out_dir


def save(model, out_dir: Path) -> None:
    """Save the model with fp16 weights (half the size; loaded back as fp32 for CPU inference)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    model.eval()
    model.half()
    model.save(str(out_dir), safe_serialization=True)
    model.float()
    model.train()
