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
import os
import shutil
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import replace
from pathlib import Path

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # before gradio is imported: no phoning home
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
# Gradio keeps every upload in its own temp folder before a handler sees it: keep that folder under
# the data folder too, so uploads never land anywhere else (read at import, hence before it).
os.environ.setdefault("GRADIO_TEMP_DIR", str(
    __import__("settings").Settings.from_env().data_dir / "uploads" / "incoming"))

import gradio as gr  # noqa: E402

from ingest.loaders import SUPPORTED, decode  # noqa: E402
from ingest.records import Answer, Citation, ClauseChange  # noqa: E402
from ingest.sources import check_date  # noqa: E402
from ingest.store import StoreError, check_name  # noqa: E402
from qa.answer import Answerer  # noqa: E402
from settings import Settings  # noqa: E402

EXPORT_FORMATS = ("csv", "json", "md")
UPLOAD_CLEAN_SECONDS = 60  # an upload is cleaned in a child process and refused after this long
BATCH_TYPES = (".txt", ".csv", ".jsonl")
NOTE = ("Answers are **extractive** — quoted verbatim from the policy — unless an LLM endpoint is "
        "configured (`CLAUSECITE_LLM_URL`). Every [n] marker points at a clause shown on the right.")
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


def user_errors(fn):
    """Turn a ValueError (bad question, unknown policy, bad file) into a gr.Error the user sees."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except gr.Error:
            raise
        except (ValueError, StoreError) as exc:
            raise gr.Error(str(exc), print_exception=False) from exc
    return wrapper


# pickers -----------------------------------------------------------------------------------
def make_answerer(settings: Settings) -> Answerer:
    """The process's one Answerer (embedding model loaded once), with the LLM drafter if configured."""
    llm = None
    if settings.llm_enabled:
        from qa.llm import LLMAnswerer, make_chat_model

        llm = LLMAnswerer(make_chat_model(settings), settings.llm_model or "local")
    return Answerer(settings, llm=llm)


def policy_choices(answerer: Answerer) -> list[str]:
    """Indexed policies as `service/document`."""
    return sorted({f"{v.service}/{v.document}" for v in answerer.retriever.store.versions()})


def version_choices(answerer: Answerer, policy: str) -> list[tuple[str, str]]:
    """A policy's versions, newest first, labelled by effective date: (label, date) pairs."""
    service, _, document = (policy or "").partition("/")
    if not service or not document:
        return []
    dates = sorted((v.version for v in answerer.retriever.store.versions(service, document)), reverse=True)
    return [(f"{d} (newest)" if i == 0 else f"{d}", d) for i, d in enumerate(dates)]


ASK_NEWEST = ("newest, or the date the question names", "")


def ask_version_choices(answerer: Answerer, policy: str) -> list[tuple[str, str]]:
    """The versions a question can be asked of: first the default (the newest version, unless the
    question names a date such as "in September 2023"), then each version."""
    return [ASK_NEWEST, *version_choices(answerer, policy)]


def _text(name: str, value) -> str:
    """An API value that must be text: a number or a list is refused with a message, not a traceback."""
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{name} must be text, not {type(value).__name__}")
    return value or ""


def _split(policy: str) -> tuple[str, str]:
    service, _, document = _text("policy", policy).partition("/")
    if not service:
        raise ValueError("choose a policy first (service/document)")
    return service, document


# ask ---------------------------------------------------------------------------------------
def ask_answer(answerer: Answerer, question: str, policy: str, version: str = "", as_of: str = "") -> Answer:
    """The Answer for a question about the chosen policy; an "as of" date overrides the version."""
    service, document = _split(policy)
    question, version, as_of = _text("question", question), _text("version", version), _text("as_of", as_of).strip()
    return answerer.ask(question, service, document, "" if as_of else version, as_of)


