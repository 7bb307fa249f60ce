"""Loaders: Markdown, HTML, text and PDF become the same clean text; bad files are refused clearly."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.loaders import (
    LoadError,
    find_effective_date,
    find_title,
    html_to_clean,
    load_clean,
    markdown_to_clean,
    text_to_clean,
)
from tests.helpers import CORPORA

FILLER = (
    "We explain here what we collect when you use the service, why we keep it, who we share it "
    "with, and the choices you have about it."
)


def lines(clean: str) -> list[str]:
    """The non-empty blocks of clean text."""
    return [b.strip() for b in clean.split("\n\n") if b.strip()]


# Markdown ---------------------------------------------------------------------------------------


@pytest.mark.fast
def test_nfkc_turns_ligatures_into_letters():
    clean = markdown_to_clean("We ﬁle a report and notify the ﬂagged account within ﬁve days.")
    assert clean.strip() == "We file a report and notify the flagged account within five days."


@pytest.mark.fast
def test_links_become_their_text_and_images_vanish():
    md = (
        'Change this in your [privacy settings](https://example.com/settings "Settings") or read '
        "[the FAQ](https://example.com/faq_(2024)). ![logo](https://example.com/logo.png)"
    )
    assert markdown_to_clean(md).strip() == "Change this in your privacy settings or read the FAQ."


@pytest.mark.fast
def test_links_whose_text_holds_footnote_brackets_become_their_text():
    md = (
        "This helps you use [Meta Products\\[1\\]](#annotation-1) the right way. "
        "[See some examples[12]](https://example.com/policy?entry=a%3A1#annotation-12). Public information"
        "[How to make a public account](https://example.com/public)[Learn more](https://example.com/more)"
        "Read on, or [](https://example.com/x)skip."
    )
    assert markdown_to_clean(md).strip() == (
        "This helps you use Meta Products the right way. See some examples. "
        "Public information How to make a public account Learn more Read on, "
        "or skip."
    )


def test_no_real_policy_keeps_link_markup():
    for path in sorted(CORPORA.glob("*/*/*.md")):
        assert "](" not in load_clean(path), path


@pytest.mark.fast
def test_backslash_escapes_are_removed():
    clean = markdown_to_clean(
        "**1\\. Information We Collect**\n\nWe keep 1\\.5 copies of your \\[data\\] in user\\_logs."
    )
    assert lines(clean) == ["## 1. Information We Collect", "We keep 1.5 copies of your [data] in user_logs."]


@pytest.mark.fast
def test_escaped_asterisks_stay_in_the_text():
    clean = markdown_to_clean("Fees marked \\* are \\*not\\* refundable, and *this* is emphasis.")
    assert clean.strip() == "Fees marked * are *not* refundable, and this is emphasis."


@pytest.mark.fast
def test_br_breaks_lines_without_gluing_words():
    clean = markdown_to_clean("Acme Corp.<br>Attn: Privacy Team<br/>1 Main Street, Springfield")
    assert clean.strip() == "Acme Corp. Attn: Privacy Team 1 Main Street, Springfield"
    assert "<br" not in markdown_to_clean("First line<BR>second line of the same paragraph")


@pytest.mark.fast
def test_bold_numbered_lines_become_headings_at_their_depth():
    md = (
        "**2\\. How We Use Information**\n\n**2.1 Operate and improve our services**\n\n"
        "We use what we collect to run the service.\n\n**Bold sentence that ends a thought.**"
    )
    assert lines(markdown_to_clean(md)) == [
        "## 2. How We Use Information",
        "### 2.1 Operate and improve our services",
        "We use what we collect to run the service.",
        "Bold sentence that ends a thought.",
    ]


@pytest.mark.fast
def test_bold_lead_in_starts_a_heading_and_keeps_the_paragraph():
    clean = markdown_to_clean("**17.1 Definition**. “Confidential Information” means anything marked so.")
    assert lines(clean) == [
        "### 17.1 Definition",
        "17.1 Definition. “Confidential Information” means anything marked so.",
    ]


@pytest.mark.fast
def test_short_bold_title_broken_over_two_lines_is_one_heading():
    md = (
        "**We collect some data  \nabout you**\n\n**Acme Inc.  \nAttn: Privacy Policy Inquiry  \n"
        "1 Main Street, Suite 900  \nSpringfield, CA 94103**"
    )
    assert lines(markdown_to_clean(md)) == [
        "##### We collect some data about you",
        "Acme Inc. Attn: Privacy Policy Inquiry 1 Main Street, Suite 900 Springfield, CA 94103",
    ]


@pytest.mark.fast
def test_setext_headings_lists_and_tables():
    md = (
        "Acme Privacy Policy\n===================\n\nWhat we collect\n---------------\n\n"
        "* Your name\n* Your [email](mailto:a@b.c) address\n\n"
        "| Data | Kept for |\n| --- | --- |\n| Logs | 18 months |\n"
    )
    assert lines(markdown_to_clean(md)) == [
        "# Acme Privacy Policy",
        "## What we collect",
        "- Your name",
        "- Your email address",
        "| Data | Kept for",
        "| Logs | 18 months",
    ]


@pytest.mark.fast
def test_table_cell_with_line_breaks_becomes_a_row_then_paragraphs_and_items():
    md = (
        "| Kind | What we do |\n| --- | --- |\n"
        "| Account data | We keep your username.<br>We also store your settings.<br><br>"
        "* Theme and language<br>* Notification choices |\n"
        "| **Payments**<br>Handled by our processor. | We never see full card numbers. |\n"
    )
    assert lines(markdown_to_clean(md)) == [
        "| Kind | What we do",
        "| Account data | We keep your username.",
        "We also store your settings.",
        "- Theme and language",
        "- Notification choices",
        "| Payments",
        "Handled by our processor.",
        "We never see full card numbers.",
    ]


def test_no_real_policy_block_is_a_dangling_table_fragment():
    for path in sorted(CORPORA.glob("*/*/*.md")):
        for block in lines(load_clean(path)):
            assert not block.endswith("|") and "<br" not in block, (path.name, block[-80:])


# HTML -------------------------------------------------------------------------------------------

PAGE = """<!doctype html>
<html><head><title>Acme</title><style>body { color: red } .menu { display: none }</style>
<script>window.track = function () { sendBeacon("/collect") };</script></head>
<body>
<header><a href="/">Acme home</a></header>
<nav><ul><li><a href="/products">Products</a></li><li><a href="/pricing">Pricing</a></li></ul></nav>
<main>
  <h1>Acme Privacy Policy</h1>
  <p>Effective: <b>March 1, 2024</b></p>
  <h2>1. Information We Collect</h2>
  <p>We collect information you give us &amp; information from your device.</p>
  <ul>
    <li>Your name and <a href="/email">email address</a>.</li>
    <li>The posts you write and the messages you send.</li>
  </ul>
  <h3>1.1 Cookies</h3>
  <p>We use cookies to keep you<br>signed in.</p>
  <script>console.log("not policy text")</script>
