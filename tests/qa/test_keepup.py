"""Keeping up with a policy by URL, against a real HTTP server on 127.0.0.1 whose page changes between
requests: add by URL, check (no change, markup only, a real change), failures, the feed, and the
refusal of private addresses when the app listens beyond loopback."""

from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ET
from dataclasses import replace

import pytest
from click.testing import CliRunner

from ingest.loaders import html_to_clean
from ingest.pipeline import open_store
from ingest.watch import WatchedSource, add_url, load_sources, remember, sources_path
from ingest.web import USER_AGENT, UrlRefused
from qa.keepup import check
from tests.sites import NEW_CLAUSE, Page, policy_html, start_site

ATOM = "{http://www.w3.org/2005/Atom}"
ACME = {"service": "acme", "document": "privacy-policy"}
MARKUP_ONLY = {"markup": True, "stamp": "Last updated: February 2, 2024", "tracking": "utm_campaign=summer&fbclid=abc"}


@pytest.fixture()
def site():
    site, server = start_site()
    yield site
    server.shutdown()
    server.server_close()


@pytest.fixture()
def added(site, settings):
    """Acme's policy added by URL (effective 2024-01-10), as a user would: the URL is now remembered."""
    url = site.set("/privacy", Page(policy_html()))
    add_url(url, settings, **ACME)
    return url


def versions(settings, service="acme") -> list[str]:
    return [v.version for v in open_store(settings).versions(service)]


def feed_entries(settings) -> list[ET.Element]:
    """The entries of data/changes.atom, which must parse as an Atom feed with its required elements."""
    root = ET.parse(settings.data_dir / "changes.atom").getroot()
    assert root.tag == f"{ATOM}feed"
    for tag in ("id", "title", "updated", "author"):
        assert root.find(f"{ATOM}{tag}") is not None, tag
    entries = root.findall(f"{ATOM}entry")
    for e in entries:
        assert all(
            e.find(f"{ATOM}{tag}") is not None and (e.find(f"{ATOM}{tag}").text or "").strip()
            for tag in ("id", "title", "updated", "summary")
        ), ET.tostring(e)
        dt.datetime.fromisoformat(e.find(f"{ATOM}updated").text)  # RFC 3339
    return entries


def test_add_by_url_indexes_the_date_the_page_states_and_remembers_the_url(site, settings, added):
    assert versions(settings) == ["2024-01-10"]
    assert open_store(settings).versions()[0].source == added  # citations point at the page, not a download
    assert [(s.service, s.document, s.url) for s in load_sources(settings.data_dir)] == [
        ("acme", "privacy-policy", added)
    ]
    assert json.loads(sources_path(settings.data_dir).read_text())["sources"][0]["url"] == added
    assert not list(settings.data_dir.glob(".*.part"))  # written through a temp file, none left behind
    assert site.requests == [("/privacy", USER_AGENT)] and "ClauseCite" in USER_AGENT


def test_a_page_that_states_no_date_gets_the_fetch_date(site, settings):
    url = site.set("/nodate", Page(policy_html(stamp="Our commitment to your privacy")))
    fetched, date, _ = add_url(url, settings, **ACME)
    assert date == dt.date.today().isoformat() and not fetched.stated
    assert versions(settings) == [date]


def test_check_without_a_change_indexes_nothing(site, settings, added):
    lines = check(settings)
    assert [line.text() for line in lines] == ["acme/privacy-policy: unchanged (2024-01-10)"]
    assert versions(settings) == ["2024-01-10"] and len(site.requests) == 2
    assert feed_entries(settings) == []  # the feed exists for a reader to subscribe to, with no entry yet


def test_a_change_of_markup_whitespace_date_stamp_and_tracking_parameters_is_not_a_new_version(site, settings, added):
    site.set("/privacy", Page(policy_html(**MARKUP_ONLY)))
    # the page's clean text does differ (stamp, tracking parameter): the check must see past that
    assert html_to_clean(policy_html(**MARKUP_ONLY).decode()) != html_to_clean(policy_html().decode())
    assert [line.text() for line in check(settings)] == ["acme/privacy-policy: unchanged (2024-01-10)"]
    assert versions(settings) == ["2024-01-10"]
    assert feed_entries(settings) == []


