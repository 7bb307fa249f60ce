"""Tests for ingest.fetch against a real local HTTP server serving ../shared/corpora."""

from __future__ import annotations

import csv
import functools
import hashlib
import http.server
import re
import socket
import threading
from pathlib import Path
from urllib.parse import quote

import pytest

from ingest.fetch import COLUMNS, FetchError, SourceEntry, fetch_sources, read_manifest

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO / ".." / "shared" / "corpora"
SAMPLE = REPO / "corpora" / "sample" / "chirp" / "privacy-policy"
PICKED = [("x", "2022-06-10"), ("reddit", "2024-02-15"), ("zoom", "2023-03-31")]


def shared_rows() -> list[dict[str, str]]:
    """The rows of the shared corpus manifest."""
    with open(SHARED / "MANIFEST.tsv", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))


def picked_rows() -> list[dict[str, str]]:
    """Three real rows from different services."""
    rows = {(r["service"], r["effective_date"]): r for r in shared_rows()}
    return [rows[key] for key in PICKED]


def write_manifest(path: Path, entries: list[tuple[str, ...]]) -> Path:
    """Write a sources manifest with the project's columns."""
    lines = ["\t".join(COLUMNS)] + ["\t".join(entry) for entry in entries]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/gone.md"


@pytest.fixture()
def server():
    """A real threaded HTTP server over ../shared/corpora that counts the requests it answers."""
    requests: list[str] = []

    class CountingHandler(http.server.SimpleHTTPRequestHandler):
        def do_GET(self):
            requests.append(self.path)
            super().do_GET()

        def log_message(self, *args):
            pass

    handler = functools.partial(CountingHandler, directory=str(SHARED.resolve()))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", requests
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def real_entries(base: str) -> list[tuple[str, ...]]:
    """Manifest entries for the picked rows, served by the local server, with their real sha256."""
    return [
        (r["service"], r["document"], r["title"], r["effective_date"], f"{base}/{quote(r['file'])}", r["sha256"])
        for r in picked_rows()
    ]


def files_under(folder: Path) -> list[Path]:
    """Every file below a folder, temporary files included."""
    return sorted(p for p in folder.rglob("*") if p.is_file())


def test_fetch_writes_verified_files(server, tmp_path):
    base, requests = server
    manifest = write_manifest(tmp_path / "sources.tsv", real_entries(base))
    paths = fetch_sources(manifest, tmp_path / "corpus")
    assert len(requests) == 3
    for path, row in zip(paths, picked_rows(), strict=True):
        assert path == tmp_path / "corpus" / row["service"] / row["document"] / f"{row['effective_date']}.md"
        assert hashlib.sha256(path.read_bytes()).hexdigest() == row["sha256"]
    assert files_under(tmp_path / "corpus") == sorted(paths)


def test_second_run_downloads_nothing(server, tmp_path):
    base, requests = server
    manifest = write_manifest(tmp_path / "sources.tsv", real_entries(base))
    first = fetch_sources(manifest, tmp_path / "corpus")
    seen: list[tuple[str, str]] = []
    second = fetch_sources(manifest, tmp_path / "corpus", progress=lambda e, status: seen.append((e.service, status)))
    assert second == first
    assert len(requests) == 3
    assert seen == [(service, "cached") for service, _ in PICKED]


def test_wrong_sha256_raises_and_writes_nothing(server, tmp_path):
    base, requests = server
    service, document, title, date, url, _ = real_entries(base)[0]
    manifest = write_manifest(tmp_path / "sources.tsv", [(service, document, title, date, url, "0" * 64)])
    with pytest.raises(FetchError, match="sha256") as caught:
        fetch_sources(manifest, tmp_path / "corpus")
    assert url in str(caught.value)
    assert len(requests) == 1
    assert not (tmp_path / "corpus").exists()


def test_closed_port_raises_fetch_error(tmp_path):
    url = closed_port_url()
    manifest = write_manifest(tmp_path / "sources.tsv", [("x", "privacy-policy", "X", "2024-01-01", url, "0" * 64)])
    with pytest.raises(FetchError, match="network") as caught:
        fetch_sources(manifest, tmp_path / "corpus", timeout=5)
    assert url in str(caught.value)
    assert not (tmp_path / "corpus").exists()


