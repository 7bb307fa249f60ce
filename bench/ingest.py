"""Ingest benchmark: a cold ingest of ../shared/corpora against the floor of encoding its distinct texts.

Run: `.venv/bin/python bench/ingest.py [CORPUS] [--repeat N]`. Ingest encodes every new text twice: with
the fine-tuned encoder the index searches, and with the packaged MiniLM the ranker asks for a second
opinion; the floor is both encodings. The models are loaded and warmed up before anything is timed,
so model load is excluded from both the ingest and the floor. Each cold ingest goes
into a new empty store; cold ingest and floor alternate and the best of N runs counts, because the
machine is shared and wall time is noisy (CPU seconds are shown too). The ingest's own time spent
encoding is measured inside the same run, which gives an overhead ratio that load swings cannot skew.
"""

from __future__ import annotations

import argparse
import functools
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ingest.embedder import PACKAGED, Embedder, load_model  # noqa: E402 - importable once ROOT is on sys.path
from ingest.pipeline import ingest, open_store  # noqa: E402 - as above
from settings import Settings  # noqa: E402 - as above

CORPUS = (ROOT / ".." / "shared" / "corpora").resolve()


def timed(fn):
    """(result, wall seconds, CPU seconds) of calling fn()."""
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w0, time.process_time() - c0


FOLDERS: list[Path] = []


class TimedEmbedder(Embedder):
    """The pipeline's embedder and its second opinion, adding up the wall time of their encode calls in
    one shared clock: overhead measured inside one run."""

    def __init__(self, name: str, cache_dir: Path | None = None, clock: list[float] | None = None):
        super().__init__(name, cache_dir)
        self.clock = clock if clock is not None else [0.0]

    def second_opinion(self) -> Embedder:
        """The packaged MiniLM, timed on the same clock."""
        return self if self.name == PACKAGED else TimedEmbedder(PACKAGED, self.cache_dir, self.clock)

    def encode(self, texts, *args, **kwargs):
        """Embedder.encode, with its wall time added to the clock."""
        t0 = time.perf_counter()
        try:
            return super().encode(texts, *args, **kwargs)
        finally:
            self.clock[0] += time.perf_counter() - t0


def ingest_timed(corpus: Path, settings: Settings):
    """(report, wall s, CPU s, of which encoding s) of one cold ingest."""
    embedder = TimedEmbedder(settings.embedding_model, settings.data_dir)
    report, wall, cpu = timed(functools.partial(ingest, [corpus], settings, embedder=embedder))
    return report, wall, cpu, embedder.clock[0]


def encode_all(models: list[str], texts: list[str]) -> None:
    """The floor's work: every text encoded by every model ingest uses."""
    for model in models:
        Embedder(model).encode(texts)


def fresh_settings() -> Settings:
    """Settings over a new, empty data folder (removed when the benchmark ends)."""
    FOLDERS.append(Path(tempfile.mkdtemp(prefix="bench-ingest-")))
    return Settings.from_env(data_dir=FOLDERS[-1] / "data", chroma_url="")


def distinct_texts(settings: Settings) -> list[str]:
    """One text per content hash across every indexed version."""
    store, seen = open_store(settings), {}
    for v in store.versions():
        for c in store.clauses(v.service, v.document, v.version):
            seen.setdefault(c.content_hash, c.text)
    return list(seen.values())


def measure(corpus: Path, repeat: int) -> list[tuple[str, str, str]]:
    """Run the benchmark and return its rows: (measure, measured, goal)."""
    models = list(dict.fromkeys([Settings().embedding_model, PACKAGED]))
    for model in models:
        load_model(model)
        Embedder(model).encode(["warm up the model once before timing."] * 8)
    colds, floors = [], []
    for _ in range(repeat):
        settings = fresh_settings()
        colds.append(ingest_timed(corpus, settings))
        texts = distinct_texts(settings)
        floors.append(timed(functools.partial(encode_all, models, texts)))
    cold, t_cold, c_cold, t_own = min(colds, key=lambda r: r[1])
    _, t_floor, c_floor = min(floors, key=lambda r: r[1])
    warm, t_warm, _ = timed(lambda: ingest([corpus], settings))
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return [
        ("cold ingest into an empty store (s wall / CPU)", f"{t_cold:.1f} / {c_cold:.0f}", "-"),
        (
            f"floor: encode distinct texts only, with {len(models)} models (s wall / CPU)",
            f"{t_floor:.1f} / {c_floor:.0f}",
            "-",
        ),
        ("ratio ingest / floor (wall; CPU)", f"{t_cold / t_floor:.2f}; {c_cold / c_floor:.2f}", "<= 1.2"),
        ("encoding inside that ingest (s wall)", f"{t_own:.1f}", "-"),
        ("ratio ingest / its own encoding (same run)", f"{t_cold / t_own:.2f}", "<= 1.2"),
        ("re-ingest, nothing changed (s)", f"{t_warm:.2f}", "<= 2"),
        ("re-ingest new embeddings", str(warm.new_embeddings), "0"),
        ("versions indexed / unchanged on re-ingest", f"{len(cold.added)} / {len(warm.unchanged)}", "all / all"),
        ("clauses / distinct texts", f"{cold.clauses} / {cold.distinct_texts}", "-"),
        ("new embeddings in cold ingest", str(cold.new_embeddings), f"{len(texts)} (= distinct)"),
        ("peak RSS (MB)", f"{rss_mb:.0f}", "-"),
    ]


def main() -> None:
    """Print one table: each measured value beside its goal."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=CORPUS)
    parser.add_argument("--repeat", type=int, default=2, help="cold ingests (and floors) to take the best of")
    args = parser.parse_args()
    try:
        rows = measure(args.corpus, max(1, args.repeat))
    finally:
        for folder in FOLDERS:
            shutil.rmtree(folder, ignore_errors=True)
    print(f"Ingest benchmark: {args.corpus}, best of {args.repeat}; model load excluded from both timings")
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'measured':>12}  {'goal':>16}")
    for name, value, goal in rows:
        print(f"{name:<{width}}  {value:>12}  {goal:>16}")


if __name__ == "__main__":
    main()
