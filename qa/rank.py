"""The trained relevance models: which candidate clauses decide a question, and whether any does.

Both are small networks over signals that retrieval already has (cosines of the fine-tuned
bi-encoder, BM25, the section heading, word coverage), trained by `train/` on ClauseCite's own
labelled questions over other companies' policies and stored as JSON in `models/`. Every model
file is checked against the sha256 in `models/manifest.json` before it is used.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ingest.errors import ClauseCiteError
from ingest.records import Clause, sha256_file

MODELS = Path(__file__).resolve().parent.parent / "models"
REBUILD = "rebuild it with `make model` (about an hour) or restore it with `git checkout -- models/`"


class ModelError(ClauseCiteError, RuntimeError):
    """A model file is missing or damaged; the message names it and says how to rebuild it."""


@dataclass(frozen=True)
class Candidate:
    """One candidate clause with the signals retrieval found for it."""

    clause: Clause
    dense: float  # cosine of question and clause (bi-encoder)
    bm25: float  # BM25 score of the clause with its section and lead-in (0 when absent)
    section: float  # cosine of question and section heading
    dense_rank: int  # 0-based rank among the version's clauses by `dense`
    bm25_rank: int  # 0-based rank by `bm25` (a large number when absent)
    coverage: float  # share of the question's words in the clause, its section or lead-in
    heading_coverage: float  # share of the question's words in its section heading
    base: float  # cosine of question and clause under the packaged MiniLM: a second opinion on `dense`


RANKER_FEATURES = (
    "dense",
    "dense_gap",
    "dense_rank",
    "bm25_norm",
    "bm25_log",
    "bm25_rank",
    "section",
    "section_gap",
    "coverage",
    "heading_coverage",
    "length",
    "is_item",
    "base",
    "base_gap",
)
ANSWER_FEATURES = (
    "p1",
    "p2",
    "p3",
    "dense1",
    "coverage1",
    "vocabulary",
    "words",
    "bm25_log1",
    "reader1_logit",
    "reader_top_logit",
    "base1",
)
READ = 3  # the cross-encoder reads the question with this many of the best-ranked clauses


def ranker_features(cands: list[Candidate]) -> np.ndarray:
    """One row of RANKER_FEATURES per candidate (some are relative to the best candidate)."""
    if not cands:
        return np.zeros((0, len(RANKER_FEATURES)), np.float32)
    dense = np.array([c.dense for c in cands])
    bm25 = np.array([c.bm25 for c in cands])
    section = np.array([c.section for c in cands])
    base = np.array([c.base for c in cands])
    rows = np.column_stack(
        [
            dense,
            dense - dense.max(),
            [1 / (1 + c.dense_rank) for c in cands],
            bm25 / bm25.max() if bm25.max() > 0 else np.zeros_like(bm25),
            np.log1p(bm25),
            [1 / (1 + c.bm25_rank) for c in cands],
            section,
            section - section.max(),
            [c.coverage for c in cands],
            [c.heading_coverage for c in cands],
            [math.log(1 + len(c.clause.text)) / 7 for c in cands],
            [1.0 if c.clause.kind in ("bullet", "row") else 0.0 for c in cands],
            base,
            base - base.max(),
        ]
    )
    return rows.astype(np.float32)


def answer_features(
    probs: np.ndarray, cands: list[Candidate], vocabulary: float, words: int, read: np.ndarray
) -> np.ndarray:
    """ANSWER_FEATURES of one question from its candidates, their ranker probabilities and the
    cross-encoder's reading of the READ best-ranked ones (`read`, in ranked order)."""
    p = list(np.sort(probs)[::-1][:3]) + [0.0] * 3
    order = np.argsort(-probs)[:3]
    return np.array(
        [
            p[0],
            p[1],
            p[2],
            max((c.dense for c in cands), default=0.0),
            max((cands[i].coverage for i in order), default=0.0),
            vocabulary,
            math.log1p(words),
            math.log1p(max((c.bm25 for c in cands), default=0.0)),
            log_odds(float(read.max()) if len(read) else 0.0),
            log_odds(float(read[0]) if len(read) else 0.0),
            max((c.base for c in cands), default=0.0),  # the packaged MiniLM's best cosine: a second opinion
        ],
        np.float32,
    )


def log_odds(p: float) -> float:
    """A probability as log-odds (clipped at 1e-5 from 0 and 1). The reader's probabilities crowd near 0 and
    1, where a linear model over them cannot tell 0.99 from 0.9999; as log-odds it can. On split B, answerability
    over the reader's log-odds caught 0.54 of the unanswerable questions at 4 % false abstain, against 0.445 over
    its probabilities (docs/benchmarks.md, session 14)."""
    p = min(max(p, 1e-5), 1 - 1e-5)
    return math.log(p / (1 - p))


def blended(probs: np.ndarray, top: np.ndarray, top_scores: np.ndarray) -> np.ndarray:
    """Final scores: the READ best candidates (`top`) get their blended scores; the rest keep the ranker's
    order below them."""
    out = probs.astype(np.float64).copy()
    rest = np.ones(len(out), bool)
    rest[top] = False
    if rest.any() and out[rest].max() > 0:
        out[rest] *= 0.99 * top_scores.min() / out[rest].max()
    out[top] = top_scores
    return out


