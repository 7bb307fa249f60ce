"""Settings are read when asked for, and a bad value is one line naming the variable."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from ingest.errors import ClauseCiteError, InputError, internal_message, user_message
from settings import Settings, SettingsError
from tests.helpers import REPO

pytestmark = pytest.mark.fast


@pytest.mark.parametrize(
    "name, value, needle",
    [
        ("CLAUSECITE_K", "abc", "CLAUSECITE_K='abc' is not a whole number"),
        ("CLAUSECITE_K", "0", "CLAUSECITE_K=0 is too small"),
    ],
)
def test_a_bad_variable_is_a_settings_error_naming_it(monkeypatch, name, value, needle):
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=needle):
        Settings.from_env()


def test_importing_changes_no_environment_and_builds_no_settings():
    code = (
        "import os; before = dict(os.environ); import settings, cli, qa.service, ingest.pipeline, "
        "ingest.uploads; assert dict(os.environ) == before, 'environment changed'"
    )
    env = {"PATH": "/usr/bin:/bin", "CLAUSECITE_K": "abc"}  # a bad value must not fail an import
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_the_cli_says_a_bad_variable_in_one_line(tmp_path):
    from cli import main

    result = CliRunner().invoke(main, ["--data", str(tmp_path), "versions"], env={"CLAUSECITE_K": "abc"})
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "Error: CLAUSECITE_K='abc' is not a whole number; set it to one (default 6)"
    ]


def test_user_errors_are_one_family_and_bugs_are_not_the_users_fault():
    from ingest.loaders import LoadError
    from ingest.store import StoreError
    from qa.answer import QuestionError
    from qa.retrieve import ScopeError

    for kind in (LoadError, StoreError, QuestionError, ScopeError, SettingsError, InputError):
        assert issubclass(kind, ClauseCiteError)
    assert user_message(ScopeError("no policy of service 'z'")) == "no policy of service 'z'"
    missing = FileNotFoundError(2, "No such file or directory", "q.txt")
    assert user_message(missing) == "q.txt: No such file or directory"
    assert user_message(ValueError("bad")) is None and user_message(KeyError("k")) is None
    assert internal_message(KeyError("k")).startswith("internal error (KeyError): this is a bug in ClauseCite")


def test_a_bug_in_a_command_is_logged_with_its_traceback_and_called_internal(tmp_path, monkeypatch):
    import ingest.pipeline
    from cli import main

    def broken(settings):
        raise KeyError("version")

    monkeypatch.setattr(ingest.pipeline, "open_store", broken)
    result = CliRunner().invoke(main, ["--data", str(tmp_path), "versions"])
    assert result.exit_code == 1
    assert "Traceback" in result.stderr and "KeyError: 'version'" in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: internal error (KeyError): this is a bug in ClauseCite, not a mistake of yours")


def test_the_installed_command_is_the_cli():
    command = Path(sys.executable).with_name("clausecite")
    assert command.exists(), "make installs the project into .venv in editable mode"
    done = subprocess.run([str(command), "--help"], capture_output=True, text=True, timeout=120, cwd="/")
    assert done.returncode == 0, done.stderr
    assert "Usage: clausecite" in done.stdout and "--verbose" in done.stdout
    for name in ("ask", "batch", "compare", "history", "ingest", "serve", "versions"):
        assert f"  {name} " in done.stdout, name
