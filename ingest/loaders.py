"""Turn a policy file (Markdown, HTML, text, PDF) into clean text that keeps headings and lists.

The clean text is a small, regular Markdown: `#`-headings, `- ` list items, `| ` table rows and
plain paragraphs, separated by blank lines. Chunking reads only this form, whatever the source was.
"""

from __future__ import annotations

import codecs
import itertools
import re
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING

from ingest.errors import InputError
from ingest.linear import sub_links, sub_spans, sub_tags

if TYPE_CHECKING:
    from bs4 import Tag
    from pypdf import PageObject

SUPPORTED = {".md": "markdown", ".markdown": "markdown", ".html": "html", ".htm": "html", ".txt": "text", ".pdf": "pdf"}


class LoadError(InputError):
    """A file that cannot become policy text; the message says what was wrong and what to do."""


# link text may hold escapes and one level of brackets: [Meta Products\[1\]](#annotation-1); a bracket
# pair reads escapes as the text around it does, so reading a `[` either way never rescans what follows
_LINK_TEXT = r"(?:\\.|\[(?:\\.|[^\[\]\\])*\]|[^\]\\])*"
_LINK = re.compile(r"!?\[(" + _LINK_TEXT + r")\]\((?:[^()\s]|\([^()]*\))*(?:\s+\"[^\"]*\")?\)")
_LINK_TEXT_END = re.compile(_LINK_TEXT + "+")  # possessive: where a link's text must end
_NOTE_MARK = re.compile(r"(?<!\s)\s*\\?\[\d{1,3}\\?\]\s*$")  # "[1]" ending a link's text points at a footnote
_ANCHOR_ONLY = re.compile(r"^[\s*_>\-+\d.)]*\[[^\]]*\]\(#[^)]*\)[\s*_.]*$")
TAG = re.compile(r"</?[a-zA-Z][^>]*>")  # an HTML tag (qa/answer.py drops them from questions too)
_BR = re.compile(r"<br\s*/?>", re.IGNORECASE)
_ATX = re.compile(r"^(#{1,6})\s+(.*)$")  # closing #s are stripped in code: `\s*#*\s*$` backtracks cubically
_SETEXT = re.compile(r"^(=+|-+)\s*$")
_BULLET = re.compile(r"^(?:[*+\-]|\d{1,3}[.)])\s+(.*)$")
_BOLD_LINE = re.compile(r"^\s*(?:\d{1,3}[.)]\s+)?(\*\*|__)(.+?)\1[\s:]*$")
_NUMBERED = re.compile(r"^(\d{1,2}(?:\.\d{1,2})*)\.?\s+\S")
_BOLD_LEAD = re.compile(r"^(\*\*|__)(\d{1,2}(?:\.\d{1,2})+\.?\s+[^*]{2,90}?)\1")
_HR = re.compile(r"^\s*([-*_])(\s*\1){2,}\s*$")
_UNDERSCORED, _UNDERSCORE_OPENS = re.compile(r"(?<!\w)_(\S(?:.*?\S)?)_(?!\w)"), re.compile(r"(?<!\w)_\S")
_STARRED, _STAR_OPENS = re.compile(r"(?<![\w*])\*(\S(?:.*?\S)?)\*(?![\w*])"), re.compile(r"(?<![\w*])\*\S")


def normalise_inline(text: str) -> str:
    """NFKC, links to their text, escapes and emphasis removed, whitespace collapsed."""
    text = unicodedata.normalize("NFKC", text).replace("\u00ad", "").replace("\ufeff", "")
    text = sub_links(_LINK, _LINK_TEXT_END, text, _link_text)
    escapes = "\\" in text
    text = _park_escapes(text) if escapes else text
    text = sub_tags(TAG, text).replace("**", "").replace("__", "")
    text = sub_spans(_UNDERSCORED, _UNDERSCORE_OPENS, "_", text)
    text = sub_spans(_STARRED, _STAR_OPENS, "*", text)
    text = text.translate(_UNPARK) if escapes else text
    # `](` only ever came from escaped brackets (real links became their text above): keep it escaped,
    # so no Markdown view of a clause turns "\!\[beacon\](http://host/x.png)" into a live image
    return re.sub(r"\s+", " ", text).strip().replace("](", "\\](")


# an escaped character is literal text: it is parked as a private-use character, where link, tag and
# emphasis stripping cannot see it, and put back at the end (str.replace: no Python call per escape)
_ESCAPABLE = "\\`*_{}[]()#+-.!|<>~"  # the backslash first: `\\[` is an escaped backslash, then a bracket
_PARKED = {c: chr(0xF0000 + ord(c)) for c in _ESCAPABLE}
_UNPARK = str.maketrans({v: k for k, v in _PARKED.items()})
_PARKING = re.compile("[" + "".join(_PARKED.values()) + "]")


