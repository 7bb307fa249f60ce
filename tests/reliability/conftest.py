"""Fixtures for the reliability tests: one pristine sample index, copied per module, and the app server.

Helpers live in tests/reliability/helpers.py.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO, SAMPLE
from tests.reliability.helpers import AUTH, child_env, copy_index, run_cli
from tests.servers import free_port, stop, wait_until_up


@pytest.fixture(scope="session")
def sample_template(tmp_path_factory) -> Path:
    """A data folder holding the 3 Chirp sample versions, built by a child process and never opened here."""
    data = tmp_path_factory.mktemp("sample-template") / "data"
    done = run_cli(data, "ingest", "--quiet", str(SAMPLE))
    assert done.returncode == 0, done.stderr
    return data


@pytest.fixture(scope="module")
def sample_settings(sample_template, tmp_path_factory):
    """Settings over this module's own copy of the sample index."""
    from settings import Settings

    data = copy_index(sample_template, tmp_path_factory.mktemp("sample") / "data")
    return Settings.from_env(data_dir=data, chroma_url="", llm_base_url="")


@pytest.fixture(scope="session")
def app_server(sample_template, tmp_path_factory):
    """`python app.py` with CLAUSECITE_AUTH set and no --host, over a copy of the sample index.

    Yields (url, data folder, process). One server for the app and load tests.
    """
    root = tmp_path_factory.mktemp("app")
    data, port, log = copy_index(sample_template, root / "data"), free_port(), root / "app.log"
    env = child_env(
        data, CLAUSECITE_AUTH=":".join(AUTH), CLAUSECITE_PORT=str(port), GRADIO_TEMP_DIR=str(root / "gradio-tmp")
    )
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "app.py"], cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url + "/", proc, log.read_text)
        yield url, data, proc
    finally:
        stop(proc, timeout=30)