@user_errors
def ask(answerer: Answerer, question: str, policy: str, version: str, as_of: str,
        history: list | None, answers: list | None):
    """Chat turn: (chat history, citation cards HTML, answers so far, cleared question, status line)."""
    a = ask_answer(answerer, question, policy, version, as_of)
    scope = f"{a.service}/{a.document}@{a.version}"
    # the chat renders HTML, not Markdown: policy words are escaped text, never an image or a link
    reply = f"{as_text(a.text)}<br><br><em>{esc(a.backend)} · {esc(scope)}</em>"
    history = list(history or []) + [{"role": "user", "content": as_text(a.question)},
                                     {"role": "assistant", "content": reply}]
    status = f"Answered by **{esc(a.backend)}** from {esc(scope)} in {a.timings.get('total_ms', 0):.0f} ms."
    note = answerer.retriever.store.incomplete_note(a.service, a.document, a.version)
    status += f" **Warning: {esc(note)}.**" if note else ""
    return history, cards_html(a), list(answers or []) + [a], "", status


def as_text(text: str) -> str:
    """Text for the chat, which renders HTML: escaped, its line breaks kept."""
    return esc(text).replace("\n", "<br>")


def ask_api(answerer: Answerer, question: str, policy: str, version: str = "", as_of: str = "") -> dict:
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
    return (f'<div class="cc-card{" cc-related" if related else ""}" data-clause="{esc(c.clause_id)}">'
            f'<div class="cc-meta">{marker}version {esc(c.service)}/{esc(c.document)}@{esc(c.version)} '
            f'· effective {esc(c.version)} · {esc(c.section or "Preamble")}</div>'
            f'<div class="cc-text">{highlight(c.text, c.quote)}</div>'
            f'<div class="cc-src">source: {src or "—"}</div></div>')


def cards_html(a: Answer) -> str:
    """The clauses beside the chat: cited cards, or an abstention with the nearest clauses."""
    parts = [card_html(c) for c in a.citations]
    if a.support == "partly":
        parts.insert(0, f'<div class="cc-abstain cc-partly">Partly or unsure (confidence {a.confidence:.2f}): '
                        'none of these clauses clearly settles the question.</div>')
    if a.abstained:
        parts.insert(0, f'<div class="cc-abstain">Not addressed: {esc(a.text)}</div>')
        if a.related:
            parts.append('<div class="cc-related-head">Related (not cited)</div>')
            parts += [card_html(c, related=True) for c in a.related]
    return f'<div class="cc-cards">{"".join(parts) or "<p>No clauses.</p>"}</div>'


# export / batch ----------------------------------------------------------------------------
def _export_file(settings: Settings, answers: list[Answer], fmt: str, stem: str) -> str:
    from qa.export import render

    text = render(answers, fmt)
    folder = Path(tempfile.mkdtemp(dir=_mkdir(settings.data_dir / "exports")))
    path = folder / f"{stem}.{fmt}"
    path.write_text(text, encoding="utf-8")
    return str(path)


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


@user_errors
def export_answers(settings: Settings, answers: list | None, fmt: str) -> str:
    """Write the conversation's answers (csv/json/md) under data/exports and return the file path."""
    if not answers:
        raise ValueError("nothing to export yet: ask a question first")
    return _export_file(settings, list(answers), fmt or "csv", "clausecite-answers")


def _checked_upload(path: str | None, settings: Settings, allowed: tuple[str, ...], what: str) -> Path:
    """An uploaded file whose type and size are within limits, or a ValueError saying why not."""
    if not path:
        raise ValueError(f"choose a {what} file to upload")
    p = Path(path)
    if p.suffix.lower() not in allowed:
        raise ValueError(f"{p.name}: unsupported file type {p.suffix or '(none)'}; use one of {', '.join(allowed)}")
    size = p.stat().st_size
    if size > settings.max_upload_bytes:
        raise ValueError(f"{p.name}: {size:,} bytes is over the {settings.max_upload_bytes:,}-byte upload limit")
    return p


