"""What counts as a new text, the date a changed text gets, the remembered sources file and the address guard."""

from __future__ import annotations

import json

import pytest

from ingest.store import StoreError
from ingest.watch import WatchedSource, comparable, is_stamp, load_sources, pick_date, remember, same_text, sources_path
from ingest.web import UrlRefused, guard_for

POLICY = (
    "# Acme Privacy Policy\n\nLast updated: May 3, 2025\n\n## 1. Data\n\nWe keep your messages until "
    "January 1, 2026 and then delete them. See https://acme.example/help?topic=data&utm_source=mail.\n"
)


@pytest.mark.parametrize(
    "block",
    [
        "Last updated: May 3, 2025",
        "Effective: January 10, 2024",
        "Effective 2024-01-01",
        "Last modified on 3 May 2025 at 10:42 UTC",
        "Page generated 2025-05-03T10:42:00Z",
        "Effective date: 03/05/2025",
    ],
)
def test_a_block_that_only_dates_the_page_is_a_stamp(block):
    assert is_stamp(block)


@pytest.mark.parametrize(
    "block",
    [
        "We keep your messages until January 1, 2026 and then delete them.",
        "Effective immediately, we share data with advertisers.",
        "Last updated",
        "Users under 13 since 2024-01-01 may not sign up",
    ],
)
def test_policy_words_beside_a_date_are_not_a_stamp(block):
    assert not is_stamp(block)


def test_stamps_and_tracking_parameters_do_not_make_a_new_text():
    other = POLICY.replace("May 3, 2025", "June 9, 2025").replace("utm_source=mail", "utm_source=web&fbclid=Q1")
    assert other != POLICY and same_text(POLICY, other)
    assert "topic=data" in comparable(POLICY) and "utm_source" not in comparable(POLICY)


@pytest.mark.parametrize(
    "edit", [("January 1, 2026", "March 1, 2026"), ("topic=data", "topic=ads"), ("delete them", "keep them")]
)
def test_a_changed_date_in_a_sentence_a_real_parameter_or_a_word_is_a_new_text(edit):
    assert not same_text(POLICY, POLICY.replace(*edit))


def test_a_changed_text_gets_its_stated_date_else_today():
    assert pick_date("2025-03-03", "2024-01-10", "2026-12-01") == "2025-03-03"
    assert pick_date("", "2024-01-10", "2026-12-01") == "2026-12-01"
    assert pick_date("2023-01-01", "2024-01-10", "2026-12-01") == "2026-12-01"  # a stale stamp: the fetch date
    with pytest.raises(ValueError, match="takes effect on 2027-01-01"):
        pick_date("2027-01-01", "2024-01-10", "2026-12-01")
    with pytest.raises(ValueError, match="already indexed"):
        pick_date("", "2026-12-01", "2026-12-01")


def test_remembered_sources_are_kept_once_each_in_a_json_file(tmp_path):
    a = WatchedSource("acme", "privacy-policy", "https://acme.example/privacy")
    remember(tmp_path, a)
    remember(tmp_path, a, WatchedSource("acme", "terms", "https://acme.example/terms"))
    assert [s.document for s in load_sources(tmp_path)] == ["privacy-policy", "terms"]
    assert len(json.loads(sources_path(tmp_path).read_text())["sources"]) == 2
    assert [p.name for p in tmp_path.iterdir()] == ["watchlist.json"]  # no temp file left
    with pytest.raises(ValueError, match="not allowed"):
        remember(tmp_path, WatchedSource("../etc", "x", "https://e.example/"))
    sources_path(tmp_path).write_text("{}")
    with pytest.raises(StoreError, match="watchlist.json is not a list of sources"):
        load_sources(tmp_path)


@pytest.mark.parametrize(
    "ip",
    [
        "127.0.0.1",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:127.0.0.1",
        "0.0.0.0",
        "100.64.0.1",
    ],
)
def test_the_guard_refuses_non_public_addresses(ip):
    with pytest.raises(UrlRefused, match="loopback, private or link-local"):
        guard_for("0.0.0.0", "").check("host", ip)


def test_the_guard_lets_public_and_allowed_addresses_through_and_is_off_on_loopback():
    guard_for("0.0.0.0", "").check("host", "93.184.216.34")
    guard_for("0.0.0.0", "10.0.0.0/8, 127.0.0.1").check("host", "10.9.8.7")
    assert guard_for("127.0.0.1", "") is None and guard_for("localhost", "") is None and guard_for("::1", "") is None
    assert guard_for("0.0.0.0", "1") is None
    with pytest.raises(ValueError, match="CLAUSECITE_ALLOW_PRIVATE_URLS"):
        guard_for("0.0.0.0", "ten.zero")