class Reader:
    """The trained cross-encoder: reads a question with a clause and gives the probability that the
    clause settles it. The packaged MiniLM (its word embeddings) plus the shipped layers, run on
    onnxruntime (ingest/minilm.py)."""

    MAX_TOKENS = 128

    def __init__(self, weights: Path):
        from ingest import minilm
        from ingest.embedder import model_path

        base = Path(model_path("all-MiniLM-L6-v2"))
        try:
            tensors = minilm.fine_tuned(base, weights, head=True, strip="bert.")
        except minilm.WeightsError:
            raise ModelError(f"model file {weights} does not fit the MiniLM cross-encoder; {REBUILD}") from None
        self.model = minilm.PairClassifier(tensors, base, self.MAX_TOKENS)

    def read(self, question: str, texts: list[str]) -> np.ndarray:
        """Probabilities, one per text."""
        return self.model.read(question, texts)


@dataclass(frozen=True)
class Network:
    """A small feed-forward classifier: standardised inputs, ReLU hidden layers, sigmoid output."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    layers: tuple[tuple[np.ndarray, np.ndarray], ...]

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Probabilities for the rows of x (columns in `features` order)."""
        h = (np.atleast_2d(x) - self.mean) / self.scale
        for i, (w, b) in enumerate(self.layers):
            h = h @ w + b
            if i < len(self.layers) - 1:
                h = np.maximum(h, 0.0)
        return 1.0 / (1.0 + np.exp(-h[:, 0]))

    def to_dict(self) -> dict:
        """A JSON-ready form (what `train/` writes)."""
        return {
            "features": list(self.features),
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "layers": [{"w": w.tolist(), "b": b.tolist()} for w, b in self.layers],
        }

    @classmethod
    def from_dict(cls, d: dict) -> Network:
        """The network a `to_dict` wrote."""
        layers = tuple((np.array(x["w"], np.float64), np.array(x["b"], np.float64)) for x in d["layers"])
        return cls(tuple(d["features"]), np.array(d["mean"]), np.array(d["scale"]), layers)


@dataclass(frozen=True)
class Models:
    """The shipped relevance models and the answer-state thresholds chosen with them."""

    ranker: Network
    answerable: Network
    addressed: float  # p(answerable) at or above this: the policy addresses the question
    partly: float  # at or above this (and below `addressed`): it talks about it, without settling it
    rule_below: float  # below this, the word rule (qa/abstain.py) is asked beside the model
    encoder: Path  # the fine-tuned bi-encoder's folder
    reader: Reader  # the cross-encoder
    blend: Network  # the final order of the READ best: ranker probability and the reader's, combined


def check_files(folder: Path = MODELS) -> dict:
    """The manifest, after checking that every file it lists is present with its sha256."""
    manifest_path = folder / "manifest.json"
    try:
        manifest = json.loads(manifest_path.read_text("utf-8"))
        files = manifest["files"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelError(f"{manifest_path} is missing or unreadable ({exc}); {REBUILD}") from None
    for name, digest in files.items():
        path = folder / name
        if not path.is_file():
            raise ModelError(f"model file {path} is missing; {REBUILD}")
        if sha256_file(path) != digest:
            raise ModelError(
                f"model file {path} is damaged (its sha256 does not match models/manifest.json); {REBUILD}"
            )
    return manifest


def _network_of(path: Path, features: tuple[str, ...], data: dict | None = None) -> Network:
    """A shipped network (`data`: the file, when it is already read), refused when it was trained on other
    signals than this ClauseCite computes."""
    net = Network.from_dict(data if data is not None else json.loads(path.read_text("utf-8")))
    if net.features != features:
        raise ModelError(
            f"{path} was trained on other signals ({', '.join(net.features)}) than this ClauseCite computes "
            f"({', '.join(features)}); {REBUILD}"
        )
    return net


_LOADED: dict[Path, Models] = {}


def load(folder: Path = MODELS) -> Models:
    """The checked models of a folder, loaded once per process."""
    folder = Path(folder).resolve()
    if folder not in _LOADED:
        manifest = check_files(folder)
        ranker = _network_of(folder / "ranker.json", RANKER_FEATURES)
        answerable = json.loads((folder / "answerable.json").read_text("utf-8"))
        t = answerable.get("thresholds", {})
        if not {"addressed", "partly", "rule_below"} <= set(t):
            raise ModelError(f"{folder / 'answerable.json'} lacks the answer-state thresholds; {REBUILD}")
        blend = Network.from_dict(json.loads((folder / "blend.json").read_text("utf-8")))
        _LOADED[folder] = Models(
            ranker,
            _network_of(folder / "answerable.json", ANSWER_FEATURES, answerable),
            t["addressed"],
            t["partly"],
            t["rule_below"],
            folder / manifest["encoder"],
            Reader(folder / "cross-encoder.safetensors"),
            blend,
        )
    return _LOADED[folder]


MAX_CITED = 5
CITED_CHARS = 1500  # budget of clause text per answer: enough to decide, short enough to read
# A clause under a fiftieth of the best one's relevance is merely nearby and never cited. Set by design, not
# fitted: split B cannot choose it (train/fit.py share_curve), while a question with two parts has its second
# evidence clause scored far below the first ("Will my DMs train AI?": the DMs clause at 0.03 of the best).
CITE_SHARE = 0.02


def select(scores: list[float], lengths: list[int], share: float) -> list[int]:
    """Indexes (best first) of the clauses worth citing: the best, then those whose relevance is at least
    `share` of the best, within MAX_CITED clauses and CITED_CHARS characters."""
    order = sorted(range(len(scores)), key=lambda i: -scores[i])
    chosen: list[int] = []
    used = 0
    for i in order:
        if len(chosen) >= MAX_CITED or scores[i] < share * scores[order[0]]:
            break
        if chosen and used + lengths[i] > CITED_CHARS:
            continue
        chosen.append(i)
        used += lengths[i]
    return chosen