@user_errors
def batch_answers(answerer: Answerer, path: str | None, policy: str, fmt: str, progress=None) -> str:
    """Answer a .txt/.csv/.jsonl questions file (default policy: the chosen one); return the output file."""
    from qa.batch import parse_questions, run_batch

    p = _checked_upload(path, answerer.settings, BATCH_TYPES, "questions")
    items = parse_questions(decode(p.read_bytes(), p.name), p.suffix)
    if not items:
        raise ValueError(f"{p.name}: no questions found")
    service, document = (policy or "").partition("/")[::2]
    tick = (lambda i, n: progress((i, n), desc="answering", unit="questions")) if progress else None
    ask_one = lambda it: answerer.ask(it.question, it.service or service,  # noqa: E731
                                      it.document or ("" if it.service else document), as_of=it.as_of, id=it.id)
    answers = run_batch(items, ask_one, service, progress=tick)
    return _export_file(answerer.settings, answers, fmt or "csv", "clausecite-batch")


# add a policy ------------------------------------------------------------------------------
@user_errors
def add_policy(answerer: Answerer, path: str | None, service: str, document: str, effective: str,
               progress=None) -> tuple[str, str]:
    """Ingest one uploaded version (stored under data/uploads); returns (summary, its policy name)."""
    from ingest.pipeline import ingest

    settings = answerer.settings
    p = _checked_upload(path, settings, tuple(SUPPORTED), "policy")
    service, document = check_name("service", (service or "").strip()), check_name("document", (document or "").strip())
    date = check_date((effective or "").strip())
    folder = _mkdir(settings.data_dir / "uploads" / uuid.uuid4().hex)
    dest = folder / f"{date}{p.suffix.lower()}"
    shutil.copyfile(p, dest)
    tick = (lambda stage, done, total: progress((done, max(total, 1)), desc=f"ingest: {stage}")) if progress else None
    try:
        report = ingest([dest], settings, service=service, document=document, version=date,
                        progress=tick, embedder=answerer.retriever.embedder, clean_timeout=UPLOAD_CLEAN_SECONDS)
    except Exception:
        shutil.rmtree(folder, ignore_errors=True)  # nothing half-kept from a refused upload
        raise
    return f"{service}/{document}@{date}: {report.summary()}", f"{service}/{document}"


# what changed / history --------------------------------------------------------------------
@user_errors
def compare_html(answerer: Answerer, policy: str, old: str, new: str) -> str:
    """The clause-level change report between two versions, as escaped HTML."""
    changes, a, b = _changes(answerer, policy, old, new)
    return changes_html(changes, a, b)


def _changes(answerer: Answerer, policy: str, old: str, new: str) -> tuple[list[ClauseChange], str, str]:
    """The aligned clauses of two versions of a policy, and the two versions' names."""
    from qa.compare import align

    service, document = _split(policy)
    old, new = _text("old", old), _text("new", new)
    if not old or not new:
        raise ValueError("choose two versions to compare")
    r = answerer.retriever
    a, b = r.resolve(service, document, old), r.resolve(service, document, new)
    changes = align(r.store.clauses(a.service, a.document, a.version), r.store.clauses(b.service, b.document, b.version))
    return changes, a.key, b.key


@user_errors
def change_report_file(answerer: Answerer, policy: str, old: str, new: str, fmt: str) -> str:
    """The change report between two versions as a Markdown or CSV file under data/exports; its path."""
    from qa.compare import report_markdown
    from qa.export import changes_csv

    if fmt not in ("md", "csv"):
        raise ValueError(f"unknown report format {fmt!r}; use md or csv")
    changes, a, b = _changes(answerer, policy, old, new)
    text = report_markdown(changes, a, b) if fmt == "md" else changes_csv(changes)
    folder = Path(tempfile.mkdtemp(dir=_mkdir(answerer.settings.data_dir / "exports")))
    path = folder / f"changes-{a.replace('/', '_').replace('@', '_')}-to-{b.split('@')[-1]}.{fmt}"
    path.write_text(text, encoding="utf-8")
    return str(path)


