"""The shipped relevance models: intact files, a clear error when one is missing, the network format."""

from __future__ import annotations

import json
import re
import shutil

import numpy as np
import pytest

from qa import rank
from qa.retrieve import Retriever


def test_every_model_file_matches_its_sha256_in_the_manifest_and_readme():
    manifest = rank.check_files(rank.MODELS)
    readme = (rank.MODELS / "README.md").read_text("utf-8")
    assert {"ranker.json", "answerable.json"} <= set(manifest["files"])
    assert any(f.startswith(manifest["encoder"] + "/") and f.endswith(".safetensors") for f in manifest["files"])
    for name, digest in manifest["files"].items():
        assert rank.sha256_file(rank.MODELS / name) == digest
        assert f"| `{name}` | `{digest}` |" in readme
    assert re.fullmatch(r"[0-9a-f]{40}", manifest["data_commit"])
    size = sum((rank.MODELS / f).stat().st_size for f in manifest["files"])
    assert size <= 60 * 1024 * 1024


@pytest.fixture()
def models_copy(tmp_path):
    folder = tmp_path / "models"
    shutil.copytree(rank.MODELS, folder)
    return folder


def test_a_missing_model_file_stops_start_up_with_how_to_rebuild(settings, models_copy):
    (models_copy / "ranker.json").unlink()
    with pytest.raises(rank.ModelError, match=r"ranker\.json is missing.*make model"):
        Retriever(settings.__class__(**{**settings.__dict__, "models_dir": models_copy}))


def test_a_damaged_model_file_stops_start_up(settings, models_copy):
    path = models_copy / "answerable.json"
    path.write_text(path.read_text("utf-8").replace("0", "1", 1), "utf-8")
    with pytest.raises(rank.ModelError, match=r"answerable\.json is damaged.*make model"):
        rank.check_files(models_copy)
    (models_copy / "manifest.json").write_text("{", "utf-8")
    with pytest.raises(rank.ModelError, match="manifest.json is missing or unreadable"):
        rank.check_files(models_copy)


@pytest.mark.parametrize(
    ("name", "older"),
    [
        ("ranker.json", ("base", "base_gap")),  # the models of 2026-11
        ("answerable.json", ("base1",)),
        ("answerable.json", ("reader1_logit", "reader_top_logit")),  # those of 2026-12-01 read probabilities
    ],
)
def test_a_model_trained_on_other_signals_stops_start_up_with_how_to_rebuild(models_copy, name, older):
    path = models_copy / name
    model = json.loads(path.read_text("utf-8"))
    model["features"] = [f for f in model["features"] if f not in older]
    path.write_text(json.dumps(model), "utf-8")
    manifest = json.loads((models_copy / "manifest.json").read_text("utf-8"))
    manifest["files"][name] = rank.sha256_file(path)
    (models_copy / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    with pytest.raises(rank.ModelError, match=name.replace(".", r"\.") + " was trained on other signals.*make model"):
        rank.load(models_copy)


def test_an_answerability_model_without_its_thresholds_stops_start_up(models_copy):
    path = models_copy / "answerable.json"
    model = json.loads(path.read_text("utf-8"))
    del model["thresholds"]["rule_below"]  # as written before the word rule's point was learned
    path.write_text(json.dumps(model), "utf-8")
    manifest = json.loads((models_copy / "manifest.json").read_text("utf-8"))
    manifest["files"]["answerable.json"] = rank.sha256_file(path)
    (models_copy / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    with pytest.raises(rank.ModelError, match=r"answerable\.json lacks the answer-state thresholds.*make model"):
        rank.load(models_copy)


def test_network_round_trips_and_predicts_probabilities():
    rng = np.random.default_rng(0)
    net = rank.Network(
        ("a", "b"),
        np.zeros(2),
        np.ones(2),
        ((rng.normal(size=(2, 4)), np.zeros(4)), (rng.normal(size=(4, 1)), np.zeros(1))),
    )
    again = rank.Network.from_dict(json.loads(json.dumps(net.to_dict())))
    x = rng.normal(size=(5, 2))
    p = again.predict(x)
    assert np.allclose(p, net.predict(x)) and ((p > 0) & (p < 1)).all()


def test_select_keeps_the_best_then_those_close_to_it_within_the_budget():
    scores, lengths = [0.9, 0.1, 0.8, 0.5, 0.85], [400, 100, 1200, 300, 300]
    chosen = rank.select(scores, lengths, share=0.5)
    assert chosen[0] == 0 and 1 not in chosen and 2 not in chosen  # too weak; over the character budget
    assert chosen == [0, 4, 3]
    assert sum(lengths[i] for i in chosen) <= rank.CITED_CHARS
