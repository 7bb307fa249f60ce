"""ClauseCite command line: ingest, versions, fetch, check, ask, batch, compare, history, eval, serve.

Thin: every command parses arguments, calls `ingest` or `qa`, and prints. A ClauseCiteError (something
the person can fix) becomes one `Error: ...` line and exit status 1 here, at the edge; any other
exception is a bug, logged with its traceback and reported as an internal error.

Installed as `clausecite`; `python cli.py ...` runs the same commands.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

import click

from ingest.errors import InputError, at_the_edge
from settings import Settings

log = logging.getLogger("clausecite.cli")
PACKAGES = ("clausecite", "ingest", "qa", "settings", "app")  # the loggers --verbose opens up


def _settings(ctx: click.Context) -> Settings:
    """The run's Settings, read from the environment when a command first needs them."""
    obj = ctx.find_root().obj
    if obj.get("settings") is None:
        overrides = {"data_dir": obj["data_dir"]} if obj.get("data_dir") else {}
        obj["settings"] = Settings.from_env(**overrides)
    return obj["settings"]


# errors a person can fix: one `Error: ...` line and exit status 1; a bug: its traceback, then the same
friendly = at_the_edge(click.ClickException, log, "the traceback is above", passes=(click.ClickException,))


def _ours_or_warning(record: logging.LogRecord) -> bool:
    """Other libraries' records only from warnings up, whatever level their own loggers are set to."""
    return record.levelno >= logging.WARNING or record.name.split(".")[0] in PACKAGES


class _EchoHandler(logging.Handler):
    """Log records as lines on the current stderr (click's, so CliRunner captures them too)."""

    def emit(self, record: logging.LogRecord) -> None:
        click.echo(self.format(record), err=True)


def configure_logging(verbose: bool) -> None:
    """Warnings from ClauseCite's modules on stderr; with --verbose, every diagnostic, named."""
    root = logging.getLogger()
    handler = next((h for h in root.handlers if isinstance(h, _EchoHandler)), None)
    if handler is None:
        handler = _EchoHandler()
        handler.addFilter(_ours_or_warning)
        root.addHandler(handler)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s" if verbose else "%(message)s"))
    for name in PACKAGES:
        logging.getLogger(name).setLevel(logging.DEBUG if verbose else logging.WARNING)


class _Bar:
    """A tqdm progress bar on stderr, fed by (stage, done, total) callbacks."""

    LABELS = {
        "embed": "embedding new clause texts",
        "second embedding": "embedding them with the packaged MiniLM too",
        "version": "writing versions",
    }

    def __init__(self, quiet: bool = False):
        self.quiet, self.stage = quiet, ""
        self.bar: Any = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        if self.quiet:
            return
        from tqdm import tqdm

        if stage != self.stage:
            self.close()
            self.stage = stage
            self.bar = tqdm(
                total=total, desc=self.LABELS.get(stage, stage), unit="clause", file=sys.stderr, leave=False
            )
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


@click.group()
@click.option(
    "--data",
    "data_dir",
    type=click.Path(path_type=Path),
    envvar="CLAUSECITE_DATA",
    help="Folder for all stored state (default ./data; env CLAUSECITE_DATA).",
)
@click.option("-v", "--verbose", is_flag=True, help="Log what each step does (on stderr).")
@click.pass_context
def main(ctx: click.Context, data_dir: Path | None, verbose: bool) -> None:
    """ClauseCite: answers about privacy policies, with the clauses that decide them."""
    configure_logging(verbose)
    ctx.ensure_object(dict)
    ctx.obj.update(data_dir=data_dir, settings=None)


