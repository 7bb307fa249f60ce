"""ClauseCite's Gradio page: ask a policy, see the cited clauses beside the chat, compare versions.

Every handler is a module-level function of plain values (the shared Answerer first) that calls
`ingest`/`qa` and returns plain values, so tests call them without a browser; `build_app` only
wires them to components. All policy and question text is HTML-escaped before it reaches HTML.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import html
import logging
import os
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import gradio as gr

from ingest.errors import InputError, at_the_edge, user_message
from ingest.loaders import SUPPORTED, decode
from ingest.sources import check_date
from ingest.store import check_name
from ingest.uploads import add_upload, check_upload
from qa.answer import Answerer
from qa.records import Answer, ChangeStatus, Citation, ClauseChange
from qa.service import compare_versions, history, index_note, make_answerer, parse_policy
from settings import Settings, SettingsError

__all__ = ["build_app", "main", "make_answerer"]
log = logging.getLogger("clausecite.app")
EXPORT_FORMATS = ("csv", "json", "md")
BATCH_TYPES = (".txt", ".csv", ".jsonl")
NOTE = (
    "Answers are **extractive** — quoted verbatim from the policy — unless an LLM endpoint is "
    "configured (`CLAUSECITE_LLM_URL`). Every [n] marker points at a clause shown on the right."
)
CSS = """
.cc-card{border:1px solid #c9d3e0;border-radius:8px;padding:10px 12px;margin:0 0 10px;background:#fff;color:#1f2933}
.cc-card .cc-meta{font-size:.85em;color:#52606d;margin-bottom:6px}
.cc-card .cc-n{font-weight:700;color:#1d4ed8;margin-right:6px}
.cc-card .cc-src{font-size:.8em;color:#7b8794;margin-top:6px;word-break:break-all}
.cc-card mark{background:#fde68a;color:inherit;padding:0 1px}
.cc-related{border-style:dashed;background:#f5f5f4;color:#57534e}
.cc-related-head{margin:14px 0 6px;color:#78716c;font-weight:600;text-transform:uppercase;font-size:.8em}
.cc-abstain{padding:8px 10px;border-left:4px solid #a8a29e;background:#fafaf9;margin-bottom:8px}
.cc-changes ins{background:#d1fae5;text-decoration:none}
.cc-changes del{background:#fee2e2}
.cc-change{margin:4px 0 8px;padding:6px 8px;border-left:4px solid #cbd5e1}
.cc-added{border-left-color:#10b981}.cc-removed{border-left-color:#ef4444}.cc-changed{border-left-color:#f59e0b}
.cc-counts{font-weight:600;margin-bottom:8px}
.cc-history td,.cc-history th{vertical-align:top;padding:4px 8px;border-bottom:1px solid #e5e7eb;text-align:left}
.cc-history tr.cc-marked td{background:#fffbeb}
"""
esc = html.escape


def _shown_error(message: str) -> gr.Error:
    return gr.Error(message, print_exception=False)


# an error the person can fix is a gr.Error they read; a bug is logged and shown as an internal error
user_errors = at_the_edge(_shown_error, log, "the details are in the server's log", passes=(gr.Error,))


# pickers -----------------------------------------------------------------------------------
def policy_choices(answerer: Answerer) -> list[str]:
    """Indexed policies as `service/document`."""
    return sorted({f"{v.service}/{v.document}" for v in answerer.retriever.store.versions()})


def version_choices(answerer: Answerer, policy: str | None) -> list[tuple[str, str]]:
    """A policy's versions, newest first, labelled by effective date: (label, date) pairs."""
    service, _, document = (policy or "").partition("/")
    if not service or not document:
        return []
    dates = sorted((v.version for v in answerer.retriever.store.versions(service, document)), reverse=True)
    return [(f"{d} (newest)" if i == 0 else f"{d}", d) for i, d in enumerate(dates)]


ASK_NEWEST = ("newest, or the date the question names", "")


def ask_version_choices(answerer: Answerer, policy: str | None) -> list[tuple[str, str]]:
    """The versions a question can be asked of: first the default (the newest version, unless the
    question names a date such as "in September 2023"), then each version."""
    return [ASK_NEWEST, *version_choices(answerer, policy)]


def _text(name: str, value: object) -> str:
    """An API value that must be text: a number or a list is refused with a message, not a traceback."""
    if value is not None and not isinstance(value, str):
        raise InputError(f"{name} must be text, not {type(value).__name__}")
    return value or ""


# ask ---------------------------------------------------------------------------------------
def ask_answer(answerer: Answerer, question: str, policy: str, version: str = "", as_of: str = "") -> Answer:
    """The Answer for a question about the chosen policy; an "as of" date overrides the version."""
    service, document = parse_policy(_text("policy", policy))
    as_of = _text("as_of", as_of).strip()
    return answerer.ask(
        _text("question", question),
        service=service,
        document=document,
        version="" if as_of else _text("version", version),
        as_of=as_of,
    )


@user_errors
def ask(
    answerer: Answerer,
    question: str,
    policy: str,
    version: str,
    as_of: str,
    history: list[dict[str, str]] | None,
    answers: list[Answer] | None,
) -> tuple[list[dict[str, str]], str, list[Answer], str, str]:
    """Chat turn: (chat history, citation cards HTML, answers so far, cleared question, status line)."""
    a = ask_answer(answerer, question, policy, version, as_of)
    # the chat renders HTML, not Markdown: policy words are escaped text, never an image or a link
    reply = f"{as_text(a.text)}<br><br><em>{esc(a.backend)} · {esc(a.version_key)}</em>"
    history = [
        *(history or []),
        {"role": "user", "content": as_text(a.question)},
        {"role": "assistant", "content": reply},
    ]
    status = f"Answered by **{esc(a.backend)}** from {esc(a.version_key)} in {a.timings.get('total_ms', 0):.0f} ms."
    note = index_note(answerer, a)
    status += f" **Warning: {esc(note)}.**" if note else ""
    return history, cards_html(a), [*(answers or []), a], "", status


def as_text(text: str) -> str:
    """Text for the chat, which renders HTML: escaped, its line breaks kept."""
    return esc(text).replace("\n", "<br>")


def ask_api(answerer: Answerer, question: str, policy: str, version: str = "", as_of: str = "") -> dict[str, Any]:
    """The Answer record as the export contract's dict (the `ask` API endpoint)."""
    return user_errors(ask_answer)(answerer, question, policy, version, as_of).to_dict()


def highlight(text: str, quote: str) -> str:
    """The clause text escaped, with the quoted words wrapped in <mark>."""
    i = text.find(quote) if quote else -1
    if i < 0 and quote:
        i = text.lower().find(quote.lower())
    if i < 0:
        return esc(text)
    j = i + len(quote)
    return f"{esc(text[:i])}<mark>{esc(text[i:j])}</mark>{esc(text[j:])}"


def card_html(c: Citation, related: bool = False) -> str:
    """One clause card: marker, version and effective date, section, highlighted text, source."""
    src = esc(c.source or "")
    if c.source.startswith(("http://", "https://")):
        src = f'<a href="{src}" target="_blank" rel="noopener noreferrer">{src}</a>'
    marker = "" if related else f'<span class="cc-n">[{c.n}]</span>'
    return (
        f'<div class="cc-card{" cc-related" if related else ""}" data-clause="{esc(c.clause_id)}">'
        f'<div class="cc-meta">{marker}version {esc(c.version_key)} '
        f"· effective {esc(c.version)} · {esc(c.section or 'Preamble')}</div>"
        f'<div class="cc-text">{highlight(c.text, c.quote)}</div>'
        f'<div class="cc-src">source: {src or "—"}</div></div>'
    )


def cards_html(a: Answer) -> str:
    """The clauses beside the chat: cited cards, or an abstention with the nearest clauses."""
    parts = [card_html(c) for c in a.citations]
    if a.support == "partly":
        parts.insert(
            0,
            f'<div class="cc-abstain cc-partly">Partly or unsure (confidence {a.confidence:.2f}): '
            "none of these clauses clearly settles the question.</div>",
        )
    if a.abstained:
        parts.insert(0, f'<div class="cc-abstain">Not addressed: {esc(a.text)}</div>')
        if a.related:
            parts.append('<div class="cc-related-head">Related (not cited)</div>')
            parts += [card_html(c, related=True) for c in a.related]
    return f'<div class="cc-cards">{"".join(parts) or "<p>No clauses.</p>"}</div>'


# export / batch ----------------------------------------------------------------------------
def _export_file(settings: Settings, answers: list[Answer], fmt: str, stem: str) -> str:
    """Answers written to a fresh folder under data/exports (the only folder the app serves files from)."""
    from qa.batch import write_answers

    folder = Path(tempfile.mkdtemp(dir=_mkdir(settings.data_dir / "exports")))
    return str(write_answers(answers, folder / f"{stem}.{fmt}"))


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


@user_errors
def export_answers(settings: Settings, answers: list[Answer] | None, fmt: str) -> str:
    """Write the conversation's answers (csv/json/md) under data/exports and return the file path."""
    if not answers:
        raise InputError("nothing to export yet: ask a question first")
    return _export_file(settings, list(answers), fmt or "csv", "clausecite-answers")


@user_errors
def batch_answers(
    answerer: Answerer, path: str | None, policy: str, fmt: str, progress: gr.Progress | None = None
) -> str:
    """Answer a .txt/.csv/.jsonl questions file (default policy: the chosen one); return the output file."""
    from qa.batch import answer_items, parse_questions

    p = check_upload(path, answerer.settings.max_upload_bytes, BATCH_TYPES, "questions")
    items = parse_questions(decode(p.read_bytes(), p.name), p.suffix)
    if not items:
        raise InputError(f"{p.name}: no questions found")
    service, _, document = (policy or "").partition("/")
    tick = (lambda i, n: progress((i, n), desc="answering", unit="questions")) if progress else None
    answers = answer_items(answerer, items, service=service, document=document, progress=tick)
    return _export_file(answerer.settings, answers, fmt or "csv", "clausecite-batch")


# add a policy ------------------------------------------------------------------------------
@user_errors
def add_policy(
    answerer: Answerer,
    path: str | None,
    service: str,
    document: str,
    effective: str,
    progress: gr.Progress | None = None,
) -> tuple[str, str]:
    """Ingest one uploaded version (stored under data/uploads); returns (summary, its policy name)."""
    tick = (lambda stage, done, total: progress((done, max(total, 1)), desc=f"ingest: {stage}")) if progress else None
    key, report = add_upload(
        path,
        answerer.settings,
        service=service or "",
        document=document or "",
        effective=effective or "",
        embedder=answerer.retriever.embedder,
        progress=tick,
    )
    return f"{key}: {report.summary()}", key.partition("@")[0]


# what changed / history --------------------------------------------------------------------
@user_errors
def compare_html(answerer: Answerer, policy: str, old: str, new: str) -> str:
    """The clause-level change report between two versions, as escaped HTML."""
    cmp = compare_versions(answerer.retriever, _text("policy", policy), _text("old", old), _text("new", new))
    return changes_html(cmp.changes, cmp.old.key, cmp.new.key)


@user_errors
def change_report_file(answerer: Answerer, policy: str, old: str, new: str, fmt: str) -> str:
    """The change report between two versions as a Markdown or CSV file under data/exports; its path."""
    from qa.compare import report_markdown
    from qa.export import changes_csv

    if fmt not in ("md", "csv"):
        raise InputError(f"unknown report format {fmt!r}; use md or csv")
    cmp = compare_versions(answerer.retriever, _text("policy", policy), _text("old", old), _text("new", new))
    a, b = cmp.old.key, cmp.new.key
    text = report_markdown(cmp.changes, a, b) if fmt == "md" else changes_csv(cmp.changes)
    folder = Path(tempfile.mkdtemp(dir=_mkdir(answerer.settings.data_dir / "exports")))
    path = folder / f"changes-{a.replace('/', '_').replace('@', '_')}-to-{b.split('@')[-1]}.{fmt}"
    path.write_text(text, encoding="utf-8")
    return str(path)


def changes_html(changes: list[ClauseChange], old_name: str, new_name: str) -> str:
    """Counts at the top, then added/removed/changed/moved clauses grouped by section."""
    from qa.compare import counts

    n = counts(changes)
    out = [
        f'<div class="cc-changes"><h3>{esc(old_name)} → {esc(new_name)}</h3>',
        f'<div class="cc-counts">{n["added"]} added · {n["removed"]} removed · {n["changed"]} changed · '
        f"{n['moved']} moved · {n['same']} unchanged</div>",
    ]
    section = None
    for ch in changes:
        if ch.status == ChangeStatus.SAME:
            continue
        if ch.section != section:
            section = ch.section
            out.append(f"<h4>{esc(section or '(no section)')}</h4>")
        out.append(f'<div class="cc-change cc-{ch.status}"><b>{ch.status.capitalize()}</b>: {_change_body(ch)}</div>')
    if not any(ch.status != ChangeStatus.SAME for ch in changes):
        out.append("<p>No clause changed.</p>")
    return "".join(out) + "</div>"


def _change_body(ch: ClauseChange) -> str:
    old_section = esc(ch.old.section) if ch.old else ""
    if ch.status == ChangeStatus.ADDED and ch.new:
        return f"<ins>{esc(ch.new.text)}</ins>"
    if ch.status == ChangeStatus.REMOVED and ch.old:
        return f"(was in {old_section}) <del>{esc(ch.old.text)}</del>"
    if ch.status == ChangeStatus.MOVED and ch.new:
        return f"(from {old_section}) {esc(ch.new.text)}"
    tag = {"=": "{}", "-": "<del>{}</del>", "+": "<ins>{}</ins>"}
    return " ".join(tag[op].format(esc(t)) for op, t in ch.diff if t)


@user_errors
def history_html(answerer: Answerer, policy: str, topic: str) -> str:
    """The topic over time (qa.timeline) as an escaped HTML table; marked rows where it appears,
    changes or disappears, a change with its word diff."""
    topic = _text("topic", topic)
    rows = history(answerer, _text("policy", policy), topic)
    tag = {"=": "{}", "-": "<del>{}</del>", "+": "<ins>{}</ins>"}
    body = "".join(
        f'<tr class="cc-{r.status.replace(" ", "-")}{" cc-marked" if r.marked else ""}"><td>{esc(r.versions)}</td>'
        f"<td>{'<b>' if r.marked else ''}{esc(r.describe())}{'</b>' if r.marked else ''}</td>"
        f"<td>{esc(r.section)}</td><td>"
        + (" ".join(tag[op].format(esc(t)) for op, t in r.diff if t) if r.diff else esc(r.text))
        + "</td></tr>"
        for r in rows
    )
    return (
        f'<h3>{esc(policy)}: “{esc(topic.strip())}” over time</h3><table class="cc-history cc-changes">'
        f"<tr><th>versions</th><th>what happened</th><th>section</th><th>clause</th></tr>{body}</table>"
    )


# keep up: add by URL, check, feed ----------------------------------------------------------
FEED_PATH = "/changes.atom"


@user_errors
def fetch_url(answerer: Answerer, url: str, service: str, document: str):
    """Fetch a policy URL for review before indexing: (effective date to use, message, what was fetched)."""
    from ingest.watch import fetch_policy

    url = _text("url", url).strip()
    service, document = (
        check_name("service", _text("service", service).strip()),
        check_name("document", _text("document", document).strip()),
    )
    f = fetch_policy(url, answerer.settings, service=service, document=document)
    how = "as the page states it" if f.stated else "no date stated on the page, so the fetch date"
    return (
        f.date,
        (
            f"Fetched {esc(url)}: {len(f.clean):,} characters of policy text. Effective date "
            f"**{esc(f.date)}** ({how}); correct it below if needed, then press **Add this version**."
        ),
        f,
    )


@user_errors
def add_fetched(
    answerer: Answerer, fetched, url: str, service: str, document: str, effective: str, progress=None
) -> tuple[str, str]:
    """Index the page `fetch_url` returned (as `effective`) and remember its URL: (summary, policy name)."""
    from ingest.watch import index_fetched

    if fetched is None or fetched.page.url != _text("url", url).strip():
        raise InputError("press Fetch first: the page to add is the one fetched from this URL")
    service, document = check_name("service", (service or "").strip()), check_name("document", (document or "").strip())
    tick = (lambda stage, done, total: progress((done, max(total, 1)), desc=f"ingest: {stage}")) if progress else None
    date, report = index_fetched(
        fetched,
        answerer.settings,
        service=service,
        document=document,
        version=check_date((effective or "").strip()),
        embedder=answerer.retriever.embedder,
        progress=tick,
    )
    return (
        f"{service}/{document}@{date}: {report.summary()} Remembered {esc(fetched.page.url)}: "
        "**Check for new versions** fetches it again."
    ), f"{service}/{document}"


@user_errors
def run_check(answerer: Answerer) -> str:
    """Check every remembered source (qa.keepup): one line per source, as text."""
    from qa.keepup import check

    lines = check(answerer.settings, embedder=answerer.retriever.embedder)
    if not lines:
        return "No sources to check yet: add a policy by URL above."
    return "\n".join(line.text() for line in lines)


def corpus_note(answerer: Answerer) -> str:
    """On a fresh start over the sample corpus: which corpus is indexed and how to add real policies; else ''."""
    versions = answerer.retriever.store.versions()
    sample = Path(answerer.settings.default_corpus).resolve()
    if not versions or not all(_under(v.source, sample) for v in versions):
        return ""
    names = ", ".join(sorted({f"{v.service}/{v.document}" for v in versions}))
    return (
        f"**Indexed: the sample corpus** ({esc(str(answerer.settings.default_corpus))}: {esc(names)}, "
        f"{len(versions)} versions of a fictional service's policy, written for this project). To add real "
        "policies: run `clausecite fetch` (the pinned public sources; `python cli.py fetch` in a checkout), "
        "add a policy **by URL** or **from a file** in the *Add a policy* tab, or run "
        "`clausecite ingest URL --service S --document D`."
    )


def _under(source: str, folder: Path) -> bool:
    try:
        return Path(source).resolve().is_relative_to(folder)
    except (OSError, ValueError):
        return False


def _keep_up_tab(A: Answerer, pick: Pickers) -> None:
    """Add a policy by URL (fetch, correct the date, add), check every remembered source, link the feed."""
    gr.Markdown(
        "### Add by URL\nFetched with ClauseCite's User-Agent, at most 10 MB; the effective date is "
        'read from the page ("Effective", "Last updated", "Last modified"), else the fetch date.'
    )
    with gr.Row():
        url = gr.Textbox(label="Policy URL (http or https)", placeholder="https://example.com/privacy", elem_id="url")
        url_service = gr.Textbox(label="Service", placeholder="acme", elem_id="url-service")
        url_document = gr.Textbox(label="Document", value="privacy-policy", elem_id="url-document")
    fetch_btn = gr.Button("Fetch", elem_id="fetch-btn")
    url_date = gr.Textbox(label="Effective date (YYYY-MM-DD)", elem_id="url-date")
    fetched = gr.State(None)
    url_status = gr.Markdown(elem_id="url-status")
    add_btn = gr.Button("Add this version", variant="primary", elem_id="url-add-btn")
    gr.Markdown(
        f"### Keep up\nChecking fetches every remembered URL and indexes a new version only when the "
        f"policy's text changed. New versions are listed in the [Atom feed]({FEED_PATH}) "
        "(`data/changes.atom`); `clausecite check` from cron does the same.",
        elem_id="keep-up-note",
    )
    check_btn = gr.Button("Check for new versions", elem_id="check-btn")
    check_out = gr.Textbox(label="Check", lines=4, interactive=False, elem_id="check-out")

    def on_add(f: Any, u: str, s: str, d: str, e: str, progress: gr.Progress = TRACKER) -> tuple[Any, ...]:
        message, name = add_fetched(A, f, u, s, d, e, progress)
        return message, gr.Dropdown(choices=policy_choices(A), value=name), *pick.refreshed(A, name)

    fetch_btn.click(
        functools.partial(fetch_url, A),
        inputs=[url, url_service, url_document],
        outputs=[url_date, url_status, fetched],
        **PRIVATE,
    )
    add_btn.click(
        on_add,
        inputs=[fetched, url, url_service, url_document, url_date],
        outputs=[url_status, pick.policy, *pick.versions],
        **PRIVATE,
    )
    check_btn.click(functools.partial(run_check, A), outputs=check_out, **PRIVATE)


def _report_download(A: Answerer, policy: gr.Dropdown, old_v: gr.Dropdown, new_v: gr.Dropdown) -> None:
    """The change report of the versions picked, as a Markdown or CSV download."""
    with gr.Row():
        fmt = gr.Radio(["md", "csv"], value="md", label="Report format", elem_id="report-format")
        btn = gr.Button("Download report", elem_id="report-btn")
    out = gr.File(label="Change report", interactive=False, visible=False, elem_id="report-file")
    btn.click(
        lambda p, o, n, f: gr.File(value=change_report_file(A, p, o, n, f), visible=True),
        inputs=[policy, old_v, new_v, fmt],
        outputs=out,
        **PRIVATE,
    )


class FeedRoute:
    """ASGI middleware: GET /changes.atom serves `data/changes.atom`, behind HTTP Basic when a login is set."""

    def __init__(self, app, data_dir: Path, auth: tuple[str, str] | None = None):
        self.app, self.data_dir, self.auth = app, Path(data_dir), auth

    async def __call__(self, scope, receive, send):
        """Answer the feed path; pass everything else on."""
        if scope["type"] != "http" or scope["path"] != FEED_PATH or scope["method"] not in ("GET", "HEAD"):
            return await self.app(scope, receive, send)
        if self.auth and not self._authorised(dict(scope.get("headers") or [])):
            return await _respond(
                send, 401, b"login required", "text/plain", [(b"www-authenticate", b'Basic realm="ClauseCite"')]
            )
        from qa.feed import feed_path, render_atom

        path = feed_path(self.data_dir)
        body = path.read_bytes() if path.exists() else render_atom([])
        await _respond(send, 200, body if scope["method"] == "GET" else b"", "application/atom+xml; charset=utf-8")

    def _authorised(self, headers: dict) -> bool:
        import base64
        import hmac

        given = headers.get(b"authorization", b"")
        want = b"Basic " + base64.b64encode(f"{self.auth[0]}:{self.auth[1]}".encode())
        return hmac.compare_digest(given, want)


async def _respond(send, status: int, body: bytes, kind: str, extra: list | None = None) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", kind.encode()), (b"content-length", str(len(body)).encode()), *(extra or [])],
        }
    )
    await send({"type": "http.response.body", "body": body})


def page_lists(answerer: Answerer) -> tuple[list[str], str | None]:
    """The policies a page offers when it loads, read from the index (uploads included), and the first."""
    policies = policy_choices(answerer)
    return policies, "x/privacy-policy" if "x/privacy-policy" in policies else (policies[0] if policies else None)


# page --------------------------------------------------------------------------------------
PRIVATE = {"api_visibility": "private"}  # page events are not API endpoints; gr.api below declares those
TRACKER = gr.Progress()  # a default of this type asks Gradio for a progress bar; it passes a fresh one per call


@dataclass
class Pickers:
    """The components every tab reads or refreshes: policy, version, as-of date, the compared versions."""

    policy: gr.Dropdown
    version: gr.Dropdown
    as_of: gr.Textbox
    old: gr.Dropdown | None = None
    new: gr.Dropdown | None = None

    def refreshed(self, answerer: Answerer, policy: str | None) -> tuple[Any, ...]:
        """New values for (version, old, new) after the policy changed."""
        vs = version_choices(answerer, policy)
        return (
            gr.Dropdown(choices=ask_version_choices(answerer, policy), value=""),
            gr.Dropdown(choices=vs, value=vs[1][1] if len(vs) > 1 else None),
            gr.Dropdown(choices=vs, value=vs[0][1] if vs else None),
        )

    @property
    def versions(self) -> list[Any]:
        """The three version pickers, in the order `refreshed` fills them."""
        return [self.version, self.old, self.new]


def _pickers(answerer: Answerer) -> Pickers:
    policies, first = page_lists(answerer)
    with gr.Row():
        policy = gr.Dropdown(policies, value=first, label="Policy (service/document)", elem_id="policy")
        version = gr.Dropdown(
            ask_version_choices(answerer, first), value="", label="Version (effective date)", elem_id="version"
        )
        as_of = gr.Textbox(label="…or as of date (YYYY-MM-DD, overrides version)", elem_id="as-of")
    return Pickers(policy, version, as_of)


def _shown(path: str) -> gr.File:
    return gr.File(value=path, visible=True)


def _ask_tab(a: Answerer, pick: Pickers) -> None:
    answers = gr.State([])
    with gr.Row():
        with gr.Column(scale=3):
            # no Markdown and no LaTeX: a policy's `![x](url)` or `$$...$$` stays the words it is
            # the label sits above the chat, not over it: Gradio's floating label hid the first line of
            # the first answer
            gr.Markdown("**Conversation**", elem_id="chat-label")
            chat = gr.Chatbot(
                label="Conversation",
                show_label=False,
                height=460,
                elem_id="chat",
                render_markdown=False,
                latex_delimiters=[],
            )
            question = gr.Textbox(label="Question", placeholder="Will my DMs be used to train AI?", elem_id="question")
            with gr.Row():
                ask_btn = gr.Button("Ask", variant="primary", elem_id="ask-btn")
                clear_btn = gr.Button("New conversation")
            status = gr.Markdown(elem_id="status")
            with gr.Row():
                fmt = gr.Radio(list(EXPORT_FORMATS), value="csv", label="Export format")
                export_btn = gr.Button("Export answers", elem_id="export-btn")
            export_file = gr.File(label="Download", interactive=False, visible=False, elem_id="export-file")
        with gr.Column(scale=2):
            gr.Markdown("### Cited clauses")
            cards = gr.HTML("<p>Ask a question to see the clauses it rests on.</p>", elem_id="cards")
    ask_io: dict[str, Any] = dict(
        fn=functools.partial(ask, a),
        inputs=[question, pick.policy, pick.version, pick.as_of, chat, answers],
        outputs=[chat, cards, answers, question, status],
        **PRIVATE,
    )
    ask_btn.click(**ask_io)
    question.submit(**ask_io)
    clear_btn.click(lambda: ([], "", [], ""), outputs=[chat, cards, answers, status], **PRIVATE)
    export_btn.click(
        lambda ans, f: _shown(export_answers(a.settings, ans, f)), inputs=[answers, fmt], outputs=export_file, **PRIVATE
    )


def _changes_tab(a: Answerer, pick: Pickers) -> None:
    versions = version_choices(a, pick.policy.value)
    with gr.Row():
        pick.old = gr.Dropdown(
            versions, value=versions[1][1] if len(versions) > 1 else None, label="Old version", elem_id="old-version"
        )
        pick.new = gr.Dropdown(
            versions, value=versions[0][1] if versions else None, label="New version", elem_id="new-version"
        )
        compare_btn = gr.Button("Compare", variant="primary", elem_id="compare-btn")
    report = gr.HTML(elem_id="changes")
    compare_btn.click(
        functools.partial(compare_html, a), inputs=[pick.policy, pick.old, pick.new], outputs=report, **PRIVATE
    )
    _report_download(a, pick.policy, pick.old, pick.new)


def _history_tab(a: Answerer, pick: Pickers) -> None:
    with gr.Row():
        topic = gr.Textbox(label="Topic", placeholder="precise location", elem_id="topic")
        history_btn = gr.Button("Show history", variant="primary")
    table = gr.HTML(elem_id="history")
    for event in (history_btn.click, topic.submit):
        event(functools.partial(history_html, a), inputs=[pick.policy, topic], outputs=table, **PRIVATE)


def _batch_tab(a: Answerer, pick: Pickers) -> None:
    qfile = gr.File(label="Questions (.txt, .csv or .jsonl)", file_types=list(BATCH_TYPES))
    bfmt = gr.Radio(["jsonl", *EXPORT_FORMATS], value="csv", label="Output format")
    batch_btn = gr.Button("Answer all", variant="primary")
    batch_out = gr.File(label="Answers", interactive=False, visible=False)

    def on_batch(path: str | None, policy: str, fmt: str, progress: gr.Progress = TRACKER) -> gr.File:
        return _shown(batch_answers(a, path, policy, fmt, progress))

    batch_btn.click(on_batch, inputs=[qfile, pick.policy, bfmt], outputs=batch_out, **PRIVATE)


def _upload_tab(a: Answerer, pick: Pickers) -> None:
    pfile = gr.File(label="Policy file (.md, .html, .txt, .pdf)", file_types=sorted(SUPPORTED))
    with gr.Row():
        service = gr.Textbox(label="Service", placeholder="chirp")
        document = gr.Textbox(label="Document", value="privacy-policy")
        date = gr.Textbox(label="Effective date (YYYY-MM-DD)")
    up_btn = gr.Button("Add", variant="primary")
    up_status = gr.Markdown()

    def on_upload(path: str | None, s: str, d: str, e: str, progress: gr.Progress = TRACKER) -> tuple[Any, ...]:
        message, name = add_policy(a, path, s, d, e, progress)
        return message, gr.Dropdown(choices=policy_choices(a), value=name), *pick.refreshed(a, name)

    up_btn.click(
        on_upload, inputs=[pfile, service, document, date], outputs=[up_status, pick.policy, *pick.versions], **PRIVATE
    )
    _keep_up_tab(a, pick)


def _apis(a: Answerer) -> None:
    """API endpoints. They take plain strings: a dropdown-backed endpoint would list the indexed
    policies in the API description, which Gradio serves even before login."""

    def api_ask(question: str, policy: str, version: str = "", as_of: str = "") -> dict[str, Any]:
        """Answer a question about `service/document` (version or as-of date optional)."""
        return ask_api(a, question, policy, version, as_of)

    def api_compare(policy: str, old: str, new: str) -> str:
        """The change report between two versions of `service/document`, as HTML."""
        return compare_html(a, policy, old, new)

    def api_history(policy: str, topic: str) -> str:
        """A topic's clauses version by version, as an HTML table."""
        return history_html(a, policy, topic)

    gr.api(api_ask, api_name="ask")
    gr.api(api_compare, api_name="compare")
    gr.api(api_history, api_name="history")


def build_app(settings: Settings, answerer: Answerer | None = None) -> gr.Blocks:
    """The page: policy pickers on top; Ask (chat + cards), What changed, History, Batch, Add a policy."""
    a = answerer or make_answerer(settings)
    with gr.Blocks(title="ClauseCite", analytics_enabled=False) as demo:
        gr.Markdown("# ClauseCite\nAsk what a privacy policy says; every answer cites the exact clauses.")
        gr.Markdown(NOTE, elem_id="backend-note")
        corpus = gr.Markdown(corpus_note(a), elem_id="corpus-note")
        pick = _pickers(a)
        with gr.Tabs():
            for label, tab_id, tab in (
                ("Ask", "ask", _ask_tab),
                ("What changed", "changes", _changes_tab),
                ("History", "history", _history_tab),
                ("Batch", "batch", _batch_tab),
                ("Add a policy", "upload", _upload_tab),
            ):
                with gr.Tab(label, id=tab_id):
                    tab(a, pick)
        pick.policy.change(lambda p: pick.refreshed(a, p), inputs=pick.policy, outputs=pick.versions, **PRIVATE)

        def on_load() -> tuple[Any, ...]:
            # every page load reads the index: a policy added by anyone since the app started is listed
            ps, p = page_lists(a)
            return gr.Dropdown(choices=ps, value=p), *pick.refreshed(a, p)

        demo.load(on_load, outputs=[pick.policy, *pick.versions], **PRIVATE)
        demo.load(functools.partial(corpus_note, a), outputs=corpus, **PRIVATE)
        _apis(a)
    return demo


# process -----------------------------------------------------------------------------------
class LoginThrottle:
    """ASGI middleware: a client's failed logins make its next attempt wait, doubling up to 10 s.

    Attempts from one client run one at a time, so parallel guesses wait in line; a success resets it.
    """

    def __init__(self, app: Callable[..., Awaitable[None]], first_wait: float = 0.5, longest_wait: float = 10.0):
        self.app, self.first_wait, self.longest_wait = app, first_wait, longest_wait
        self.failures: dict[str, int] = {}
        self.locks: dict[str, asyncio.Lock] = {}

    async def __call__(self, scope, receive, send):
        """Pass every request on; hold a login back while its client has recent failures."""
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"].rstrip("/") != "/login":
            return await self.app(scope, receive, send)
        client = (scope.get("client") or ("unknown",))[0]
        async with self.locks.setdefault(client, asyncio.Lock()):
            failed = self.failures.get(client, 0)
            if failed:
                await asyncio.sleep(min(self.first_wait * 2 ** (failed - 1), self.longest_wait))
            status = {}

            async def watch(message):
                if message["type"] == "http.response.start":
                    status["code"] = message["status"]
                await send(message)

            await self.app(scope, receive, watch)
            self.failures[client] = 0 if status.get("code") == 200 else failed + 1


def _auth() -> tuple[str, str] | None:
    raw = os.environ.get("CLAUSECITE_AUTH", "").strip()
    if not raw:
        return None
    user, sep, password = raw.partition(":")
    if not sep or not user or not password:
        raise SettingsError("CLAUSECITE_AUTH must look like user:password")
    return user, password


def prepare_process(settings: Settings) -> None:
    """What the serving process needs before the page is built: its own diagnostics on stdout, the hub
    offline, and Gradio's copies of uploads under the data folder (Gradio reads GRADIO_TEMP_DIR per
    upload). Done here, when the app starts, never on import."""
    ours = ("clausecite", "ingest", "qa")
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("ClauseCite: %(message)s"))
    handler.addFilter(lambda r: r.levelno >= logging.WARNING or r.name.split(".")[0] in ours)
    logging.basicConfig(level=logging.WARNING, handlers=[handler], force=True)
    for name in ours:
        logging.getLogger(name).setLevel(logging.INFO)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("GRADIO_TEMP_DIR", str(settings.data_dir / "uploads" / "incoming"))


def serve(settings: Settings, host: str, port: int) -> None:
    """Index the default corpus if the index is empty, build the page and serve it until stopped."""
    from starlette.middleware import Middleware

    from ingest.pipeline import ensure_indexed

    t0 = time.perf_counter()
    auth = _auth()
    settings = replace(settings, host=host)  # beyond loopback, URL fetching refuses private addresses
    prepare_process(settings)
    answerer = make_answerer(settings)
    ensure_indexed(settings, answerer.retriever.embedder)
    # load the model while the server starts: the page is up sooner, and the first question waits on
    # the model's load lock instead of loading it a second time
    threading.Thread(target=answerer.retriever.embedder.embed_query, args=("warm up",), daemon=True).start()
    demo = build_app(settings, answerer)
    log.info("ready in %.1f s on http://%s:%s", time.perf_counter() - t0, host, port)
    middleware = [Middleware(FeedRoute, data_dir=settings.data_dir, auth=auth)]
    middleware += [Middleware(LoginThrottle)] if auth else []
    demo.queue().launch(
        server_name=host,
        server_port=port,
        share=False,
        auth=auth,
        app_kwargs={"middleware": middleware},
        ssr_mode=False,
        css=CSS,
        footer_links=["api"],
        max_file_size=settings.max_upload_bytes,
        allowed_paths=[str(_mkdir(settings.data_dir / "exports"))],
    )


def main(argv: list[str] | None = None, settings: Settings | None = None) -> None:
    """`python app.py [--host H] [--port P]`: index the sample corpus if empty, then serve.

    A problem the person can fix (a bad CLAUSECITE_* value, a damaged index) stops it with one line.
    """
    parser = argparse.ArgumentParser(description="ClauseCite web app")
    parser.add_argument("--host", default=os.environ.get("CLAUSECITE_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=None, help="default 7860, or CLAUSECITE_PORT")
    args = parser.parse_args(argv)
    try:
        from settings import env_int

        port = args.port or env_int("CLAUSECITE_PORT", 7860)
        serve(settings or Settings.from_env(), args.host, port)
    except Exception as exc:
        message = user_message(exc)
        if message is None:
            raise
        raise SystemExit(f"ClauseCite: {message}") from None


if __name__ == "__main__":
    main(sys.argv[1:])
