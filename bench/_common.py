"""Shared helpers for the benchmark scripts: paths, a reusable data folder, rank metrics, tables."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SHARED = (ROOT / ".." / "shared").resolve()
CORPORA = SHARED / "corpora"
DEV = SHARED / "questions" / "dev.yaml"
POLICYQA = SHARED / "benchmarks" / "policyqa"
MODES = ("bm25", "dense", "hybrid", "learned")


def bench_dir(name: str) -> Path:
    """A data folder kept between runs (under CLAUSECITE_BENCH_DIR or the temp folder), so rebuilds are cheap."""
    base = Path(os.environ.get("CLAUSECITE_BENCH_DIR") or Path(tempfile.gettempdir()) / "clausecite-bench")
    path = base / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def build(corpus: Path, data_dir: Path):
    """Settings over `data_dir` with `corpus` ingested (unchanged versions cost nothing), and the report."""
    from ingest.pipeline import ingest
    from settings import Settings

    settings = Settings.from_env(data_dir=data_dir, chroma_url="")
    return settings, ingest([corpus], settings)


def rank_metrics(ranks: list[int | None], ks=(1, 3, 5)) -> dict[str, float]:
    """recall@k for each k and MRR from 1-based ranks (None = not retrieved)."""
    n = len(ranks) or 1
    out = {f"recall@{k}": round(sum(1 for r in ranks if r and r <= k) / n, 3) for k in ks}
    out["MRR"] = round(sum(1 / r for r in ranks if r) / n, 3)
    return out


def md_table(headers: list[str], rows: list[list]) -> str:
    """A Markdown table."""
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of values."""
    s = sorted(values)
    if not s:
        return 0.0
    return s[min(len(s) - 1, max(0, round(p / 100 * len(s) + 0.5) - 1))]