@main.command("ingest")
@click.argument("paths", nargs=-1, required=True)
@click.option("--service", default="", help="Service name for a single file (e.g. x).")
@click.option("--document", default="", help="Document name for a single file (e.g. privacy-policy).")
@click.option("--version", "version", default="", help="Effective date YYYY-MM-DD for a single file.")
@click.option("--replace", is_flag=True, help="Replace a version already indexed with different text.")
@click.option("--skip-bad", is_flag=True, help="Index the good files of a folder; list the ones that cannot be.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.pass_context
@friendly
def ingest_cmd(
    ctx: click.Context,
    paths: tuple[str, ...],
    service: str,
    document: str,
    version: str,
    replace: bool,
    quiet: bool,
    skip_bad: bool = False,
) -> None:
    """Index policy versions from folders (service/document/DATE.ext), files or URLs."""
    from ingest.pipeline import ingest

    urls = [p for p in paths if p.startswith(("http://", "https://"))]
    for url in urls:
        _ingest_url(_settings(ctx), url, service, document, version, replace)
    files = [Path(p) for p in paths if p not in urls]
    if not files:
        return
    bar = _Bar(quiet)
    try:
        report = ingest(
            files,
            _settings(ctx),
            service=service,
            document=document,
            version=version,
            replace=replace,
            progress=bar,
            skip_bad=skip_bad,
        )
    finally:
        bar.close()
    click.echo(report.summary())


def _ingest_url(settings: Settings, url: str, service: str, document: str, version: str, replace: bool) -> None:
    """Fetch, index and remember one policy URL (`check` fetches it again later)."""
    from ingest.watch import add_url, date_note

    if not service or not document:
        raise InputError(f"{url}: say which policy this is with --service and --document")
    fetched, date, report = add_url(url, settings, service=service, document=document, version=version, replace=replace)
    click.echo(f"{service}/{document}@{date}: {date_note(fetched, date)}")
    click.echo(report.summary())
    click.echo(f"remembered {url}; `check` fetches it again and indexes a new version when its text changes")


@main.command("versions")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
@friendly
def versions_cmd(ctx: click.Context, as_json: bool) -> None:
    """List the indexed versions: service, document, version, clauses."""
    from ingest.pipeline import open_store

    rows = open_store(_settings(ctx)).versions()
    if as_json:
        click.echo(json.dumps([r.__dict__ for r in rows], indent=2))
        return
    if not rows:
        click.echo("No versions indexed yet: run `clausecite ingest corpora/sample`.")
    for r in rows:
        click.echo(f"{r.service:<12} {r.document:<20} {r.version}  {r.clauses:>5} clauses  {r.title}")


@main.command("fetch")
@click.option("--manifest", type=click.Path(path_type=Path), default=Path("corpora/sources.tsv"), show_default=True)
@click.option("--ingest/--no-ingest", "then_ingest", default=True, help="Index what was fetched.")
@click.pass_context
@friendly
def fetch_cmd(ctx: click.Context, manifest: Path, then_ingest: bool) -> None:
    """Download the pinned public sources, verify sha256, cache them, and index them."""
    from ingest.fetch import fetch_sources, read_manifest
    from ingest.watch import WatchedSource, remember, today

    dest = _settings(ctx).data_dir / "sources"
    paths = fetch_sources(manifest, dest, progress=lambda e, how: click.echo(f"{how:>10}  {e.relpath}", err=True))
    remember(
        _settings(ctx).data_dir,
        *(
            WatchedSource(e.service, e.document, e.url, today(), True, e.effective_date, e.sha256, e.title)
            for e in read_manifest(manifest)
        ),
    )
    click.echo(f"{len(paths)} source(s) verified in {dest}")
    if then_ingest:
        ctx.invoke(ingest_cmd, paths=(str(dest),), service="", document="", version="", replace=False, quiet=False)


@main.command("ask")
@click.argument("question")
@click.option("--service", required=True, help="Service, e.g. x.")
@click.option(
    "--document", default="", help="Document, e.g. privacy-policy (default: the only one, or privacy-policy)."
)
@click.option("--version", "version", default="", help="Exact version (effective date).")
@click.option("--as-of", "as_of", default="", help="The version in effect on this date (YYYY-MM-DD).")
@click.option("--json", "as_json", is_flag=True, help="Print the Answer record as JSON.")
@click.pass_context
@friendly
def ask_cmd(
    ctx: click.Context, question: str, service: str, document: str, version: str, as_of: str, as_json: bool
) -> None:
    """Answer one question with cited clauses (or say the policy does not address it)."""
    from qa.service import index_note, make_answerer

    answerer = make_answerer(_settings(ctx))
    answer = answerer.ask(question, service=service, document=document, version=version, as_of=as_of)
    note = index_note(answerer, answer)
    if note:
        click.echo(f"warning: {note}", err=True)
    if as_json:
        click.echo(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
        return
    click.echo(answer.text)
    click.echo(f"\n(support: {answer.support}, confidence {answer.confidence:.2f})")
    for c in answer.citations:
        click.echo(f"\n[{c.n}] {c.version_key} · {c.section or 'Preamble'} · {c.clause_id}\n    {c.text}")
    for c in answer.related:
        click.echo(f"\n(related, not cited) {c.section}: {c.text[:200]}")


@main.command("batch")
@click.argument("questions", type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    required=True,
    help="Output file; format from extension: .jsonl .json .csv .md",
)
@click.option("--service", default="", help="Service for rows that name none.")
@click.option("--document", default="", help="Document for rows that name neither service nor document.")
@click.option("--as-of", "as_of", default="", help="Date for rows that give none (YYYY-MM-DD).")
@click.option(
    "--resume",
    is_flag=True,
    help="Continue an interrupted run: answer only the questions not yet in the .jsonl output.",
)
@click.option("--quiet", is_flag=True)
@click.pass_context
@friendly
def batch_cmd(
    ctx: click.Context,
    questions: Path,
    output: Path,
    service: str,
    document: str,
    as_of: str,
    quiet: bool,
    resume: bool,
) -> None:
    """Answer a file of questions (.txt/.csv/.jsonl) and write the answers with citations.

    A .jsonl output is written answer by answer, so an interrupted run can be continued with --resume.
    """
    from tqdm import tqdm

    from qa.batch import JsonlSink, answer_items, check_output, read_questions, resume_jsonl, write_answers
    from qa.service import make_answerer

    fmt = check_output(output, resume)
    done = resume_jsonl(output) if resume else set()
    items = [it for it in read_questions(questions) if it.id not in done]
    answerer = make_answerer(_settings(ctx))
    sink = JsonlSink(output, append=resume) if fmt == "jsonl" else None
    with tqdm(total=len(items), desc="questions", file=sys.stderr, disable=quiet, leave=False) as bar:
        answers = answer_items(
            answerer,
            items,
            service=service,
            document=document,
            as_of=as_of,
            progress=lambda i, n: bar.update(1),
            sink=sink,
        )
    if sink:
        sink.close()
    else:
        write_answers(answers, output)
    errors = sum(1 for a in answers if a.error)
    kept = f"; {len(done)} already there" if resume else ""
    click.echo(f"{len(answers)} answers written to {output} ({errors} error record(s){kept})")


@main.command("compare")
@click.argument("policy")
@click.argument("old")
@click.argument("new")
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Write the Markdown report here.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@friendly
def compare_cmd(ctx: click.Context, policy: str, old: str, new: str, output: Path | None, as_json: bool) -> None:
    """Clause-level change report between two versions: POLICY is service/document."""
    from qa.compare import report_markdown
    from qa.retrieve import Retriever
    from qa.service import compare_versions

    cmp = compare_versions(Retriever(_settings(ctx)), policy, old, new)
    text = (
        json.dumps([c.to_dict() for c in cmp.changes], ensure_ascii=False, indent=2)
        if as_json
        else report_markdown(cmp.changes, cmp.old.key, cmp.new.key)
    )
    if output:
        output.write_text(text, encoding="utf-8")
        click.echo(f"change report written to {output}")
    else:
        click.echo(text)


@main.command("history")
@click.argument("policy")
@click.argument("topic")
@click.pass_context
@friendly
def history_cmd(ctx: click.Context, policy: str, topic: str) -> None:
    """The topic over time: per version the clause that best addresses it, or "not addressed"; where it
    appears, changes (with the word diff) or disappears is marked."""
    from qa.service import history, make_answerer
    from qa.timeline import timeline_markdown

    click.echo(timeline_markdown(history(make_answerer(_settings(ctx)), policy, topic), policy, topic))


@main.command("check")
@click.option("--service", "services", multiple=True, help="Check only this service (repeatable).")
@click.pass_context
@friendly
def check_cmd(ctx: click.Context, services: tuple[str, ...]) -> None:
    """Fetch every remembered source; index a new version only when its text changed; update the feed.

    One line per source: unchanged, new version DATE (with counts), or failed: reason. The exit
    status is 1 when a source failed, so cron mails you about it.
    """
    from qa.feed import feed_path
    from qa.keepup import FAILED, check

    settings = _settings(ctx)
    lines = check(settings, services=tuple(services), progress=lambda line: click.echo(line.text()))
    if not lines:
        click.echo("No sources to check: add one with `ingest URL --service S --document D`.")
    for line in lines:
        if line.report:
            click.echo(f"change report: {line.report}")
    click.echo(f"feed: {feed_path(settings.data_dir)}")
    if any(line.status == FAILED for line in lines):
        ctx.exit(1)


@main.command("eval")
@click.argument("gold", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@friendly
def eval_cmd(ctx: click.Context, gold: Path, as_json: bool) -> None:
    """Score the answerer on a gold file (dev.yaml format)."""
    from qa.evaluate import load_gold, run_gold, score, table
    from qa.service import make_answerer

    answerer = make_answerer(_settings(ctx))
    items = load_gold(gold)
    answers = run_gold(
        items, lambda it: answerer.ask(it.question, service=it.service, document=it.document, as_of=it.as_of, id=it.id)
    )
    metrics = score(items, answers, answerer.retriever.store.clean_text)
    click.echo(json.dumps(metrics, indent=2) if as_json else table({"clausecite": metrics}))


@main.command("serve")
@click.option("--host", default="127.0.0.1", envvar="CLAUSECITE_HOST")
@click.option("--port", default=7860, type=int, envvar="CLAUSECITE_PORT")
@click.pass_context
@friendly
def serve_cmd(ctx: click.Context, host: str, port: int) -> None:
    """Start the Gradio app (the same as `python app.py`)."""
    import app

    app.main(["--host", host, "--port", str(port)], settings=_settings(ctx))


if __name__ == "__main__":
    main()