</main>
<footer><p>© 2024 Acme. All rights reserved. Careers. Press.</p></footer>
</body></html>"""


@pytest.mark.fast
def test_html_keeps_headings_paragraphs_and_lists_and_drops_the_chrome():
    clean = html_to_clean(PAGE)
    assert lines(clean) == [
        "# Acme Privacy Policy",
        "Effective: March 1, 2024",
        "## 1. Information We Collect",
        "We collect information you give us & information from your device.",
        "- Your name and email address.",
        "- The posts you write and the messages you send.",
        "### 1.1 Cookies",
        "We use cookies to keep you signed in.",
    ]
    for chrome in ("sendBeacon", "color: red", "Products", "Acme home", "All rights reserved", "console.log"):
        assert chrome not in clean


@pytest.mark.fast
def test_markdown_file_holding_html_is_read_as_html(tmp_path):
    path = tmp_path / "policy.md"
    path.write_text(PAGE + f"<p>{FILLER}</p>", encoding="utf-8")
    clean = load_clean(path)
    assert clean.startswith("# Acme Privacy Policy") and "sendBeacon" not in clean


# Plain text and PDF -----------------------------------------------------------------------------


@pytest.mark.fast
def test_plain_text_numbered_lines_become_headings_and_bullets_stay_bullets(tmp_path):
    text = (
        "Acme Privacy Policy\nEffective Date: August 11, 2023\n\n1. Information We Collect\n"
        "We collect the details you give us\nwhen you sign up.\n\n- Your name\n- Your email address\n\n"
        "1.1 Device data\nWe read your device type and language.\n"
    )
    path = tmp_path / "policy.txt"
    path.write_text(text, encoding="utf-8")
    assert lines(load_clean(path)) == [
        "Acme Privacy Policy Effective Date: August 11, 2023",
        "## 1. Information We Collect",
        "We collect the details you give us when you sign up.",
        "- Your name",
        "- Your email address",
        "### 1.1 Device data",
        "We read your device type and language.",
    ]
    assert find_effective_date(text_to_clean(text)) == "2023-08-11"


def _pdf_escaped(s: str) -> str:
    return s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def pdf_bytes(lines_: list[str]) -> bytes:
    """A one-page PDF whose text layer holds `lines_` (an empty string is a blank line)."""
    ops = ["BT /F1 11 Tf 72 740 Td 16 TL"] + [f"({_pdf_escaped(ln)}) Tj T*" if ln else "T*" for ln in lines_] + ["ET"]
    stream = "\n".join(ops).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


@pytest.mark.fast
def test_pdf_text_layer_keeps_headings_and_its_effective_date(tmp_path):
    path = tmp_path / "policy.pdf"
    path.write_bytes(
        pdf_bytes(
            [
                "Acme Privacy Policy",
                "Effective: September 29, 2023",
                "",
                "1. Information We Collect",
                "We collect the name and email address you give us when you",
                "sign up, and the messages you send.",
                "",
                "2. How We Use Information",
                "We use it to run the service and to keep accounts safe.",
            ]
        )
    )
    clean = load_clean(path)
    assert "## 1. Information We Collect" in lines(clean)
    assert "## 2. How We Use Information" in lines(clean)
    assert "We collect the name and email address you give us when you sign up, and the messages you send." in clean
    assert find_effective_date(clean) == "2023-09-29"


@pytest.mark.fast
def test_pdf_without_text_layer_or_broken_is_refused(tmp_path):
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(pdf_bytes([]).replace(b"BT /F1 11 Tf 72 740 Td 16 TL\nET", b"0 0 10 10 re f      "))
    with pytest.raises(LoadError, match="no text layer.*OCR"):
        load_clean(scan)
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4\nthis is not really a pdf")
    with pytest.raises(LoadError, match="broken.pdf: not a readable PDF"):
        load_clean(broken)


@pytest.mark.fast
def test_effective_date_forms():
    assert find_effective_date("# X Privacy Policy\n\n##### Effective: September 29, 2023\n") == "2023-09-29"
    assert find_effective_date("Effective Date: August 11, 2023\n\nZoom Terms") == "2023-08-11"
    assert find_effective_date("Last updated on 2024-02-15.") == "2024-02-15"
    assert find_effective_date("We update this policy from time to time.") == ""
    assert find_title("Intro line\n\n# Acme Privacy Policy\n\n## 1. Data\n") == "Acme Privacy Policy"


# Bad input --------------------------------------------------------------------------------------


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.fast
def test_empty_file_is_refused(tmp_path):
    with pytest.raises(LoadError, match="empty.md: the file is empty"):
        load_clean(write(tmp_path, "empty.md", b"  \n\n"))


@pytest.mark.fast
def test_binary_file_is_refused(tmp_path):
    data = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
    with pytest.raises(LoadError, match="looks like a binary file.*\\.md, \\.html, \\.txt or \\.pdf"):
        load_clean(write(tmp_path, "policy.md", data))


@pytest.mark.fast
def test_cp1252_text_is_decoded(tmp_path):
    text = (
        "Café Privacy Policy\n\nWe don’t sell your data. When you “opt out”, we stop sharing it "
        "with partners — within 30 days. Our café loyalty programme is separate from this policy.\n"
    )
    clean = load_clean(write(tmp_path, "policy.txt", text.encode("cp1252")))
    assert "We don’t sell your data. When you “opt out”, we stop sharing it" in clean
    assert "Café Privacy Policy" in clean


@pytest.mark.fast
def test_page_of_scripts_is_refused(tmp_path):
    html = (
        "<html><head><script>" + "var a = 1;" * 500 + "</script></head><body><nav>Home About</nav>"
        "<div id='app'></div><script src='/bundle.js'></script><p>Loading…</p></body></html>"
    )
    with pytest.raises(LoadError, match="fewer than 20 words.*pass the policy's readable text"):
        load_clean(write(tmp_path, "policy.html", html.encode()))


@pytest.mark.fast
def test_missing_unsupported_and_oversized_files_are_refused(tmp_path):
    with pytest.raises(LoadError, match="no such file"):
        load_clean(tmp_path / "nope.md")
    with pytest.raises(LoadError, match="unsupported file type .docx; use one of"):
        load_clean(write(tmp_path, "policy.docx", FILLER.encode()))
    with pytest.raises(LoadError, match="over the 100-byte limit"):
        load_clean(write(tmp_path, "big.md", (FILLER * 3).encode()), max_bytes=100)
