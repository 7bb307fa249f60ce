"""MiniLM on onnxruntime (ingest/minilm.py) gives the vectors and reader scores that torch gives for the
same weights, so answering needs no torch; and a damaged weights file still gets its clear error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ingest.embedder import LAYERS, SHIPPED, Embedder, model_path
from qa import rank
from tests.helpers import CORPORA, REPO

TEXTS = [
    "Will my DMs be used to train AI?",
    "sync",
    "We may use the information we collect and publicly available information to help train our machine "
    "learning or artificial intelligence models for the purposes outlined in this policy.",
    "word " * 600,  # past the model's 256 word pieces: cut where sentence-transformers cuts
]


def _policy_paragraphs(n: int) -> list[str]:
    text = next(iter(sorted(CORPORA.rglob("*.md")))).read_text("utf-8")
    return [p for p in text.split("\n\n") if len(p) > 200][:n]


def _torch_vectors(folder: str, layers: Path | None, texts: list[str]) -> np.ndarray:
    from safetensors.torch import load_file
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(model_path("all-MiniLM-L6-v2") if layers else folder, device="cpu")
    if layers:
        model[0].auto_model.load_state_dict({k: v.float() for k, v in load_file(str(layers)).items()}, strict=False)
    return model.float().encode(texts, normalize_embeddings=True, convert_to_numpy=True)


@pytest.mark.parametrize("name", ["clausecite-minilm", "all-MiniLM-L6-v2"])
def test_vectors_match_sentence_transformers(name):
    texts = TEXTS + _policy_paragraphs(6)
    layers = SHIPPED / name / LAYERS if name == "clausecite-minilm" else None
    ours = Embedder(name).encode(texts)
    theirs = _torch_vectors(model_path(name), layers, texts)
    assert ours.shape == (len(texts), 384)
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    assert np.abs(ours - theirs).max() < 1e-5
    # and the nearest text of each question is the same clause
    assert (np.argmax(ours[:2] @ ours[2:].T, 1) == np.argmax(theirs[:2] @ theirs[2:].T, 1)).all()


def test_reader_matches_the_transformers_cross_encoder():
    from safetensors.torch import load_file
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    base = model_path("all-MiniLM-L6-v2")
    weights = SHIPPED / "cross-encoder.safetensors"
    model = AutoModelForSequenceClassification.from_pretrained(base, num_labels=1)
    model.load_state_dict({k: v.float() for k, v in load_file(str(weights)).items()}, strict=False)
    model.eval()
    tokenizer = AutoTokenizer.from_pretrained(base)
    question, texts = "Can I stop them using my messages for AI?", _policy_paragraphs(5) + ["no", "word " * 400]
    enc = tokenizer(
        [question] * len(texts), texts, truncation="only_second", max_length=128, padding=True, return_tensors="pt"
    )
    import torch

    with torch.inference_mode():
        theirs = torch.sigmoid(model(**enc).logits[:, 0]).numpy()
    ours = rank.Reader(weights).read(question, texts)
    assert np.abs(ours - theirs).max() < 1e-5
    assert list(np.argsort(-ours)) == list(np.argsort(-theirs))


def test_a_damaged_reader_file_says_how_to_rebuild_it(tmp_path):
    from safetensors.numpy import save_file

    bad = tmp_path / "cross-encoder.safetensors"
    save_file({"bert.encoder.layer.0.attention.self.query.weight": np.zeros((4, 4), np.float32)}, str(bad))
    with pytest.raises(rank.ModelError, match="does not fit the MiniLM cross-encoder.*make model"):
        rank.Reader(bad)


def test_answering_a_question_does_not_import_torch(corpus_settings):
    """Cold start: importing torch and transformers cost 7-8 s of the 10 s a first answer took."""
    script = (
        "import sys\n"
        "from qa.service import make_answerer\n"
        "from pathlib import Path\n"
        "from settings import Settings\n"
        f"s = Settings.from_env(data_dir=Path({str(corpus_settings.data_dir)!r}), chroma_url='', llm_base_url='')\n"
        "a = make_answerer(s).ask('Will my DMs be used to train AI?', service='x')\n"
        "assert a.citations and not a.abstained, a\n"
        "print(sorted(m for m in ('torch', 'transformers', 'sentence_transformers') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_a_model_folder_that_is_not_mean_pooled_bert_runs_on_sentence_transformers(tmp_path):
    """Only what ingest/minilm.py can reproduce runs there; another model folder keeps its own pooling."""
    import json
    import shutil

    from sentence_transformers import SentenceTransformer

    folder = tmp_path / "cls-pooled"
    shutil.copytree(model_path("all-MiniLM-L6-v2"), folder)
    pooling = folder / "1_Pooling" / "config.json"
    config = json.loads(pooling.read_text("utf-8"))
    config.update(pooling_mode_mean_tokens=False, pooling_mode_cls_token=True)
    pooling.write_text(json.dumps(config), "utf-8")

    ours = Embedder(str(folder)).encode(TEXTS[:3])
    cls = SentenceTransformer(str(folder), device="cpu").encode(TEXTS[:3], normalize_embeddings=True)
    mean = Embedder("all-MiniLM-L6-v2").encode(TEXTS[:3])
    assert np.abs(ours - cls).max() < 1e-5
    assert np.abs(ours - mean).max() > 0.05  # it did not quietly mean-pool
