"""Load: 20 concurrent API clients against the app, and 4 concurrent `cli.py batch` runs on one data folder.

Answers under load must equal the answers given one at a time. Latencies go to docs/load.md.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.helpers import REPO
from tests.reliability.helpers import AUTH, child_env

pytestmark = pytest.mark.slow

QUESTIONS = [
    "Can I delete my data?",
    "Do you sell my personal data?",
    "Do you use my posts to train AI models?",
    "How long do you keep log data?",
    "Do you collect my precise location?",
    "Can I turn off personalised ads?",
    "Do you share my data with advertisers?",
    "What cookies do you use?",
    "Can I download a copy of my data?",
    "Do you collect biometric information?",
    "Who can see my posts?",
    "Do you read my direct messages?",
    "How do I contact the privacy team?",
    "Do you share data with law enforcement?",
    "What happens to my data when I delete my account?",
    "Do you collect information about my device?",
    "Can children use the service?",
    "Do you transfer my data to other countries?",
    "How will I know when the policy changes?",
    "Do you get information about me from other companies?",
]
LOAD_MD = REPO / "docs" / "load.md"


def _percentiles(samples: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples, n=20, method="inclusive")
    return statistics.median(samples), cuts[18]


def _record(title: str, command: str, samples: list[float], note: str) -> None:
    p50, p95 = _percentiles(samples)
    line = (
        f"| {dt.date.today()} | {title} | {len(samples)} | {p50:.2f} | {p95:.2f} | {max(samples):.2f} | "
        f"{note}; {os.cpu_count()} CPUs |\n"
    )
    print(f"\n{title}: p50 {p50:.2f} s, p95 {p95:.2f} s, max {max(samples):.2f} s")
    if os.environ.get("CLAUSECITE_RECORD") != "1":  # a plain test run leaves the checkout clean
        return
    LOAD_MD.parent.mkdir(exist_ok=True)
    if not LOAD_MD.exists():
        LOAD_MD.write_text(
            "# Load\n\nAppended by `tests/reliability/test_load.py`; reproduce with\n\n"
            f"    {command}\n\nSample index (fictional Chirp, 3 versions), extractive answers, CPU only.\n\n"
            "| date | run | requests | p50 s | p95 s | max s | note |\n|---|---|---|---|---|---|---|\n",
            "utf-8",
        )
    with LOAD_MD.open("a", encoding="utf-8") as fh:
        fh.write(line)


COMMAND = "CLAUSECITE_RECORD=1 .venv/bin/python -m pytest tests/reliability/test_load.py -q -s"


def test_twenty_concurrent_clients_get_the_answers_asked_alone(app_server):
    from gradio_client import Client

    url = app_server[0] + "/"
    alone_client = Client(url, auth=AUTH, verbose=False)
    alone = [alone_client.predict(q, "chirp/privacy-policy", "", "", api_name="/ask") for q in QUESTIONS]

    def one(q: str) -> tuple[dict, float]:
        client = Client(url, auth=AUTH, verbose=False)  # each thread its own client, as 20 users would be
        t0 = time.perf_counter()
        answer = client.predict(q, "chirp/privacy-policy", "", "", api_name="/ask")
        return answer, time.perf_counter() - t0

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(QUESTIONS)) as pool:
        results = list(pool.map(one, QUESTIONS))
    wall = time.perf_counter() - t0
    loaded = [a for a, _ in results]
    assert [a["question"] for a in loaded] == QUESTIONS
    assert not [a for a in loaded if a.get("error")]
    assert loaded == alone
    _record("app /ask, 20 concurrent gradio_client threads", COMMAND, [s for _, s in results], f"wall {wall:.1f} s")


def test_four_concurrent_batch_runs_match_a_sequential_run(app_server, tmp_path):
    data = app_server[1]  # the same folder the app is serving from
    questions = tmp_path / "questions.txt"
    questions.write_text("\n".join(QUESTIONS) + "\n", "utf-8")

    def start(out: Path) -> subprocess.Popen:
        return subprocess.Popen(
            [
                sys.executable,
                str(REPO / "cli.py"),
                "batch",
                str(questions),
                "-o",
                str(out),
                "--service",
                "chirp",
                "--quiet",
            ],
            cwd=REPO,
            env=child_env(data),
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )

    t0 = time.perf_counter()
    first = start(tmp_path / "sequential.jsonl")
    out, err = first.communicate(timeout=300)
    sequential = time.perf_counter() - t0
    assert first.returncode == 0, err
    want = (tmp_path / "sequential.jsonl").read_text("utf-8")
    assert len(want.splitlines()) == len(QUESTIONS) and '"error"' not in want

    t0 = time.perf_counter()
    children = [start(tmp_path / f"run-{i}.jsonl") for i in range(4)]
    spans = []
    for child in children:
        out, err = child.communicate(timeout=300)
        spans.append(time.perf_counter() - t0)
        assert child.returncode == 0, err
    for i in range(4):
        assert (tmp_path / f"run-{i}.jsonl").read_text("utf-8") == want, i
    _record(
        "4 concurrent `cli.py batch` of 20 questions (process wall time)",
        COMMAND,
        spans,
        f"one run alone {sequential:.1f} s",
    )
    rows = [json.loads(x) for x in want.splitlines()]
    assert [r["question"] for r in rows] == QUESTIONS
