"""Train a MiniLM cross-encoder that reads a question with one clause and says whether the clause
settles it: the answerability signal that word overlap and cosines cannot give ("does it cover SMS?"
against a clause about email). A plain torch loop; CPU, fixed seed, progress reported per step.

Its word embeddings stay those of the packaged MiniLM, so only the layers and the head are saved
(qa/rank.py rebuilds the model from the package plus this file): a smaller file in the repo. Its
layers start from the fine-tuned bi-encoder's when `init` names them: on split B that reader catches
a third of the unanswerable questions at the same false abstentions, against a fifth from the
packaged layers (docs/benchmarks.md, session 10).
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
    epochs: int = 1,
    init: Path | None = None,
    progress: Callable[[int, int, float], None] | None = None,
) -> Path:
    """Fine-tune base (a BERT folder) as a one-logit classifier, its layers first set from `init` (a
    fine-tuned encoder's layers.safetensors) if given; save its non-embedding weights (fp16) after
    every epoch, so an interrupted run keeps the last whole one."""
    import torch
    from safetensors.torch import load_file
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    random.seed(seed)
    torch.manual_seed(seed)
    tok = AutoTokenizer.from_pretrained(base)
    model = AutoModelForSequenceClassification.from_pretrained(base, num_labels=1)
    if init is not None:
        layers = {k: v.float() for k, v in load_file(str(init)).items()}
        missing, unexpected = model.bert.load_state_dict(layers, strict=False)
        if unexpected or [m for m in missing if "embeddings" not in m and "pooler" not in m]:
            raise ValueError(f"{init} does not hold MiniLM layers (unexpected {unexpected[:3]}, missing {missing[:3]})")
    for p in model.bert.embeddings.parameters():
        p.requires_grad = False
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr, weight_decay=0.01)
    order = sorted(pairs, key=lambda p: len(p[0]) + len(p[1]))  # like lengths together: less padding
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    steps = len(batches) * epochs
    warm = max(1, steps // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (steps - s) / (steps - warm)))
    )
    model.train()
    step = 0
    for epoch in range(epochs):
        random.Random(seed + epoch).shuffle(batches)
        for batch in batches:
            step += 1
            loss = _step(model, tok, batch, opt, sched)
            if progress:
                progress(step, steps, loss)
        save(model, out)
    return out


def _step(model, tok, batch: list[tuple[str, str, float]], opt, sched) -> float:
    """One optimiser step on a batch; its loss."""
    import torch

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
    return float(loss.detach())


def save(model, out: Path) -> None:
    """The model's layers and head (fp16, without the word embeddings) as out/cross-encoder.safetensors."""
    from safetensors.torch import save_file

    out.mkdir(parents=True, exist_ok=True)
    weights = {
        k: v.detach().half().contiguous()
        for k, v in model.state_dict().items()
        if ".embeddings." not in k and not k.startswith("embeddings.")
    }
    save_file(weights, str(out / "cross-encoder.safetensors"))
