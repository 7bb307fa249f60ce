"""Helpers for the reliability tests (tests import them from here): the CLI in and out of process,
copies of an index, what an index holds, and the one-line error check."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner, Result

from tests.helpers import REPO

CLI_ENV = {"CLAUSECITE_CHROMA_URL": None, "CLAUSECITE_DATA": None, "CLAUSECITE_LLM_URL": None}
AUTH = ("auditor", "correct-horse-battery")


def child_env(data: Path, **extra: str) -> dict[str, str]:
    """Environment for a `python cli.py` / `python app.py` child whose state lives in `data`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLAUSECITE_")}
    return {
        **env,
        "CLAUSECITE_DATA": str(data),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "GRADIO_ANALYTICS_ENABLED": "False",
        "ANONYMIZED_TELEMETRY": "False",
        **extra,
    }


def run_cli(data: Path, *args: str, timeout: float = 300, **extra: str) -> subprocess.CompletedProcess:
    """`python cli.py ARGS` in a child process, to completion."""
    return subprocess.run(
        [sys.executable, str(REPO / "cli.py"), *args],
        cwd=REPO,
        env=child_env(data, **extra),
        text=True,
        capture_output=True,
        timeout=timeout,
    )


def copy_index(template: Path, dest: Path) -> Path:
    """A private copy of the template data folder (so each user gets its own Chroma client)."""
    shutil.copytree(template, dest)
    return dest


def cli(settings, *args: str) -> Result:
    """Run the click CLI in-process on the settings' data folder."""
    from cli import main

    return CliRunner().invoke(main, ["--data", str(settings.data_dir), *args], env=CLI_ENV)


def snapshot(settings) -> tuple[list[str], int, list[str]]:
    """What an index holds: version keys, Chroma vector count, catalog files."""
    from ingest.pipeline import open_store

    store = open_store(settings)
    files = sorted(p.relative_to(settings.data_dir).as_posix() for p in (settings.data_dir / "versions").rglob("*"))
    return [v.key for v in store.versions()], store.count(), files


def assert_one_line_error(result: Result, *needles: str) -> str:
    """Exit status 1, nothing on stdout, one `Error: ...` line on stderr containing each needle; no traceback."""
    assert result.exit_code == 1, (result.exit_code, result.output, result.exception)
    assert result.stdout == "", result.stdout
    lines = [ln for ln in result.stderr.splitlines() if ln.strip() and not ln.startswith("Loading weights")]
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]