def changes_html(changes: list[ClauseChange], old_name: str, new_name: str) -> str:
    """Counts at the top, then added/removed/changed/moved clauses grouped by section."""
    from qa.compare import counts

    n = counts(changes)
    out = [f'<div class="cc-changes"><h3>{esc(old_name)} → {esc(new_name)}</h3>',
           f'<div class="cc-counts">{n["added"]} added · {n["removed"]} removed · {n["changed"]} changed · '
           f'{n["moved"]} moved · {n["same"]} unchanged</div>']
    section = None
    for ch in changes:
        if ch.status == "same":
            continue
        if ch.section != section:
            section = ch.section
            out.append(f"<h4>{esc(section or '(no section)')}</h4>")
        out.append(f'<div class="cc-change cc-{ch.status}"><b>{ch.status.capitalize()}</b>: {_change_body(ch)}</div>')
    if not any(ch.status != "same" for ch in changes):
        out.append("<p>No clause changed.</p>")
    return "".join(out) + "</div>"


def _change_body(ch: ClauseChange) -> str:
    if ch.status == "added":
        return f"<ins>{esc(ch.new.text)}</ins>"
    if ch.status == "removed":
        return f"(was in {esc(ch.old.section)}) <del>{esc(ch.old.text)}</del>"
    if ch.status == "moved":
        return f"(from {esc(ch.old.section)}) {esc(ch.new.text)}"
    tag = {"=": "{}", "-": "<del>{}</del>", "+": "<ins>{}</ins>"}
    return " ".join(tag[op].format(esc(t)) for op, t in ch.diff if t)


@user_errors
def history_html(answerer: Answerer, policy: str, topic: str) -> str:
    """The topic over time (qa.timeline) as an escaped HTML table; marked rows where it appears,
    changes or disappears, a change with its word diff."""
    from qa.timeline import timeline

    service, document = _split(policy)
    topic = _text("topic", topic)
    if not topic.strip():
        raise ValueError("type a topic, for example 'location data'")
    rows = timeline(answerer, service, document, topic.strip())
    tag = {"=": "{}", "-": "<del>{}</del>", "+": "<ins>{}</ins>"}
    body = "".join(
        f'<tr class="cc-{r.status.replace(" ", "-")}{" cc-marked" if r.marked else ""}"><td>{esc(r.versions)}</td>'
        f"<td>{'<b>' if r.marked else ''}{esc(r.describe())}{'</b>' if r.marked else ''}</td>"
        f"<td>{esc(r.section)}</td><td>"
        + (" ".join(tag[op].format(esc(t)) for op, t in r.diff if t) if r.diff else esc(r.text))
        + "</td></tr>" for r in rows)
    return (f'<h3>{esc(policy)}: “{esc(topic.strip())}” over time</h3><table class="cc-history cc-changes">'
            f"<tr><th>versions</th><th>what happened</th><th>section</th><th>clause</th></tr>{body}</table>")


# keep up: add by URL, check, feed ----------------------------------------------------------
FEED_PATH = "/changes.atom"


@user_errors
def fetch_url(answerer: Answerer, url: str, service: str, document: str):
    """Fetch a policy URL for review before indexing: (effective date to use, message, what was fetched)."""
    from ingest.watch import fetch_policy

    url = _text("url", url).strip()
    service, document = check_name("service", _text("service", service).strip()), check_name(
        "document", _text("document", document).strip())
    f = fetch_policy(url, answerer.settings, service=service, document=document)
    how = "as the page states it" if f.stated else "no date stated on the page, so the fetch date"
    return f.date, (f"Fetched {esc(url)}: {len(f.clean):,} characters of policy text. Effective date "
                    f"**{esc(f.date)}** ({how}); correct it below if needed, then press **Add this version**."), f


