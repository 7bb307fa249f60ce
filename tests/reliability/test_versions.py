"""Version names and dates: bad dates and names refused, conflicts need --replace, re-ingest is a no-op."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from ingest.pipeline import open_store
from tests.helpers import SAMPLE
from tests.reliability.helpers import assert_one_line_error, cli, snapshot

CHIRP = SAMPLE / "chirp" / "privacy-policy"


def _flags(service="acme", document="privacy-policy", version="2024-01-01") -> list[str]:
    return ["ingest", "--quiet", "--service", service, "--document", document, "--version", version]


@pytest.mark.parametrize(
    "version, message",
    [
        ("2024-13-45", "'2024-13-45' is not a date; write it as YYYY-MM-DD"),
        ("last tuesday", "is not a date"),
        ("tomorrow", "is in the future"),
        ("2999-01-01", "is in the future"),
    ],
)
def test_bad_effective_date_is_refused(version, message, sample_settings):
    if version == "tomorrow":  # the day after the test runs, not after it was collected (a run may pass midnight)
        version = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    before = snapshot(sample_settings)
    result = cli(sample_settings, *_flags(version=version), str(CHIRP / "2022-03-01.md"))
    assert_one_line_error(result, message)
    assert snapshot(sample_settings) == before


@pytest.mark.parametrize(
    "flag, name",
    [
        ("--service", "../evil"),
        ("--service", "/abs"),
        ("--service", "a b"),
        ("--service", "X!"),
        ("--document", "../evil"),
        ("--document", "/abs"),
        ("--document", "a b"),
        ("--document", "X!"),
    ],
)
def test_unsafe_names_are_refused(flag, name, sample_settings, tmp_path):
    before = snapshot(sample_settings)
    names = {"--service": "acme", "--document": "privacy-policy", flag: name}
    args = _flags(names["--service"], names["--document"])
    result = cli(sample_settings, *args, str(CHIRP / "2022-03-01.md"))
    assert_one_line_error(result, f"name {name!r} is not allowed")
    assert snapshot(sample_settings) == before
    data = sample_settings.data_dir
    assert not (data.parent / "evil").exists() and not Path("/abs").exists()
    assert not [p for p in data.parent.rglob("*.json") if data not in p.parents]  # nothing written outside


def test_same_date_other_text_needs_replace_and_same_text_is_a_no_op(settings, tmp_path):
    policy = tmp_path / "policy.md"
    policy.write_text((CHIRP / "2022-03-01.md").read_text("utf-8"), "utf-8")
    first = cli(settings, *_flags(), str(policy))
    assert first.exit_code == 0 and first.stdout.startswith("1 version(s) indexed"), first.output
    before = snapshot(settings)

    again = cli(settings, *_flags(), str(policy))
    assert again.exit_code == 0, again.output
    assert "0 version(s) indexed, 1 unchanged" in again.stdout and "0 new embeddings" in again.stdout
    assert snapshot(settings) == before

    edited = tmp_path / "edited.md"
    edited.write_text(policy.read_text("utf-8").replace("Chirp", "Chirrup"), "utf-8")
    refused = cli(settings, *_flags(), str(edited))
    assert_one_line_error(refused, "acme/privacy-policy@2024-01-01 is already indexed with different text", "--replace")
    assert snapshot(settings) == before

    replaced = cli(settings, *_flags(), "--replace", str(edited))
    assert replaced.exit_code == 0 and replaced.stdout.startswith("1 version(s) indexed"), replaced.output
    store = open_store(settings)
    clauses = store.clauses("acme", "privacy-policy", "2024-01-01")
    assert all("Chirp" not in c.text for c in clauses) and any("Chirrup" in c.text for c in clauses)
    assert store.count() == len(clauses)  # the replaced version's vectors are gone
    assert [v.key for v in store.versions()] == ["acme/privacy-policy@2024-01-01"]