def test_a_real_change_is_one_new_version_with_its_report_and_one_feed_entry(site, settings, added):
    site.set("/privacy", Page(policy_html(changed=True, stamp="Effective: March 3, 2025")))
    [line] = check(settings)
    assert line.text() == "acme/privacy-policy: new version 2025-03-03: 2 added, 1 removed, 1 changed"
    assert versions(settings) == ["2024-01-10", "2025-03-03"]
    assert open_store(settings).versions()[1].source == added
    report = (settings.data_dir / "changes" / "acme" / "privacy-policy" / "2024-01-10_to_2025-03-03.md").read_text()
    assert f"- **Added:** {NEW_CLAUSE}" in report and "**Changed:**" in report and "## 3. Sharing" in report
    assert "- **Added:** Effective: March 3, 2025" in report  # the new date line replaces the old one
    [entry] = feed_entries(settings)
    assert entry.find(f"{ATOM}title").text == "acme/privacy-policy: new version 2025-03-03"
    assert entry.find(f"{ATOM}summary").text == "2 added, 1 removed, 1 changed clauses since 2024-01-10"
    assert {c.get("term") for c in entry.findall(f"{ATOM}category")} == {
        "Acme Privacy Policy",
        "2. How we use information",
        "3. Sharing",
    }
    assert entry.find(f"{ATOM}link").get("href") == added

    assert [ln.text() for ln in check(settings)] == ["acme/privacy-policy: unchanged (2025-03-03)"]
    assert len(feed_entries(settings)) == 1  # checking again adds nothing


def test_failing_sources_get_one_line_each_nothing_indexed_and_the_others_still_run(site, settings, added):
    settings = replace(settings, fetch_timeout=1.5)
    bad = {
        "gone": (site.set("/gone", Page(b"no", 404, "text/plain")), "answered 404"),
        "slow": (site.set("/slow", Page(policy_html(), delay=4)), "did not answer within 1.5 s"),
        "huge": (
            site.set("/huge", Page(stream_bytes=50 * 1024 * 1024, content_type="text/html")),
            "sends more than 10,485,760 bytes",
        ),
        "image": (
            site.set("/logo", Page(bytes(range(256)) * 40, content_type="image/png")),
            "not a policy page: it sends image/png",
        ),
        "binary": (
            site.set("/blob", Page(bytes(range(256)) * 40, content_type="text/plain")),
            "not a policy page: this looks like a binary file",
        ),
        "empty": (site.set("/empty", Page(b"<html><body><p>Coming soon</p></body></html>")), "not a policy page"),
    }
    remember(settings.data_dir, *(WatchedSource(name, "privacy-policy", url) for name, (url, _) in bad.items()))
    remember(settings.data_dir, WatchedSource("acme", "privacy-policy", added))  # already there: stays once
    site.set("/privacy", Page(policy_html(changed=True, stamp="Effective: March 3, 2025")))

    lines = {line.source.service: line.text() for line in check(settings)}
    assert lines.pop("acme") == "acme/privacy-policy: new version 2025-03-03: 2 added, 1 removed, 1 changed"
    for name, (_url, why) in bad.items():
        assert lines[name].startswith(f"{name}/privacy-policy: failed: ") and why in lines[name], lines[name]
        assert "\n" not in lines[name]
        assert versions(settings, name) == []
    assert site.streamed < 20 * 1024 * 1024  # stopped near the 10 MB limit, not after all 50 MB
    assert len(feed_entries(settings)) == 1
    assert not list((settings.data_dir / "downloads").glob("[!a]*/**/*.*"))  # nothing kept of the failures


def test_check_service_limits_the_check_to_those_services(site, settings, added):
    remember(settings.data_dir, WatchedSource("other", "privacy-policy", site.set("/other", Page(b"x", 404))))
    assert [line.source.service for line in check(settings, services=("acme",))] == ["acme"]
    assert [line.source.service for line in check(settings)] == ["acme", "other"]


def test_beyond_loopback_private_addresses_are_refused_and_nothing_is_requested(site, settings):
    url = site.set("/privacy", Page(policy_html()))
    exposed = replace(settings, host="0.0.0.0")
    with pytest.raises(UrlRefused, match=r"127\.0\.0\.1 is 127\.0\.0\.1, a loopback, private or link-local address"):
        add_url(url, exposed, **ACME)
    with pytest.raises(UrlRefused, match="is ::1"):
        add_url(url.replace("127.0.0.1", "[::1]"), exposed, **ACME)
    assert site.requests == [] and versions(settings) == []
    add_url(url, replace(exposed, allow_private_urls="1"), **ACME)  # the setting for local use and tests
    assert versions(settings) == ["2024-01-10"]
    add_url(url, replace(settings, host="127.0.0.1"), **ACME)  # on loopback only, local addresses are fine


@pytest.mark.parametrize(
    "target", ["http://169.254.169.254/latest/meta-data/", "http://10.1.2.3/policy", "http://127.0.0.1:{port}/privacy"]
)
def test_a_redirect_to_a_private_address_is_refused(site, settings, target):
    port = site.url.rsplit(":", 1)[1]
    site.set("/privacy", Page(policy_html()))
    url = site.set("/moved", Page(status=302, location=target.format(port=port)))
    # this server's own address is allowed; where it redirects to is not
    exposed = replace(settings, host="0.0.0.0", allow_private_urls="127.0.0.1/32")
    if "127.0.0.1" in target:  # a redirect to an allowed address is followed
        add_url(url, exposed, **ACME)
        assert versions(settings) == ["2024-01-10"]
        return
    host = target.split("/")[2]
    with pytest.raises(UrlRefused, match=f"{host} is {host}"):
        add_url(url, exposed, **ACME)
    remember(settings.data_dir, WatchedSource("acme", "privacy-policy", url))
    [line] = check(exposed)
    assert line.status == "failed" and f"{host} is {host}, a loopback, private or link-local address" in line.text()
    assert versions(settings) == []