@pytest.mark.parametrize("failure", ["sha256 mismatch", "closed port"])
def test_failed_refetch_keeps_cached_file(server, tmp_path, failure):
    base, _ = server
    good = real_entries(base)[0]
    fetch_sources(write_manifest(tmp_path / "good.tsv", [good]), tmp_path / "corpus")
    cached = tmp_path / "corpus" / good[0] / good[1] / f"{good[3]}.md"
    before = cached.read_bytes()
    # A later manifest pins new bytes for the same version; fetching them fails.
    other = real_entries(base)[1]
    url = other[4] if failure == "sha256 mismatch" else closed_port_url()
    later = write_manifest(tmp_path / "later.tsv", [good[:4] + (url, "f" * 64)])
    with pytest.raises(FetchError):
        fetch_sources(later, tmp_path / "corpus", timeout=5)
    assert cached.read_bytes() == before
    assert files_under(tmp_path / "corpus") == [cached]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (("../etc", "privacy-policy", "T", "2024-01-01", "https://e.test/a", "a" * 64), "service"),
        (("x", "Privacy Policy", "T", "2024-01-01", "https://e.test/a", "a" * 64), "document"),
        (("x", "privacy-policy", "T", "2024-13-01", "https://e.test/a", "a" * 64), "ISO date"),
        (("x", "privacy-policy", "T", "20240101", "https://e.test/a", "a" * 64), "ISO date"),
        (("x", "privacy-policy", "T", "2024-01-01", "file:///etc/passwd", "a" * 64), "http"),
        (("x", "privacy-policy", "T", "2024-01-01", "https://e.test/a", "abc"), "sha256"),
        (("x", "privacy-policy", "T", "2024-01-01", "https://e.test/a"), "6 tab-separated columns"),
    ],
)
def test_read_manifest_refuses_bad_rows(tmp_path, entry, message):
    manifest = write_manifest(tmp_path / "sources.tsv", [entry])
    with pytest.raises(ValueError, match=message) as caught:
        read_manifest(manifest)
    assert "line 2" in str(caught.value)


def test_read_manifest_refuses_bad_header(tmp_path):
    path = tmp_path / "sources.tsv"
    path.write_text("service\tdocument\turl\n", encoding="utf-8")
    with pytest.raises(ValueError, match="header must be"):
        read_manifest(path)


def test_project_sources_manifest_pins_the_shared_corpus():
    entries = read_manifest(REPO / "corpora" / "sources.tsv")
    assert len(entries) == 20
    assert all(isinstance(e, SourceEntry) for e in entries)
    assert all(e.url.startswith("https://raw.githubusercontent.com/OpenTermsArchive/") for e in entries)
    assert all(" " not in e.url for e in entries)
    assert [(e.service, e.effective_date, e.sha256) for e in entries] == [
        (r["service"], r["effective_date"], r["sha256"]) for r in shared_rows()
    ]


@pytest.mark.parametrize("date", ["2022-03-01", "2023-10-01", "2025-02-01"])
def test_sample_corpus_is_fictional_and_original(date):
    text = (SAMPLE / f"{date}.md").read_text(encoding="utf-8")
    opening = text[:400]
    assert opening.startswith("# Chirp Privacy Policy")
    assert "fictional policy written for ClauseCite" in opening
    assert "Chirp is not a real service" in opening
    lowered = " ".join(re.findall(r"[a-z0-9']+", text.lower()))
    copied = [run for run in _real_runs() if run in lowered]
    assert not copied, f"sample text repeats real policy wording: {copied[:3]}"
    assert 1500 <= len(text.split()) <= 2500
    assert "fictional" in (REPO / "corpora" / "sample" / "README.md").read_text(encoding="utf-8").lower()


def _real_runs(words: int = 12) -> set[str]:
    """Runs of twelve words from the real policies (an originality check of the sample text)."""
    runs = set()
    for path in SHARED.glob("*/*/*.md"):
        tokens = re.findall(r"[a-z0-9']+", path.read_text(encoding="utf-8").lower())
        runs.update(" ".join(tokens[i : i + words]) for i in range(0, max(0, len(tokens) - words + 1), 4))
    return runs


def top_section(text: str, fragment: str) -> str:
    """The number of the top-level section in which a fragment first occurs."""
    before = text[: text.index(fragment)]
    return before.rsplit("\n## ", 1)[1].split(".", 1)[0]


def test_sample_versions_change_like_real_policies():
    dates = ("2022-03-01", "2023-10-01", "2025-02-01")
    old, mid, new = (SAMPLE.joinpath(f"{d}.md").read_text(encoding="utf-8") for d in dates)
    for added in (
        "artificial intelligence models",
        "biometric information",
        "employment history",
        "encrypted direct messages",
    ):
        assert added not in old and added in mid and added in new
    assert "at most 18 months" in old and "at most 18 months" in mid and "at most 18 months" not in new
    assert "Chirpy" in new and "Chirpy" not in mid
    moved = "We keep a record of accounts we have suspended"
    assert (top_section(old, moved), top_section(mid, moved), top_section(new, moved)) == ("2", "2", "3")
