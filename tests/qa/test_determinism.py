"""The extractive answer is deterministic: the same question gives the same citations in a new process."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from ingest.pipeline import ingest
from qa.answer import Answerer
from tests.helpers import REPO, SAMPLE

QUESTION = "Can I stop Chirp using my posts for its AI?"
# a second process with its own hash salt: set order differs from this process's, as it does between two runs
CHILD = (
    "import json, sys; from pathlib import Path; from qa.answer import Answerer; from settings import Settings; "
    "s = Settings.from_env(data_dir=Path(sys.argv[1]), chroma_url='', llm_base_url=''); "
    "a = Answerer(s).ask(sys.argv[2], service='chirp'); "
    "print(json.dumps([[c.clause_id for c in a.citations], a.support, round(a.confidence, 6)]))"
)


def test_two_processes_cite_the_same_clauses_in_the_same_order(settings):
    ingest([SAMPLE], settings)
    first = Answerer(settings).ask(QUESTION, service="chirp")
    seed = os.environ.get("PYTHONHASHSEED", "")
    env = {**os.environ, "PYTHONHASHSEED": str(int(seed) + 1 if seed.isdigit() else 1), "HF_HUB_OFFLINE": "1"}
    child = [sys.executable, "-c", CHILD, str(settings.data_dir), QUESTION]
    done = subprocess.run(child, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    ids, support, confidence = json.loads(done.stdout.strip().splitlines()[-1])
    assert first.citations and [c.clause_id for c in first.citations] == ids
    assert (first.support, round(first.confidence, 6)) == (support, confidence)