def _park_escapes(text: str) -> str:
    if not text.isascii():  # the policy's own private-use characters must not come back as markup
        text = _PARKING.sub("\ufffd", text)
    for c, parked in _PARKED.items():
        text = text.replace("\\" + c, parked)
    return text


def _link_text(m: re.Match) -> str:
    """A link's text (an image's is dropped); a link glued to a word or another link gets a space."""
    if m.group(0).startswith("!"):
        return ""
    # a linked image `[![seal](img)](href)` has an image for its text: that image is dropped too
    text = _NOTE_MARK.sub("", sub_links(_LINK, _LINK_TEXT_END, m.group(1), _link_text))
    before, after = m.string[m.start() - 1 : m.start()] if m.start() else "", m.string[m.end() : m.end() + 1]
    if text and (before.isalnum() or before == ")"):
        text = " " + text
    return text + " " if text and (after.isalnum() or after == "[") else text


def _heading_level(text: str, default: int) -> int:
    m = _NUMBERED.match(text)
    return min(6, m.group(1).count(".") + 2) if m else default


def _flush(blocks: list[str], kind: str, parts: list[str]) -> None:
    bold = _BOLD_LINE.match(" ".join(parts)) if kind == "para" and len(parts) > 1 else None
    # a short bold title with a hard line break is still a heading; longer ones are addresses
    if bold and len(normalise_inline(bold.group(2))) <= 60 and _is_bold_heading(bold.group(2)):
        text = normalise_inline(bold.group(2))
        blocks.append("#" * _heading_level(text, 5) + " " + text)
        return
    text = normalise_inline(" ".join(parts))
    if not text:
        return
    prefix = {"para": "", "item": "- ", "row": "| "}[kind]
    blocks.append(prefix + text)


def markdown_to_clean(md: str) -> str:
    """Markdown (as Open Terms Archive captures it) to ClauseCite's clean text."""
    md = unicodedata.normalize("NFKC", md).replace("\r\n", "\n").replace("\r", "\n")
    lines: list[str] = []
    for raw in md.split("\n"):  # a table row keeps its <br>s until it is split into cells
        raw = raw.strip()
        lines.extend([raw] if raw.startswith("|") else [ln.strip() for ln in _BR.split(raw)])
    blocks: list[str] = []
    parts: list[str] = []
    kind = "para"
    for i, line in enumerate(lines):
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if line and _SETEXT.match(nxt) and not _SETEXT.match(line) and not line.startswith("|"):
            _flush(blocks, kind, parts)
            kind, parts = "para", []
            text = normalise_inline(_BULLET.sub(r"\1", line) if line[:1] in "*+-" else line)
            if text:
                blocks.append("#" * (1 if nxt.startswith("=") else 2) + " " + text)
            continue
        if not line or _HR.match(line) or _SETEXT.match(line) or _ANCHOR_ONLY.match(line):
            _flush(blocks, kind, parts)
            kind, parts = "para", []
            continue
        atx, bold, bullet = _ATX.match(line), _BOLD_LINE.match(line), _BULLET.match(line)
        if atx or (bold and _is_bold_heading(bold.group(2))):
            _flush(blocks, kind, parts)
            kind, parts = "para", []
            text = normalise_inline(_closing_hashes_off(atx.group(2)) if atx else bold.group(2) if bold else "")
            if text:
                level = len(atx.group(1)) if atx else _heading_level(text, 5)
                blocks.append("#" * level + " " + text)
            continue
        if line.startswith("|"):
            _flush(blocks, kind, parts)
            kind, parts = "para", []
            for block_kind, text in _row_blocks(line):
                _flush(blocks, block_kind, [text])
            continue
        if bullet:
            _flush(blocks, kind, parts)
            kind, parts = "item", [bullet.group(1)]
            continue
        lead = _BOLD_LEAD.match(line) if not parts else None
        if lead:
            text = normalise_inline(lead.group(2)).rstrip(".")
            blocks.append("#" * _heading_level(text, 5) + " " + text)
        parts.append(line)
    _flush(blocks, kind, parts)
    return "\n\n".join(blocks) + "\n"


def _closing_hashes_off(heading: str) -> str:
    """An ATX heading's text without its optional closing `#`s (`## Title ##`)."""
    return heading.rstrip().rstrip("#").rstrip()