@user_errors
def add_fetched(answerer: Answerer, fetched, url: str, service: str, document: str, effective: str,
                progress=None) -> tuple[str, str]:
    """Index the page `fetch_url` returned (as `effective`) and remember its URL: (summary, policy name)."""
    from ingest.watch import index_fetched

    if fetched is None or fetched.page.url != _text("url", url).strip():
        raise ValueError("press Fetch first: the page to add is the one fetched from this URL")
    service, document = check_name("service", (service or "").strip()), check_name("document", (document or "").strip())
    tick = (lambda stage, done, total: progress((done, max(total, 1)), desc=f"ingest: {stage}")) if progress else None
    date, report = index_fetched(fetched, answerer.settings, service=service, document=document,
                                 version=check_date((effective or "").strip()), embedder=answerer.retriever.embedder,
                                 progress=tick)
    return (f"{service}/{document}@{date}: {report.summary()} Remembered {esc(fetched.page.url)}: "
            "**Check for new versions** fetches it again."), f"{service}/{document}"


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
    return (f"**Indexed: the sample corpus** ({esc(str(answerer.settings.default_corpus))}: {esc(names)}, "
            f"{len(versions)} versions of a fictional service's policy, written for this project). To add real "
            "policies: run `clausecite fetch` (the pinned public sources; `python cli.py fetch` in a checkout), "
            "add a policy **by URL** or **from a file** in the *Add a policy* tab, or run "
            "`clausecite ingest URL --service S --document D`.")


def _under(source: str, folder: Path) -> bool:
    try:
        return Path(source).resolve().is_relative_to(folder)
    except (OSError, ValueError):
        return False


def _keep_up_tab(A: Answerer, pickers: list, pick) -> None:
    """Add a policy by URL (fetch, correct the date, add), check every remembered source, link the feed."""
    gr.Markdown("### Add by URL\nFetched with ClauseCite's User-Agent, at most 10 MB; the effective date is "
                "read from the page (\"Effective\", \"Last updated\", \"Last modified\"), else the fetch date.")
    with gr.Row():
        url = gr.Textbox(label="Policy URL (http or https)", placeholder="https://example.com/privacy", elem_id="url")
        url_service = gr.Textbox(label="Service", placeholder="acme", elem_id="url-service")
        url_document = gr.Textbox(label="Document", value="privacy-policy", elem_id="url-document")
    fetch_btn = gr.Button("Fetch", elem_id="fetch-btn")
    url_date = gr.Textbox(label="Effective date (YYYY-MM-DD)", elem_id="url-date")
    fetched = gr.State(None)
    url_status = gr.Markdown(elem_id="url-status")
    add_btn = gr.Button("Add this version", variant="primary", elem_id="url-add-btn")
    gr.Markdown(f"### Keep up\nChecking fetches every remembered URL and indexes a new version only when the "
                f"policy's text changed. New versions are listed in the [Atom feed]({FEED_PATH}) "
                "(`data/changes.atom`); `clausecite check` from cron does the same.", elem_id="keep-up-note")
    check_btn = gr.Button("Check for new versions", elem_id="check-btn")
    check_out = gr.Textbox(label="Check", lines=4, interactive=False, elem_id="check-out")

    def on_fetch(u, s, d):
        return fetch_url(A, u, s, d)

    def on_add(f, u, s, d, e, progress=gr.Progress()):
        message, name = add_fetched(A, f, u, s, d, e, progress)
        return message, *pick(name)

    fetch_btn.click(on_fetch, inputs=[url, url_service, url_document], outputs=[url_date, url_status, fetched],
                    api_visibility="private")
    add_btn.click(on_add, inputs=[fetched, url, url_service, url_document, url_date], outputs=[url_status, *pickers],
                  api_visibility="private")
    check_btn.click(lambda: run_check(A), outputs=check_out, api_visibility="private")