def cli(settings, *args):
    import cli as cli_module

    return CliRunner().invoke(cli_module.main, ["--data", str(settings.data_dir), *args], catch_exceptions=False)


def test_cli_ingest_url_then_check_prints_one_line_per_source(site, settings):
    url = site.set("/privacy", Page(policy_html()))
    r = cli(settings, "ingest", url, "--service", "acme", "--document", "privacy-policy")
    assert r.exit_code == 0, r.output
    assert "acme/privacy-policy@2024-01-10: effective date 2024-01-10 as the page states it" in r.output
    assert f"remembered {url}" in r.output
    r = cli(settings, "check")
    assert r.exit_code == 0 and r.output.splitlines()[0] == "acme/privacy-policy: unchanged (2024-01-10)"

    site.set("/privacy", Page(policy_html(changed=True, stamp="Effective: March 3, 2025")))
    remember(settings.data_dir, WatchedSource("gone", "privacy-policy", site.set("/gone", Page(b"no", 404))))
    r = cli(settings, "check")
    assert r.exit_code == 1  # a failed source makes cron mail the output
    out = r.output.splitlines()
    gone = f"gone/privacy-policy: failed: {url.replace('/privacy', '/gone')} answered 404 Not Found; check the address"
    assert out[:2] == ["acme/privacy-policy: new version 2025-03-03: 2 added, 1 removed, 1 changed", gone]
    assert any(ln.startswith("change report: ") and ln.endswith("2024-01-10_to_2025-03-03.md") for ln in out)
    r = cli(settings, "check", "--service", "acme")
    assert r.exit_code == 0 and r.output.splitlines()[0] == "acme/privacy-policy: unchanged (2025-03-03)"

    site.set("/privacy", Page(policy_html(changed=True, stamp="Effective: March 3, 2025").replace(b"court", b"judge")))
    r = CliRunner().invoke(
        __import__("cli").main,
        ["--data", str(settings.data_dir), "ingest", url, "--service", "acme", "--document", "privacy-policy"],
    )
    assert r.exit_code == 1 and "already indexed with different text" in r.output and "--replace" in r.output
    r = cli(settings, "ingest", url, "--service", "acme", "--document", "privacy-policy", "--replace")
    assert r.exit_code == 0 and "judge" in open_store(settings).clean_text("acme", "privacy-policy", "2025-03-03")


def test_cli_ingest_url_without_names_is_refused(site, settings):
    r = CliRunner().invoke(
        __import__("cli").main, ["--data", str(settings.data_dir), "ingest", site.set("/p", Page(policy_html()))]
    )
    assert r.exit_code == 1 and "--service and --document" in r.output and site.requests == []


@pytest.mark.slow
def test_pinned_manifest_sources_are_remembered_by_fetch_and_indexed_by_check_when_missing(settings, tmp_path):
    from tests.ingest.test_fetch import SHARED, shared_rows

    site, server = start_site()
    try:
        rows = [r for r in shared_rows() if r["service"] == "x"][:2]
        for r in rows:
            site.set(f"/{r['effective_date']}.md", Page((SHARED / r["file"]).read_bytes(), content_type="text/plain"))
        manifest = tmp_path / "sources.tsv"
        manifest.write_text(
            "service\tdocument\ttitle\teffective_date\turl\tsha256\n"
            + "".join(
                f"x\tprivacy-policy\t{r['title']}\t{r['effective_date']}\t{site.url}/{r['effective_date']}.md\t{r['sha256']}\n"
                for r in rows
            )
        )
        assert cli(settings, "fetch", "--manifest", str(manifest), "--no-ingest").exit_code == 0
        assert [s.pinned for s in load_sources(settings.data_dir)] == [True, True]
        lines = [line.text() for line in check(settings)]
        assert lines[0] == "x/privacy-policy: new version 2022-06-10: first version indexed"
        assert lines[1].startswith("x/privacy-policy: new version 2023-05-18: ")
        assert [line.text() for line in check(settings)] == [
            "x/privacy-policy: unchanged (2022-06-10)",
            "x/privacy-policy: unchanged (2023-05-18)",
        ]
        assert len(site.requests) == 2  # verified copies are reused: a pinned source is fetched once
    finally:
        server.shutdown()
