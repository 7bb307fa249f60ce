"""Batch runs lose nothing: bad CSV rows are reported, errors reach every format, a bad -o fails first,
and an interrupted run keeps its answers and continues with --resume."""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import sys
import time

import pytest

from tests.helpers import REPO
from tests.reliability.helpers import child_env, cli, copy_index, run_cli

QUESTIONS = [
    "Can I delete my data?",
    "Do you sell my personal data?",
    "How long do you keep log data?",
    "Do you collect my precise location?",
    "Can I turn off personalised ads?",
    "What cookies do you use?",
    "Can I download a copy of my data?",
    "Who can see my posts?",
    "Do you read my direct messages?",
    "Can children use the service?",
    "Do you share data with law enforcement?",
    "How will I know when the policy changes?",
]


def test_an_unclosed_quote_is_reported_and_the_rows_after_it_answered(sample_settings, tmp_path):
    questions = tmp_path / "q.csv"
    questions.write_text(
        'id,question\nc1,Can I delete my data?\nc2,"Do you sell my data?\n'
        'c3,How long do you keep log data?\nc4,"Who can see my posts?"\n',
        "utf-8",
    )
    out = tmp_path / "out.jsonl"
    result = cli(sample_settings, "batch", str(questions), "-o", str(out), "--service", "chirp", "--quiet")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert [r["id"] for r in rows] == ["c1", "c2", "c3", "c4"]  # the old code read c2-c4 as one question
    assert "row 2 (line 3) opens a quote it does not close" in rows[1]["error"]
    assert [r["question"] for r in rows[2:]] == ["How long do you keep log data?", "Who can see my posts?"]
    assert all(r["citations"] for r in (rows[0], *rows[2:]))


@pytest.mark.parametrize("fmt", ["csv", "md"])
def test_a_failed_row_says_so_in_every_format(fmt, sample_settings, tmp_path):
    questions = tmp_path / "q.csv"
    questions.write_text("id,question\nc1,Can I delete my data?\nc2,\n", "utf-8")
    out = tmp_path / f"out.{fmt}"
    result = cli(sample_settings, "batch", str(questions), "-o", str(out), "--service", "chirp", "--quiet")
    assert result.exit_code == 0, result.output
    if fmt == "csv":
        rows = {r["id"]: r for r in csv.DictReader(out.open(encoding="utf-8", newline=""))}
        assert rows["c2"]["error"] == "row 2 has no question" and rows["c1"]["error"] == ""
    else:
        error_row = "## c2: \n\n*/ @ * — error (confidence 0.00)\n\n**Error:** row 2 has no question"
        assert error_row in out.read_text("utf-8")


def test_an_unwritable_output_fails_before_any_question_is_answered(sample_template, tmp_path):
    data = copy_index(sample_template, tmp_path / "data")
    (tmp_path / "q.txt").write_text("\n".join(QUESTIONS) + "\n", "utf-8")
    (tmp_path / "a-file").write_text("not a folder", "utf-8")
    done = run_cli(
        data,
        "batch",
        str(tmp_path / "q.txt"),
        "-o",
        str(tmp_path / "a-file" / "out.csv"),
        "--service",
        "chirp",
        "--quiet",
    )
    assert done.returncode == 1 and done.stderr.startswith("Error: "), done.stderr
    assert "Loading weights" not in done.stderr  # the model was never loaded: nothing was answered first


@pytest.mark.slow
def test_an_interrupted_batch_keeps_its_answers_and_resumes(sample_template, tmp_path):
    data = copy_index(sample_template, tmp_path / "data")
    (tmp_path / "q.txt").write_text("\n".join(QUESTIONS) + "\n", "utf-8")
    out = tmp_path / "out.jsonl"
    args = ["batch", str(tmp_path / "q.txt"), "-o", str(out), "--service", "chirp", "--quiet"]
    child = subprocess.Popen(
        [sys.executable, str(REPO / "cli.py"), *args],
        cwd=REPO,
        env=child_env(data),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 300
        while (
            (not out.exists() or out.read_text("utf-8").count("\n") < 3)
            and child.poll() is None
            and time.monotonic() < deadline
        ):
            time.sleep(0.05)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    kept = out.read_text("utf-8").count("\n")
    assert 3 <= kept < len(QUESTIONS), kept  # the old code wrote nothing until every answer was ready
    again = run_cli(data, *args, "--resume")
    assert again.returncode == 0, again.stderr
    rows = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert [r["question"] for r in rows] == QUESTIONS and not [r for r in rows if r.get("error")]
    assert f"{len(QUESTIONS) - kept} answers written to {out} (0 error record(s); {kept} already there)" in again.stdout
