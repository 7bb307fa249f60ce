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
    from qa.compare import align

    service, document = _split(policy)
    old, new = _text("old", old), _text("new", new)
    if not old or not new:
        raise ValueError("choose two versions to compare")
    r = answerer.retriever
    a, b = r.resolve(service, document, old), r.resolve(service, document, new)
    changes = align(r.store.clauses(a.service, a.document, a.version), r.store.clauses(b.service, b.document, b.version))
    return changes_html(changes, a.key, b.key)


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
    """A topic's clauses version by version (qa.history) as an escaped HTML table."""
    from qa.history import topic_history

    service, document = _split(policy)
    topic = _text("topic", topic)
    if not topic.strip():
        raise ValueError("type a topic, for example 'location data'")
    rows = topic_history(answerer.retriever, service, document, topic.strip())
    body = "".join(f"<tr><td>{esc(r.version)}</td><td>{esc(r.status)}</td><td>{esc(r.section)}</td>"
                   f"<td>{esc(r.text)}</td></tr>" for r in rows)
    return (f'<h3>{esc(policy)}: “{esc(topic.strip())}” across versions</h3><table class="cc-history">'
            f"<tr><th>version</th><th>wording</th><th>section</th><th>clause</th></tr>{body}</table>")


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
                        chat = gr.Chatbot(label="Conversation", height=460, elem_id="chat", render_markdown=False,
                                          latex_delimiters=[])
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
    settings = Settings.from_env()
    answerer = make_answerer(settings)
    ensure_index(settings, answerer)
    # load the model while the server starts: the page is up sooner, and the first question waits on
    # the model's load lock instead of loading it a second time
    threading.Thread(target=answerer.retriever.embedder.embed_query, args=("warm up",), daemon=True).start()
    demo = build_app(settings, answerer)
    print(f"ClauseCite: ready in {time.perf_counter() - t0:.1f} s on http://{args.host}:{args.port}", flush=True)
    from starlette.middleware import Middleware

    auth = _auth()
    demo.queue().launch(server_name=args.host, server_port=args.port, share=False, auth=auth,
                        app_kwargs={"middleware": [Middleware(LoginThrottle)]} if auth else None,
                        ssr_mode=False, css=CSS, footer_links=["api"], max_file_size=settings.max_upload_bytes,
                        allowed_paths=[str(_mkdir(settings.data_dir / "exports"))])


if __name__ == "__main__":
    main(sys.argv[1:])
