"""Nothing dropped without a word: every policy file left out says why, and nothing is guessed.

`ingest FOLDER` used to skip future, impossible or unpadded dates and capitalised names in silence
(exit 0), keep one of two files for one date, name a single file's policy after its folders,
download a 50 MB page in full before refusing it, and refuse UTF-16 text as binary.
"""

from __future__ import annotations

import http.server
import shutil
import threading

import pytest

from ingest.pipeline import collect, open_store
from tests.helpers import CORPORA, SAMPLE
from tests.reliability.helpers import assert_one_line_error, cli, snapshot

CHIRP = SAMPLE / "chirp" / "privacy-policy"
BAD = {  # file in the layout -> why it cannot be indexed
    "acme/privacy-policy/2999-01-01.md": "effective date 2999-01-01 is in the future",
    "acme/privacy-policy/2023-02-30.md": "'2023-02-30' is not a date; write it as YYYY-MM-DD",
    "acme/privacy-policy/2024-1-5.txt": "'2024-1-5' is not a date; write it as YYYY-MM-DD",
    "Acme/privacy-policy/2024-01-01.md": "service name 'Acme' is not allowed",
}
QUIET = ["README.md", "MANIFEST.tsv", "acme/LICENSE.txt", "acme/privacy-policy/notes.md"]  # not policy versions


@pytest.fixture()
def corpus(tmp_path):
    """Two good chirp versions, the bad files above, and files that are not policy versions at all."""
    root = tmp_path / "corpus"
    for rel in ["chirp/privacy-policy/2022-03-01.md", "chirp/privacy-policy/2023-10-01.md", *BAD, *QUIET]:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(CHIRP / "2022-03-01.md", root / rel)
    shutil.copy(CHIRP / "2023-10-01.md", root / "chirp/privacy-policy/2023-10-01.md")
    return root


def test_a_folder_with_bad_version_files_names_each_and_indexes_nothing(corpus, sample_settings):
    before = snapshot(sample_settings)
    result = cli(sample_settings, "ingest", "--quiet", str(corpus))
    assert result.exit_code == 1 and result.stdout == "", result.output
    lines = result.stderr.splitlines()
    assert lines[0] == "Error: 4 policy file(s) cannot be indexed, so nothing was:"
    for rel, why in BAD.items():
        assert any(line.startswith(f"  {corpus / rel}: ") and why in line for line in lines), (rel, lines)
    assert lines[-1] == "fix or rename them, or pass --skip-bad to index the rest"
    assert not [q for q in QUIET if q in result.stderr]
    assert snapshot(sample_settings) == before


def test_skip_bad_indexes_the_rest_and_lists_what_it_skipped(corpus, settings):
    result = cli(settings, "ingest", "--quiet", "--skip-bad", str(corpus))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("2 version(s) indexed, 0 unchanged") and len(lines) == 1 + len(BAD), lines
    for rel, why in BAD.items():
        assert [ln for ln in lines if ln.startswith(f"skipped {corpus / rel}: ") and why in ln], (rel, lines)
    assert not [q for q in QUIET if q in result.stdout]
    assert [v.key for v in open_store(settings).versions()] == [
        "chirp/privacy-policy@2022-03-01",
        "chirp/privacy-policy@2023-10-01",
    ]


def test_the_shared_corpora_ingest_without_a_word_about_their_other_files():
    skipped: list[str] = []
    assert len(collect([CORPORA], skipped=skipped)) == 20 and skipped == []


def test_two_files_for_one_date_are_an_error(tmp_path, sample_settings):
    root = tmp_path / "corpus" / "acme" / "privacy-policy"
    root.mkdir(parents=True)
    shutil.copy(CHIRP / "2022-03-01.md", root / "2024-01-01.md")
    (root / "2024-01-01.html").write_text("<h1>Policy</h1><p>" + "We keep your data safe. " * 10 + "</p>", "utf-8")
    before = snapshot(sample_settings)
    assert_one_line_error(
        cli(sample_settings, "ingest", "--quiet", str(tmp_path / "corpus")),
        "two files for one version acme/privacy-policy@2024-01-01",
        "2024-01-01.html",
        "keep one of them",
    )
    assert snapshot(sample_settings) == before


def test_a_single_file_without_names_is_asked_for_them(tmp_path, sample_settings):
    path = tmp_path / "rel" / "in" / "2024-01-01.md"  # the old code indexed this as policy "rel/in"
    path.parent.mkdir(parents=True)
    shutil.copy(CHIRP / "2022-03-01.md", path)
    before = snapshot(sample_settings)
    assert_one_line_error(
        cli(sample_settings, "ingest", "--quiet", str(path)), "say which policy this is with --service and --document"
    )
    assert snapshot(sample_settings) == before


class _Huge(http.server.BaseHTTPRequestHandler):
    """Serves 50 MB without a Content-Length, counting the bytes the client took."""

    sent = 0

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/markdown")
        self.end_headers()
        chunk = b"We collect your data. " * 3000
        try:
            while type(self).sent < 50 * 1024 * 1024:
                self.wfile.write(chunk)
                type(self).sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *args):
        pass


def test_a_huge_download_is_refused_at_the_limit(settings):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Huge)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/2024-01-01.md"
        result = cli(settings, "ingest", "--quiet", "--service", "acme", "--document", "privacy-policy", url)
    finally:
        server.shutdown()
    assert_one_line_error(result, f"{url} sends more than 10,485,760 bytes")
    assert _Huge.sent < 20 * 1024 * 1024  # stopped near 10 MB, not after all 50
    assert not list((settings.data_dir / "downloads").glob("*.md"))


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32"])
def test_utf16_and_utf32_text_with_a_bom_is_read(encoding, settings, tmp_path):
    text = (CHIRP / "2022-03-01.md").read_text("utf-8")
    path = tmp_path / "policy.md"
    path.write_bytes(("\ufeff" + text).encode(encoding) if encoding.endswith("-be") else text.encode(encoding))
    assert path.read_bytes()[:2] in (b"\xff\xfe", b"\xfe\xff")  # a BOM, and zero bytes all through
    result = cli(
        settings,
        "ingest",
        "--quiet",
        "--service",
        "acme",
        "--document",
        "privacy-policy",
        "--version",
        "2024-01-01",
        str(path),
    )
    assert result.exit_code == 0, result.output
    same = cli(
        settings,
        "ingest",
        "--quiet",
        "--service",
        "acme",
        "--document",
        "privacy-policy",
        "--version",
        "2024-01-01",
        str(CHIRP / "2022-03-01.md"),
    )
    assert same.exit_code == 0 and "0 version(s) indexed, 1 unchanged" in same.stdout, same.output