def _report_download(A: Answerer, policy, old_v, new_v) -> None:
    """The change report of the versions picked, as a Markdown or CSV download."""
    with gr.Row():
        fmt = gr.Radio(["md", "csv"], value="md", label="Report format", elem_id="report-format")
        btn = gr.Button("Download report", elem_id="report-btn")
    out = gr.File(label="Change report", interactive=False, visible=False, elem_id="report-file")
    btn.click(lambda p, o, n, f: gr.File(value=change_report_file(A, p, o, n, f), visible=True),
              inputs=[policy, old_v, new_v, fmt], outputs=out, api_visibility="private")


class FeedRoute:
    """ASGI middleware: GET /changes.atom serves `data/changes.atom`, behind HTTP Basic when a login is set."""

    def __init__(self, app, data_dir: Path, auth: tuple[str, str] | None = None):
        self.app, self.data_dir, self.auth = app, Path(data_dir), auth

    async def __call__(self, scope, receive, send):
        """Answer the feed path; pass everything else on."""
        if scope["type"] != "http" or scope["path"] != FEED_PATH or scope["method"] not in ("GET", "HEAD"):
            return await self.app(scope, receive, send)
        if self.auth and not self._authorised(dict(scope.get("headers") or [])):
            return await _respond(send, 401, b"login required", "text/plain",
                                  [(b"www-authenticate", b'Basic realm="ClauseCite"')])
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
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", kind.encode()), (b"content-length", str(len(body)).encode()),
                            *(extra or [])]})
    await send({"type": "http.response.body", "body": body})


def page_lists(answerer: Answerer) -> tuple[list[str], str | None]:
    """The policies a page offers when it loads, read from the index (uploads included), and the first."""
    policies = policy_choices(answerer)
    return policies, "x/privacy-policy" if "x/privacy-policy" in policies else (policies[0] if policies else None)


