"""Bad input files: each is refused by `cli.py ingest` with one clear line, and the index is untouched."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.loaders import LoadError
from ingest.pipeline import ingest, open_store
from settings import Settings
from tests.reliability.helpers import assert_one_line_error, cli, snapshot

FLAGS = ["--service", "acme", "--document", "privacy-policy", "--version", "2024-01-01"]
POLICY = (
    "1. Your data\n\nWe keep your email address and phone number while your account exists. You can ask "
    "us to delete them at any time, and we will do so within thirty days of your request.\n"
)


def _empty(d: Path) -> Path:
    (d / "empty.md").write_bytes(b"")
    return d / "empty.md"


def _binary(d: Path) -> Path:
    (d / "policy.md").write_bytes(bytes(range(256)) * 40)  # NULs and control bytes: not text
    return d / "policy.md"


def _scripts(d: Path) -> Path:
    page = (
        "<html><head><script>" + "var t=[1,2,3];" * 400 + "</script><style>p{color:red}</style></head>"
        "<body><script>alert(1)</script><nav><a href='/'>Home</a></nav><p>Hello there.</p>"
        "<noscript>Enable JavaScript to read this policy.</noscript><script>track();</script></body></html>"
    )
    (d / "policy.html").write_text(page, "utf-8")
    return d / "policy.html"


def _scan(d: Path) -> Path:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=612, height=792)
    with open(d / "scan.pdf", "wb") as fh:
        writer.write(fh)
    return d / "scan.pdf"


def _huge(d: Path) -> Path:
    with open(d / "huge.txt", "wb") as fh:  # one byte over the default 10 MiB limit
        fh.write(
            (POLICY.encode() * (Settings().max_upload_bytes // len(POLICY) + 1))[: Settings().max_upload_bytes + 1]
        )
    return d / "huge.txt"


def _missing(d: Path) -> Path:
    return d / "no-such-policy.md"


def _no_versions(d: Path) -> Path:
    root = d / "corpus"
    (root / "acme" / "privacy-policy").mkdir(parents=True)
    (root / "acme" / "privacy-policy" / "latest.md").write_text(POLICY, "utf-8")  # not a date
    (root / "acme" / "notes.txt").write_text(POLICY, "utf-8")
    (root / "Bad Name" / "privacy-policy").mkdir(parents=True)
    (root / "Bad Name" / "privacy-policy" / "2024-01-01.md").write_text(POLICY, "utf-8")  # name refused
    return root


CASES = {
    "empty": (_empty, FLAGS, "the file is empty"),
    "binary-with-md-extension": (_binary, FLAGS, "looks like a binary file"),
    "html-mostly-scripts": (_scripts, FLAGS, "fewer than 20 words"),
    "pdf-without-text-layer": (_scan, FLAGS, "no text layer"),
    "over-size-limit": (_huge, FLAGS, "byte limit"),
    "nonexistent-path": (_missing, [], "no such file or folder"),
    "folder-without-versions": (_no_versions, [], "no policy versions found"),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_bad_file_is_refused_in_one_line_and_index_unchanged(case, sample_settings, tmp_path):
    make, flags, message = CASES[case]
    path = make(tmp_path)
    before = snapshot(sample_settings)
    result = cli(sample_settings, "ingest", "--quiet", *flags, str(path))
    line = assert_one_line_error(result, message)
    assert path.name in line  # says which file
    assert snapshot(sample_settings) == before


@pytest.mark.slow  # the first test here to load the embedding model
def test_size_limit_comes_from_settings(settings, tmp_path):
    path = tmp_path / "policy.md"
    path.write_text(POLICY, "utf-8")
    small = Settings.from_env(data_dir=settings.data_dir, chroma_url="", max_upload_bytes=len(POLICY) - 1)
    with pytest.raises(LoadError, match=f"over the {len(POLICY) - 1:,}-byte limit"):
        ingest([path], small, service="acme", document="privacy-policy", version="2024-01-01")
    assert open_store(settings).versions() == [] and open_store(settings).count() == 0
    report = ingest([path], settings, service="acme", document="privacy-policy", version="2024-01-01")
    assert report.added == ["acme/privacy-policy@2024-01-01"]


def test_cp1252_text_is_decoded_not_mangled(settings, tmp_path):
    text = (
        "1. Données personnelles\n\nNous conservons votre adresse e-mail – et votre numéro de téléphone – "
        "tant que votre compte existe. Vous pouvez demander leur suppression à tout moment ; nous "
        "répondons sous trente jours. « Café », naïveté, résumé, coût, été, où, déjà.\n"
    )
    path = tmp_path / "politique.txt"
    path.write_bytes(text.encode("cp1252"))
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")  # the file really is not UTF-8
    result = cli(settings, "ingest", "--quiet", *FLAGS, str(path))
    assert result.exit_code == 0, result.output
    store = open_store(settings)
    clauses = store.clauses("acme", "privacy-policy", "2024-01-01")
    joined = " ".join(c.text for c in clauses)
    assert "\ufffd" not in joined
    for word in ("adresse e-mail – et", "répondons", "« Café »", "naïveté", "déjà"):
        assert word in joined, joined
    assert clauses[0].section == "1. Données personnelles"
