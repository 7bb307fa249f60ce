"""MiniLM on onnxruntime: questions are embedded and read without importing torch.

Importing torch, transformers and sentence-transformers took 7-8 s of a 10 s cold start, while one
question needs a few dozen matrix products. onnxruntime (installed with chromadb) imports in 0.2 s
and runs them as fast as torch. The weights are the same files (the packaged MiniLM, plus
ClauseCite's fine-tuned layers from models/), and the word pieces come from the same tokenizer.json,
so the vectors and reader scores match torch's to float32 rounding (tests/ingest/test_minilm.py).
Ingest embeds on it too; only training (`make model`) uses torch.

The graph (BERT's six layers, plus the classifier head for the reader) is written here, in ONNX's
protobuf wire format, with the weights inside; no ONNX file is kept anywhere. The word, position
and type embeddings are looked up in numpy before the graph runs.
"""

from __future__ import annotations

import functools
import os
import struct
from pathlib import Path

import numpy as np

from ingest.errors import ClauseCiteError

EPS = 1e-12  # BERT's layer-norm epsilon
OPSET = 20  # the first with a Gelu operator


def shape(folder: Path) -> tuple[int, int] | None:
    """(layers, attention heads) of a BERT model folder that this module can run (a GELU BERT whose
    sentence vector is the mean of its tokens), else None."""
    import json

    try:
        config = json.loads((folder / "config.json").read_text("utf-8"))
        pooling = folder / "1_Pooling" / "config.json"
        mean = not pooling.is_file() or json.loads(pooling.read_text("utf-8")).get("pooling_mode_mean_tokens")
    except (OSError, ValueError):
        return None
    if config.get("model_type") != "bert" or config.get("hidden_act") != "gelu" or not mean:
        return None
    if not (folder / "model.safetensors").is_file() or not (folder / "tokenizer.json").is_file():
        return None
    return int(config["num_hidden_layers"]), int(config["num_attention_heads"])


def expected(layers: int, head: bool) -> set[str]:
    """The weight names `build` reads (the embeddings are read in numpy)."""
    names = {f"embeddings.{e}.weight" for e in ("word_embeddings", "position_embeddings", "token_type_embeddings")}
    names |= {"embeddings.LayerNorm.weight", "embeddings.LayerNorm.bias"}
    parts = [
        "attention.self.query",
        "attention.self.key",
        "attention.self.value",
        "attention.output.dense",
        "attention.output.LayerNorm",
        "intermediate.dense",
        "output.dense",
        "output.LayerNorm",
    ]
    names |= {f"encoder.layer.{i}.{p}.{x}" for i in range(layers) for p in parts for x in ("weight", "bias")}
    if head:
        names |= {f"{p}.{x}" for p in ("pooler.dense", "classifier") for x in ("weight", "bias")}
    return names


# ONNX protobuf, the few messages a graph needs (field numbers from onnx.proto) -------------------
def _varint(n: int) -> bytes:
    n &= (1 << 64) - 1  # negative int64 values take ten bytes, as protobuf writes them
    out = bytearray()
    while True:
        low = n & 0x7F
        n >>= 7
        if n:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def _field(number: int, value: bytes | str | int) -> bytes:
    """One field: an int as a varint, text or bytes (or a nested message) length-delimited."""
    if isinstance(value, int):
        return _varint(number << 3) + _varint(value)
    data = value.encode() if isinstance(value, str) else value
    return _varint(number << 3 | 2) + _varint(len(data)) + data


def _attribute(name: str, value: int | float | list[int]) -> bytes:
    if isinstance(value, list):  # INTS = 7
        return _field(1, name) + b"".join(_field(8, v) for v in value) + _field(20, 7)
    if isinstance(value, float):  # FLOAT = 1, a fixed32 field
        return _field(1, name) + _varint(2 << 3 | 5) + struct.pack("<f", value) + _field(20, 1)
    return _field(1, name) + _field(3, value) + _field(20, 2)  # INT = 2


def _tensor(name: str, array: np.ndarray) -> bytes:
    kind = {np.dtype(np.float32): 1, np.dtype(np.int64): 7}[array.dtype]
    dims = b"".join(_field(1, d) for d in array.shape)
    return dims + _field(2, kind) + _field(8, name) + _field(9, np.ascontiguousarray(array).tobytes())


def _value_info(name: str, dims: list[str | int], kind: int = 1) -> bytes:
    shape = b"".join(_field(1, _field(2, d) if isinstance(d, str) else _field(1, d)) for d in dims)
    return _field(1, name) + _field(2, _field(1, _field(1, kind) + _field(2, shape)))