# page --------------------------------------------------------------------------------------
def build_app(settings: Settings, answerer: Answerer | None = None) -> gr.Blocks:
    """The page: policy pickers on top; Ask (chat + cards), What changed, History, Batch, Add a policy."""
    answerer = answerer or make_answerer(settings)
    A = answerer
    policies, first = page_lists(A)
    versions = version_choices(A, first)
    newest = versions[0][1] if versions else None

    def version_dd(policy):
        return gr.Dropdown(choices=ask_version_choices(A, policy), value="")

    def two_versions(policy):
        vs = version_choices(A, policy)
        return (gr.Dropdown(choices=vs, value=vs[1][1] if len(vs) > 1 else None),
                gr.Dropdown(choices=vs, value=vs[0][1] if vs else None))

    with gr.Blocks(title="ClauseCite") as demo:
        gr.Markdown("# ClauseCite\nAsk what a privacy policy says; every answer cites the exact clauses.")
        gr.Markdown(NOTE, elem_id="backend-note")
        corpus = gr.Markdown(corpus_note(A), elem_id="corpus-note")
        with gr.Row():
            policy = gr.Dropdown(policies, value=first, label="Policy (service/document)", elem_id="policy")
            version = gr.Dropdown(ask_version_choices(A, first), value="", label="Version (effective date)",
                                  elem_id="version")
            as_of = gr.Textbox(label="…or as of date (YYYY-MM-DD, overrides version)", elem_id="as-of")
        answers = gr.State([])
        with gr.Tabs():
            with gr.Tab("Ask", id="ask"):
                with gr.Row():
                    with gr.Column(scale=3):
                        # no Markdown and no LaTeX: a policy's `![x](url)` or `$$...$$` stays the words it is
                        # the label sits above the chat, not over it: Gradio's floating label hid the
                        # first line of the first answer
                        gr.Markdown("**Conversation**", elem_id="chat-label")
                        chat = gr.Chatbot(label="Conversation", show_label=False, height=460, elem_id="chat",
                                          render_markdown=False, latex_delimiters=[])
                        question = gr.Textbox(label="Question", placeholder="Will my DMs be used to train AI?",
                                              elem_id="question")
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
            with gr.Tab("What changed", id="changes"):
                with gr.Row():
                    old_v = gr.Dropdown(versions, value=versions[1][1] if len(versions) > 1 else None,
                                        label="Old version", elem_id="old-version")
                    new_v = gr.Dropdown(versions, value=newest, label="New version", elem_id="new-version")
                    compare_btn = gr.Button("Compare", variant="primary", elem_id="compare-btn")
                report = gr.HTML(elem_id="changes")
                _report_download(A, policy, old_v, new_v)
            with gr.Tab("History", id="history"):
                with gr.Row():
                    topic = gr.Textbox(label="Topic", placeholder="precise location", elem_id="topic")
                    history_btn = gr.Button("Show history", variant="primary")
                history = gr.HTML(elem_id="history")
            with gr.Tab("Batch", id="batch"):
                qfile = gr.File(label="Questions (.txt, .csv or .jsonl)", file_types=list(BATCH_TYPES))
                bfmt = gr.Radio(["jsonl", *EXPORT_FORMATS], value="csv", label="Output format")
                batch_btn = gr.Button("Answer all", variant="primary")
                batch_out = gr.File(label="Answers", interactive=False, visible=False)
            with gr.Tab("Add a policy", id="upload"):
                pfile = gr.File(label="Policy file (.md, .html, .txt, .pdf)", file_types=sorted(SUPPORTED))
                with gr.Row():
                    up_service = gr.Textbox(label="Service", placeholder="chirp")
                    up_document = gr.Textbox(label="Document", value="privacy-policy")
                    up_date = gr.Textbox(label="Effective date (YYYY-MM-DD)")
                up_btn = gr.Button("Add", variant="primary")
                up_status = gr.Markdown()
                _keep_up_tab(A, [policy, version, old_v, new_v],
                             lambda name: (gr.Dropdown(choices=policy_choices(A), value=name), version_dd(name),
                                           *two_versions(name)))

        shown = lambda path: gr.File(value=path, visible=True)  # noqa: E731

        def on_ask(q, p, v, d, h, ans):
            return ask(A, q, p, v, d, h, ans)

        def on_batch(path, p, f, progress=gr.Progress()):
            return shown(batch_answers(A, path, p, f, progress))

        def on_upload(path, s, d, e, progress=gr.Progress()):
            message, name = add_policy(A, path, s, d, e, progress)
            return message, gr.Dropdown(choices=policy_choices(A), value=name), version_dd(name), *two_versions(name)

        ask_io = dict(fn=on_ask, inputs=[question, policy, version, as_of, chat, answers],
                      outputs=[chat, cards, answers, question, status])
        ask_btn.click(**ask_io, api_visibility="private")
        question.submit(**ask_io, api_visibility="private")
        clear_btn.click(lambda: ([], "", [], ""), outputs=[chat, cards, answers, status], api_visibility="private")
        policy.change(lambda p: (version_dd(p), *two_versions(p)), inputs=policy,
                      outputs=[version, old_v, new_v], api_visibility="private")
        export_btn.click(lambda ans, f: shown(export_answers(settings, ans, f)), inputs=[answers, fmt],
                         outputs=export_file, api_visibility="private")
        compare_btn.click(lambda p, o, n: compare_html(A, p, o, n), inputs=[policy, old_v, new_v], outputs=report,
                          api_visibility="private")
        history_btn.click(lambda p, t: history_html(A, p, t), inputs=[policy, topic], outputs=history,
                          api_visibility="private")
        topic.submit(lambda p, t: history_html(A, p, t), inputs=[policy, topic], outputs=history,
                     api_visibility="private")
        batch_btn.click(on_batch, inputs=[qfile, policy, bfmt], outputs=batch_out, api_visibility="private")
        up_btn.click(on_upload, inputs=[pfile, up_service, up_document, up_date],
                     outputs=[up_status, policy, version, old_v, new_v], api_visibility="private")

        def on_load():
            # every page load reads the index: a policy added by anyone since the app started is listed
            ps, p = page_lists(A)
            return gr.Dropdown(choices=ps, value=p), version_dd(p), *two_versions(p)

        demo.load(on_load, outputs=[policy, version, old_v, new_v], api_visibility="private")
        demo.load(lambda: corpus_note(A), outputs=corpus, api_visibility="private")

        def api_ask(question: str, policy: str, version: str = "", as_of: str = "") -> dict:
            """Answer a question about `service/document` (version or as-of date optional)."""
            return ask_api(A, question, policy, version, as_of)

        # API endpoints take plain strings: a dropdown-backed endpoint would list the indexed policies
        # in the API description, which Gradio serves even before login.
        def api_compare(policy: str, old: str, new: str) -> str:
            """The change report between two versions of `service/document`, as HTML."""
            return compare_html(A, policy, old, new)

        def api_history(policy: str, topic: str) -> str:
            """A topic's clauses version by version, as an HTML table."""
            return history_html(A, policy, topic)

        gr.api(api_ask, api_name="ask")
        gr.api(api_compare, api_name="compare")
        gr.api(api_history, api_name="history")
    return demo


