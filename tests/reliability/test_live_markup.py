"""Policy text never becomes live markup: no image or link in the chat, no formula in a CSV export.

An escaped Markdown image in a policy came out of cleaning as a live `![beacon](url)`, the chat
rendered it as <img>, and every reader's browser fetched the URL. A clause starting `=HYPERLINK(`
went into CSV exports as a formula a spreadsheet would run.
"""

from __future__ import annotations

import csv
import html
import re
from html.parser import HTMLParser

import gradio as gr
import pytest
from markdown_it import MarkdownIt

import app
from ingest.loaders import load_clean
from tests.reliability.helpers import cli

HOST = "http://127.0.0.1:9"  # nothing listens there: a request would be the beacon firing
POLICY = f"""# Beacon Privacy Policy

Effective: 2024-05-01

## 1. Cookies

We use cookies to remember your settings. \\!\\[beacon\\]({HOST}/beacon.png) Cookies keep you signed in.

[![seal]({HOST}/seal.png)]({HOST}/verify)

=HYPERLINK("{HOST}/steal","Cookie settings") lets you turn off cookies that are not needed.

## 2. Your rights

You can ask us to delete your personal data at any time by writing to our privacy team.
"""


class _Tags(HTMLParser):
    """The tags (with attributes) of an HTML fragment, as a browser would build them."""

    def __init__(self, fragment: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.feed(fragment)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


@pytest.fixture(scope="module")
def beacon(sample_settings, tmp_path_factory):
    """The sample index plus the hostile policy above, as `beacon/privacy-policy@2024-05-01`."""
    path = tmp_path_factory.mktemp("beacon") / "beacon" / "privacy-policy" / "2024-05-01.md"
    path.parent.mkdir(parents=True)
    path.write_text(POLICY, "utf-8")
    result = cli(sample_settings, "ingest", "--quiet", "--service", "beacon", "--document", "privacy-policy", str(path))
    assert result.exit_code == 0, result.output
    return sample_settings, path


def test_escaped_markup_stays_text_in_the_clean_text(beacon):
    clean = load_clean(beacon[1])
    assert "beacon" in clean and "seal.png" not in clean  # escaped words kept; a linked image dropped
    rendered = MarkdownIt("commonmark").render(clean)  # as any Markdown view of a clause would show it
    assert not [t for t in _Tags(rendered).tags if t[0] in ("img", "a")], rendered
    assert f"![beacon]({HOST}/beacon.png)" in html.unescape(re.sub(r"<[^>]+>", "", rendered))


def test_the_chat_shows_policy_words_as_text(beacon):
    settings = beacon[0]
    answerer = app.make_answerer(settings)
    history = app.ask(answerer, "Do you use cookies to remember my settings?", "beacon/privacy-policy", "", "", [], [])[
        0
    ]
    reply = history[-1]["content"]
    assert "beacon" in reply and HOST in reply, reply  # the clause holding the beacon is what is quoted
    assert {t for t, _ in _Tags(reply).tags} <= {"br", "em"}, reply  # no img, no a: only our own tags
    chat = next(b for b in app.build_app(settings, answerer).blocks.values() if isinstance(b, gr.Chatbot))
    # the browser renders the message as the HTML above, not as Markdown (or LaTeX) of the policy's choosing
    assert chat.render_markdown is False and chat.latex_delimiters == []


def test_csv_export_holds_no_formula(beacon, tmp_path):
    settings = beacon[0]
    questions = tmp_path / "q.csv"
    questions.write_text('id,question\n@x,"=1+1, can I turn off cookies that are not needed?"\n', "utf-8")
    out = tmp_path / "answers.csv"
    result = cli(settings, "batch", str(questions), "-o", str(out), "--service", "beacon", "--quiet")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open(encoding="utf-8", newline="")))
    assert any(
        r["text"] == f'\'=HYPERLINK("{HOST}/steal","Cookie settings") lets you turn off cookies that are not needed.'
        for r in rows
    ), rows
    assert rows[0]["id"] == "'@x" and rows[0]["question"].startswith("'=1+1")
    for row in rows:
        assert not [v for v in row.values() if v[:1] in ("=", "+", "-", "@")], row
