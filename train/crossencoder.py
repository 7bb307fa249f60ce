"""Train a MiniLM cross-encoder that reads a question with one clause and says whether the clause
settles it: the answerability signal that word overlap and cosines cannot give ("does it cover SMS?"
against a clause about email). A plain torch loop; CPU, fixed seed, progress reported per step.

Its word embeddings stay those of the packaged MiniLM, so only the layers and the head are saved
(qa/rank.py rebuilds the model from the package plus this file): a smaller file in the repo.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

MAX_TOKENS = 128


def train(
    pairs: list[tuple[str, str, float]],
    base: str,
    out: Path,
    *,
    batch_size: int = 16,
    lr: float = 4e-5,
    seed: int = 13,
    progress: Callable[[int, int, float], None] | None = None,
) -> Path:
    """Fine-tune base (a BERT folder) as a one-logit classifier; save its non-embedding weights (fp16)."""
    import torch
    from safetensors.torch import save_file
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    random.seed(seed)
    torch.manual_seed(seed)
    tok = AutoTokenizer.from_pretrained(base)
    model = AutoModelForSequenceClassification.from_pretrained(base, num_labels=1)
    for p in model.bert.embeddings.parameters():
        p.requires_grad = False
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr, weight_decay=0.01)
    order = sorted(pairs, key=lambda p: len(p[0]) + len(p[1]))  # like lengths together: less padding
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    random.Random(seed).shuffle(batches)
    steps, warm = len(batches), max(1, len(batches) // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (steps - s) / (steps - warm)))
    )
    model.train()
    for step, batch in enumerate(batches, 1):
        enc = tok(
            [b[0] for b in batch],
            [b[1] for b in batch],
            truncation="only_second",
            max_length=MAX_TOKENS,
            padding=True,
            return_tensors="pt",
        )
        logits = model(**enc).logits[:, 0]
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, torch.tensor([b[2] for b in batch]))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad()
        if progress:
            progress(step, steps, float(loss.detach()))
    out.mkdir(parents=True, exist_ok=True)
    weights = {
        k: v.detach().half().contiguous()
        for k, v in model.state_dict().items()
        if ".embeddings." not in k and not k.startswith("embeddings.")
    }
    save_file(weights, str(out / "cross-encoder.safetensors"))
    return out