# process -----------------------------------------------------------------------------------
def ensure_index(settings: Settings, answerer: Answerer) -> None:
    """Index the default corpus when nothing is indexed yet, and say what was done."""
    from ingest.pipeline import ingest

    if answerer.retriever.store.versions():
        return
    print(f"ClauseCite: index is empty; ingesting {settings.default_corpus} ...", flush=True)
    report = ingest([settings.default_corpus], settings, embedder=answerer.retriever.embedder)
    print(f"ClauseCite: {report.summary()}", flush=True)


class LoginThrottle:
    """ASGI middleware: a client's failed logins make its next attempt wait, doubling up to 10 s.

    Attempts from one client run one at a time, so parallel guesses wait in line; a success resets it.
    """

    def __init__(self, app, first_wait: float = 0.5, longest_wait: float = 10.0):
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
        raise SystemExit("CLAUSECITE_AUTH must look like user:password")
    return user, password


def main(argv: list[str] | None = None) -> None:
    """`python app.py [--host H] [--port P]`: index the sample corpus if empty, then serve."""
    parser = argparse.ArgumentParser(description="ClauseCite web app")
    parser.add_argument("--host", default=os.environ.get("CLAUSECITE_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("CLAUSECITE_PORT", "7860")))
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    settings = replace(Settings.from_env(), host=args.host)  # beyond loopback, URL fetching refuses private addresses
    answerer = make_answerer(settings)
    ensure_index(settings, answerer)
    # load the model while the server starts: the page is up sooner, and the first question waits on
    # the model's load lock instead of loading it a second time
    threading.Thread(target=answerer.retriever.embedder.embed_query, args=("warm up",), daemon=True).start()
    demo = build_app(settings, answerer)
    print(f"ClauseCite: ready in {time.perf_counter() - t0:.1f} s on http://{args.host}:{args.port}", flush=True)
    from starlette.middleware import Middleware

    auth = _auth()
    middleware = [Middleware(FeedRoute, data_dir=settings.data_dir, auth=auth)]
    middleware += [Middleware(LoginThrottle)] if auth else []
    demo.queue().launch(server_name=args.host, server_port=args.port, share=False, auth=auth,
                        app_kwargs={"middleware": middleware},
                        ssr_mode=False, css=CSS, footer_links=["api"], max_file_size=settings.max_upload_bytes,
                        allowed_paths=[str(_mkdir(settings.data_dir / "exports"))])


if __name__ == "__main__":
    main(sys.argv[1:])
