"""Hostile markup: cleaning takes time linear in the file, and an upload never stalls other questions.

A 30 KB file of `[` took 59 s to clean (the link pattern rescanned the rest of the file from every
`[`), and a question asked of the app meanwhile waited as long. Every check here runs the work in a
child process with a time limit, so the old, stuck code fails the test instead of hanging it.
Figures for the 10 MB file are in docs/benchmarks.md.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from ingest import loaders
from ingest.linear import sub_links, sub_spans, sub_tags
from tests.helpers import REPO
from tests.reliability.helpers import child_env, copy_index

MB = 1024 * 1024
PIECES = {  # each once made a pattern backtrack over the rest of the text (or worse)
    "brackets": lambda n: "[" * n,
    "images": lambda n: "![" * (n // 2),
    "escaped brackets": lambda n: "\\[" * (n // 2),
    "escapes inside brackets": lambda n: "[" + "[a\\]" * (n // 4),
    "nested emphasis": lambda n: "*_" * (n // 2),
    "unclosed emphasis": lambda n: "(_x *y " * (n // 7),
    "unclosed tags": lambda n: "<a" * (n // 2),
    "list markers": lambda n: "- " * (n // 2) + "x",
    "heading with a long gap": lambda n: "# a" + " " * n + "b",
    "a very long line": lambda n: "We collect data. " * (n // 17),
}


def adversarial_markdown(size: int = 10 * MB) -> str:
    """`size` bytes of every piece above, one after another, each its own paragraph."""
    part = size // len(PIECES)
    return "\n\n".join(make(part) for make in PIECES.values())[:size]


def _in_child(code: str, arg: Path, data: Path, timeout: float) -> dict:
    """Run `code` in a fresh Python in the repo over the data folder `data`; it prints one JSON object."""
    try:
        done = subprocess.run(
            [sys.executable, "-c", code, str(arg)],
            cwd=REPO,
            env=child_env(data),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"still running after {timeout} s")
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


CLEAN = """
import json, sys, time
from ingest.loaders import LoadError, load_clean
t0 = time.perf_counter()
try:
    load_clean(sys.argv[1]); outcome = "cleaned"
except LoadError as exc:
    outcome = str(exc)
print(json.dumps({"seconds": time.perf_counter() - t0, "outcome": outcome}))
"""


@pytest.mark.parametrize("name", PIECES)
def test_each_hostile_pattern_is_cleaned_in_seconds(name, tmp_path):
    path = tmp_path / "hostile" / "privacy-policy" / "2024-01-01.md"
    path.parent.mkdir(parents=True)
    path.write_text(
        PIECES[name](MB) + "\n\nWe collect your name and email address to run the service for you.", "utf-8"
    )
    got = _in_child(CLEAN, path, tmp_path / "data", timeout=60)  # the old code needed days for some
    assert got["seconds"] < 30, got


def test_the_ten_megabyte_file_is_refused_in_seconds(tmp_path):
    path = tmp_path / "hostile.md"
    path.write_text(adversarial_markdown(), "utf-8")
    assert path.stat().st_size == 10 * MB
    got = _in_child(CLEAN, path, tmp_path / "data", timeout=120)
    print(f"\n10 MB hostile Markdown: {got['seconds']:.1f} s to clean; {got['outcome'][:100]}")
    assert got["seconds"] < 60, got
    assert "a paragraph of 1,048,57" in got["outcome"] and "over the 200,000-character limit" in got["outcome"]


def test_the_linear_helpers_give_what_re_sub_gives():
    rng = random.Random(12)
    for _ in range(20_000):
        s = "".join(rng.choice('[]()!\\a _*<>\n"') for _ in range(rng.randint(0, 16)))
        assert sub_links(loaders._LINK, loaders._LINK_TEXT_END, s, loaders._link_text) == loaders._LINK.sub(
            loaders._link_text, s
        ), s
        linear = sub_spans(loaders._UNDERSCORED, loaders._UNDERSCORE_OPENS, "_", s)
        assert linear == loaders._UNDERSCORED.sub(r"\1", s), s
        assert sub_spans(loaders._STARRED, loaders._STAR_OPENS, "*", s) == loaders._STARRED.sub(r"\1", s), s
        assert sub_tags(loaders.TAG, s) == loaders.TAG.sub("", s), s


UPLOAD_WHILE_ASKING = """
import json, sys, threading, time
from pathlib import Path
import app
from settings import Settings

answerer = app.make_answerer(Settings.from_env())
ask = lambda: app.ask(answerer, "Can I delete my data?", "chirp/privacy-policy", "", "", [], [])
ask()  # the model loaded and the version indexed, as in a running app
outcome = {}

def upload():
    t0 = time.perf_counter()
    try:
        outcome["message"] = app.add_policy(answerer, sys.argv[1], "hostile", "privacy-policy", "2024-01-01")[0]
    except Exception as exc:
        outcome["message"] = str(exc)
    outcome["upload_seconds"] = time.perf_counter() - t0

worker = threading.Thread(target=upload)
worker.start()
asks = []
while worker.is_alive():
    t0 = time.perf_counter()
    cards = ask()[1]
    asks.append(time.perf_counter() - t0)
    time.sleep(0.2)
worker.join()
print(json.dumps({**outcome, "asks": asks, "cited": "5.3 Deleting your account" in cards}))
"""


@pytest.mark.slow
def test_questions_asked_during_a_hostile_upload_are_answered_at_once(sample_template, tmp_path):
    data = copy_index(sample_template, tmp_path / "data")
    path = tmp_path / "upload" / "hostile.md"
    path.parent.mkdir()
    path.write_text(adversarial_markdown(), "utf-8")
    got = _in_child(UPLOAD_WHILE_ASKING, path, data, timeout=300)
    asks = got["asks"]
    print(
        f"\nupload of 10 MB hostile Markdown: {got['upload_seconds']:.1f} s ({got['message'][:80]}); "
        f"{len(asks)} questions meanwhile, slowest {max(asks):.2f} s"
    )
    assert "over the 200,000-character limit" in got["message"]
    assert got["upload_seconds"] < 60 and got["cited"]
    assert asks and max(asks) < 5, asks  # the old code held every question for the whole upload