class _Graph:
    """Nodes and weights, added in order; `model()` gives the serialised ModelProto."""

    def __init__(self) -> None:
        self.nodes: list[bytes] = []
        self.weights: list[bytes] = []
        self.count = 0

    def const(self, name: str, array: np.ndarray) -> str:
        self.weights.append(_tensor(name, array))
        return name

    def op(self, kind: str, *inputs: str, **attrs: int | float | list[int]) -> str:
        self.count += 1
        out = f"{kind.lower()}{self.count}"
        node = b"".join(_field(1, i) for i in inputs) + _field(2, out) + _field(3, out) + _field(4, kind)
        node += b"".join(_field(5, _attribute(k, v)) for k, v in attrs.items())
        self.nodes.append(node)
        return out

    def model(self, inputs: list[bytes], outputs: list[bytes]) -> bytes:
        graph = b"".join(_field(1, n) for n in self.nodes) + _field(2, "minilm")
        graph += b"".join(_field(5, w) for w in self.weights)
        graph += b"".join(_field(11, i) for i in inputs) + b"".join(_field(12, o) for o in outputs)
        opset = _field(8, _field(1, "") + _field(2, OPSET))
        return _field(1, 9) + _field(2, "clausecite") + opset + _field(7, graph)  # IR version 9


def build(weights: dict[str, np.ndarray], layers: int, heads: int, head: bool) -> bytes:
    """The layers over embedded tokens `x` (batch, tokens, 384) with additive `mask` (batch, 1, 1,
    tokens); output `out`: the last hidden states, or with `head` the classifier's logit per row."""
    g = _Graph()
    width = weights["embeddings.LayerNorm.weight"].shape[0]
    size = width // heads
    split = g.const("split_heads", np.array([0, 0, heads, size], np.int64))
    join = g.const("join_heads", np.array([0, 0, width], np.int64))
    scale = g.const("scale", np.array(1.0 / np.sqrt(size), np.float32))

    def dense(x: str, name: str) -> str:
        w = g.const(f"{name}.w", np.ascontiguousarray(weights[f"{name}.weight"].T))
        return g.op("Add", g.op("MatMul", x, w), g.const(f"{name}.b", weights[f"{name}.bias"]))

    def norm(x: str, name: str) -> str:
        w, b = g.const(f"{name}.w", weights[f"{name}.weight"]), g.const(f"{name}.b", weights[f"{name}.bias"])
        return g.op("LayerNormalization", x, w, b, axis=-1, epsilon=EPS)

    x = "x"
    for i in range(layers):
        p = f"encoder.layer.{i}"
        q = g.op("Transpose", g.op("Reshape", dense(x, f"{p}.attention.self.query"), split), perm=[0, 2, 1, 3])
        k = g.op("Transpose", g.op("Reshape", dense(x, f"{p}.attention.self.key"), split), perm=[0, 2, 3, 1])
        v = g.op("Transpose", g.op("Reshape", dense(x, f"{p}.attention.self.value"), split), perm=[0, 2, 1, 3])
        scores = g.op("Add", g.op("Mul", g.op("MatMul", q, k), scale), "mask")
        ctx = g.op("MatMul", g.op("Softmax", scores, axis=-1), v)
        ctx = g.op("Reshape", g.op("Transpose", ctx, perm=[0, 2, 1, 3]), join)
        x = norm(g.op("Add", dense(ctx, f"{p}.attention.output.dense"), x), f"{p}.attention.output.LayerNorm")
        mid = g.op("Gelu", dense(x, f"{p}.intermediate.dense"))
        x = norm(g.op("Add", dense(mid, f"{p}.output.dense"), x), f"{p}.output.LayerNorm")
    if head:
        first = g.op("Gather", x, g.const("first", np.array(0, np.int64)), axis=1)
        x = dense(g.op("Tanh", dense(first, "pooler.dense")), "classifier")
    g.nodes[-1] = g.nodes[-1].replace(_field(2, x), _field(2, "out"), 1)  # name the last output
    dims: list[str | int] = ["batch", 1] if head else ["batch", "tokens", width]
    inputs = [_value_info("x", ["batch", "tokens", width]), _value_info("mask", ["batch", 1, 1, "tokens"])]
    return g.model(inputs, [_value_info("out", dims)])


def load_weights(*files: Path, strip: str = "") -> dict[str, np.ndarray]:
    """float32 tensors from safetensors files, later files overriding earlier ones; a leading `strip`
    ("bert.") is dropped from names, so a classifier's encoder reads like a bare BERT. The arrays are
    shared between callers (the encoder and the reader both start from the packaged MiniLM): read only."""
    out: dict[str, np.ndarray] = {}
    for f in files:
        stat = Path(f).stat()
        for k, v in _tensors(str(f), stat.st_size, stat.st_mtime_ns).items():
            out[k[len(strip) :] if strip and k.startswith(strip) else k] = v
    return out


@functools.lru_cache(maxsize=8)
def _tensors(path: str, size: int, mtime: int) -> dict[str, np.ndarray]:
    """One file's tensors as float32, kept per process while the file is unchanged (size, mtime)."""
    from safetensors.numpy import load_file

    tensors = {k: v.astype(np.float32) for k, v in load_file(path).items()}
    for v in tensors.values():
        v.setflags(write=False)
    return tensors