def _row_blocks(line: str) -> list[tuple[str, str]]:
    """A table row as blocks: one row of its cells' first lines, then the lines after a <br>.

    A cell that holds several lines (paragraphs or a list joined by <br>) would make one huge row;
    its later lines become paragraphs and list items of their own, in reading order.
    """
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    if all(re.fullmatch(r":?-{2,}:?", c) for c in cells if c):
        return []
    row: list[str] = []
    rest: list[tuple[str, str]] = []
    for cell in cells:
        pieces = [p.strip() for p in _BR.split(cell) if p.strip()]
        if pieces and not rest:
            row.append(pieces.pop(0))
        for piece in pieces:
            bullet = _BULLET.match(piece)
            rest.append(("item", bullet.group(1)) if bullet else ("para", piece))
    return ([("row", " | ".join(row))] if row else []) + rest


def _is_bold_heading(text: str) -> bool:
    plain = normalise_inline(text)
    if not plain or len(plain) > 110 or re.fullmatch(r"[\W\d]*", plain):
        return False
    return bool(_NUMBERED.match(plain)) or not plain.endswith((".", ":", ";", ","))


def html_to_clean(html: str) -> str:
    """HTML to clean text: navigation, scripts, styles and menus dropped; headings and lists kept."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(
        [
            "script",
            "style",
            "nav",
            "header",
            "footer",
            "aside",
            "form",
            "noscript",
            "svg",
            "button",
            "iframe",
            "template",
        ]
    ):
        tag.decompose()
    for tag in soup.find_all(role=["navigation", "banner", "contentinfo", "menu"]):
        tag.decompose()
    out: list[str] = []
    for el in soup.find_all(["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "tr", "dt", "dd", "pre"]):
        if el.find_parent(["li", "p", "tr"]) and el.name != "li":
            continue
        if el.name == "li" and el.find(["li", "p"]):
            text = normalise_inline(" ".join(el.find_all(string=True, recursive=False)))
        else:
            text = _tag_text(el)
        if el.name == "a" or not text:
            continue
        if el.name[0] == "h" and el.name[1:].isdigit():
            out.append("#" * int(el.name[1]) + " " + text)
        elif el.name == "li":
            link = el.find("a")
            if not (link and len(el.get_text(strip=True)) == len(link.get_text(strip=True))):
                out.append("- " + text)
        elif el.name == "tr":
            cells = [_tag_text(c) for c in el.find_all(["td", "th"])]
            out.append("| " + " | ".join(c for c in cells if c))
        else:
            out.append(text)
    return "\n\n".join(b for b in out if b.strip("-|# ")) + "\n"


def _tag_text(el: Tag) -> str:
    # tags are joined with spaces so words never glue; a link before a full stop must not leave "link ."
    return re.sub(r" ([.,;:!?)])", r"\1", normalise_inline(el.get_text(" ")))


def text_to_clean(text: str) -> str:
    """Plain text: blank-line paragraphs; short numbered lines become headings."""
    blocks: list[str] = []
    for para in re.split(r"\n\s*\n", unicodedata.normalize("NFKC", text)):
        lines = [ln.strip() for ln in para.splitlines() if ln.strip()]
        while lines and len(lines[0]) <= 90 and _NUMBERED.match(lines[0]) and not lines[0].endswith(","):
            blocks.append("#" * _heading_level(lines[0], 2) + " " + normalise_inline(lines.pop(0)))
        if lines and _BULLET.match(lines[0]) and lines[0][0] in "*-+•":
            blocks.extend(
                "- " + normalise_inline(m.group(1)) if (m := _BULLET.match(ln)) else normalise_inline(ln)
                for ln in lines
            )
        elif lines:
            blocks.append(normalise_inline(" ".join(lines)))
    return "\n\n".join(b for b in blocks if b) + "\n"


def pdf_to_clean(path: Path) -> str:
    """A PDF's text layer as clean text; a scan without a text layer is refused."""
    from pypdf import PdfReader

    try:
        pages = [_page_text(p) for p in PdfReader(str(path)).pages]
    except Exception as exc:  # pypdf raises many types for broken files
        raise LoadError(f"{path}: not a readable PDF ({exc}); export it again or pass a text copy") from exc
    text = "\n\n".join(pages)
    if len(text.strip()) < 40:
        raise LoadError(f"{path}: the PDF has no text layer (a scan?); run OCR first or pass a text copy")
    return text_to_clean(re.sub(r"-\n(\w)", r"\1", text))


def _page_text(page: PageObject) -> str:
    # layout mode keeps the blank line between paragraphs, so numbered headings stay headings
    try:
        return page.extract_text(extraction_mode="layout") or ""
    except Exception:  # layout mode is stricter about fonts; the plain text layer still reads
        return page.extract_text() or ""