class WeightsError(ClauseCiteError, ValueError):
    """Weight files that do not make the model asked for."""


def fine_tuned(base: Path, layers: Path, head: bool, strip: str = "") -> dict[str, np.ndarray]:
    """A base model folder's weights with a fine-tuned model's own over them (`make model` saves every
    weight but the word embeddings). WeightsError when the file has none, names the model does not
    have, or lacks one of its layers."""
    weights = load_weights(base / "model.safetensors")
    own = load_weights(layers, strip=strip)
    found = shape(base)
    wanted = expected(found[0] if found else 0, head)
    unexpected = sorted(set(own) - set(weights) - wanted)
    missing = sorted(w for w in wanted - set(own) if not w.startswith("embeddings."))
    if not own or unexpected or missing:
        raise WeightsError(
            f"{layers} does not fit the model in {base} (unexpected: {unexpected[:3]}, missing: {missing[:3]})"
        )
    weights.update(own)
    return weights


class Bert:
    """A BERT on onnxruntime: tokens in, the graph's output out. `folder` is the base model's (its
    config and tokenizer); `weights` are all of its tensors, fine-tuned ones included."""

    def __init__(self, weights: dict[str, np.ndarray], folder: Path, head: bool):
        import onnxruntime
        from tokenizers import Tokenizer

        found = shape(folder)
        if found is None:
            raise WeightsError(f"{folder} is not a BERT model that ClauseCite can run")
        missing = expected(found[0], head) - set(weights)
        if missing:
            raise WeightsError(f"{folder}: weights missing ({sorted(missing)[:3]}); use a complete model folder")
        tokenizer = folder / "tokenizer.json"

        self.embed = {k: v for k, v in weights.items() if k.startswith("embeddings.")}
        self.tokenizer = Tokenizer.from_file(str(tokenizer))
        self.tokenizer.no_padding()
        options = onnxruntime.SessionOptions()
        threads = os.environ.get("OMP_NUM_THREADS", "")  # as torch does: one thread when told so
        if threads.isdigit():
            options.intra_op_num_threads = int(threads)
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # errors only
        # idle threads sleep rather than spin: ingest writes to Chroma while it embeds the next texts
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = onnxruntime.InferenceSession(
            build(weights, *found, head=head), options, providers=["CPUExecutionProvider"]
        )

    def run(self, encodings: list) -> tuple[np.ndarray, np.ndarray]:
        """(graph output, attention mask) for a list of `tokenizers` encodings, padded to the longest."""
        length = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), length), np.int64)
        types = np.zeros_like(ids)
        mask = np.zeros((len(encodings), length), np.float32)
        for row, e in enumerate(encodings):
            ids[row, : len(e.ids)] = e.ids
            types[row, : len(e.ids)] = e.type_ids
            mask[row, : len(e.ids)] = 1.0
        w = self.embed
        x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.token_type_embeddings.weight"][types]
        x += w["embeddings.position_embeddings.weight"][:length]
        mean = x.mean(-1, keepdims=True)
        x = (x - mean) / np.sqrt(((x - mean) ** 2).mean(-1, keepdims=True) + EPS)
        x = x * w["embeddings.LayerNorm.weight"] + w["embeddings.LayerNorm.bias"]
        blocked = ((mask - 1.0) * np.float32(3.0e38))[:, None, None, :]  # 0 where a token is, -3e38 at padding
        (out,) = self.session.run(None, {"x": x.astype(np.float32), "mask": blocked})
        return out, mask


class SentenceEncoder(Bert):
    """Mean-pooled, unit-length sentence vectors (what sentence-transformers gives for MiniLM)."""

    def __init__(self, weights: dict[str, np.ndarray], folder: Path, max_tokens: int = 256):
        super().__init__(weights, folder, head=False)
        self.tokenizer.enable_truncation(max_length=max_tokens)

    def encode(self, texts: list[str]) -> np.ndarray:
        """(len(texts), 384) float32 vectors."""
        if not texts:
            return np.zeros((0, self.embed["embeddings.LayerNorm.weight"].shape[0]), np.float32)
        hidden, mask = self.run(self.tokenizer.encode_batch(texts))
        pooled = (hidden * mask[:, :, None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1e-9)
        return (pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)).astype(np.float32)


class PairClassifier(Bert):
    """A BERT sequence classifier with one logit: reads (question, text) pairs, gives probabilities."""

    def __init__(self, weights: dict[str, np.ndarray], folder: Path, max_tokens: int = 128):
        super().__init__(weights, folder, head=True)
        self.tokenizer.enable_truncation(max_length=max_tokens, strategy="only_second")

    def read(self, question: str, texts: list[str]) -> np.ndarray:
        """Probability per text."""
        if not texts:
            return np.zeros(0, np.float32)
        logits, _ = self.run(self.tokenizer.encode_batch([(question, t) for t in texts]))
        return (1.0 / (1.0 + np.exp(-logits[:, 0]))).astype(np.float32)