_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),  # UTF-32 LE starts like UTF-16 LE
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def decode(data: bytes, name: str) -> str:
    """Bytes to text: a BOM's UTF-16/32, UTF-8 (with or without BOM), else a detected encoding; binary is refused."""
    if not data.strip():
        raise LoadError(f"{name}: the file is empty; pass a file that holds the policy text")
    encoding = next((enc for bom, enc in _BOMS if data.startswith(bom)), "")
    if encoding:  # Windows' "Unicode" text: its zero bytes are no sign of a binary file
        try:
            return decode(data.decode(encoding).encode("utf-8"), name)
        except UnicodeDecodeError:
            pass  # a binary file that happens to start like a BOM: judged below
    if b"\x00" in data[:4096] or _control_share(data[:4096]) > 0.1:
        raise LoadError(f"{name}: this looks like a binary file, not text; pass the policy as .md, .html, .txt or .pdf")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    matches = list(from_bytes(data))
    if not matches:
        raise LoadError(f"{name}: not UTF-8 and no other text encoding fits; convert it to UTF-8")
    # short Western text ties between code pages (cp1257 turns "à" into "ą"); Windows-1252 is the likeliest
    western = next((m for m in matches if m.encoding == "cp1252" and m.chaos <= matches[0].chaos + 0.05), None)
    return str(western or matches[0])


def _control_share(data: bytes) -> float:
    bad = sum(1 for b in data if b < 32 and b not in (9, 10, 12, 13))
    return bad / max(1, len(data))


def load_clean(path: Path, max_bytes: int = 10 * 1024 * 1024) -> str:
    """Read a policy file of any supported type and return its clean text."""
    path = Path(path)
    if not path.is_file():
        raise LoadError(f"{path}: no such file; check the path")
    fmt = SUPPORTED.get(path.suffix.lower())
    if fmt is None:
        raise LoadError(
            f"{path}: unsupported file type {path.suffix or '(none)'}; use one of {', '.join(sorted(SUPPORTED))}"
        )
    size = path.stat().st_size
    if size > max_bytes:
        raise LoadError(
            f"{path}: {size:,} bytes is over the {max_bytes:,}-byte limit; split the file or raise max_upload_bytes"
        )
    if fmt == "pdf":
        return _checked(path, pdf_to_clean(path))
    raw = decode(path.read_bytes(), str(path))
    if fmt == "markdown" and re.search(r"<(html|body|div)\b", raw[:2000], re.IGNORECASE):
        fmt = "html"
    return _checked(path, {"markdown": markdown_to_clean, "html": html_to_clean, "text": text_to_clean}[fmt](raw))


MAX_BLOCK_CHARS = 200_000  # ten times the longest paragraph of any real policy we have (18,000 characters)


def _checked(path: Path, clean: str) -> str:
    """Clean text that reads like a policy: some words, and no paragraph longer than a policy has."""
    if sum(1 for _ in itertools.islice(re.finditer(r"\w+", clean), 20)) < 20:
        raise LoadError(
            f"{path}: fewer than 20 words of text after cleaning (mostly scripts or "
            "markup?); pass the policy's readable text"
        )
    longest = max(map(len, clean.split("\n\n")))
    if longest > MAX_BLOCK_CHARS:
        # one paragraph this long is generated or broken markup, and would cost minutes to index
        raise LoadError(
            f"{path}: a paragraph of {longest:,} characters after cleaning, over the "
            f"{MAX_BLOCK_CHARS:,}-character limit; this is not a policy's text as written: "
            "check the file, or split the paragraph with blank lines"
        )
    return clean


_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_EFFECTIVE = re.compile(
    r"(?:effective|last updated|last modified)(?:\s+date)?\s*(?:as of|on|from)?\s*:?\s*"
    r"(?:(\d{4}-\d{2}-\d{2})|(" + "|".join(_MONTHS) + r")\s+(\d{1,2}),?\s+(\d{4}))",
    re.IGNORECASE,
)


def find_effective_date(clean: str) -> str:
    """The ISO date of an 'Effective: <date>' line near the top of the text, or ''."""
    m = _EFFECTIVE.search(clean[:4000])
    if not m:
        return ""
    if m.group(1):
        return m.group(1)
    month = [x.lower() for x in _MONTHS].index(m.group(2).lower()) + 1
    return f"{int(m.group(4)):04d}-{month:02d}-{int(m.group(3)):02d}"


def find_title(clean: str) -> str:
    """The first heading of the clean text, used as the version's title."""
    m = re.search(r"^#{1,3} (.+)$", clean, re.MULTILINE)
    return m.group(1).strip() if m else ""
