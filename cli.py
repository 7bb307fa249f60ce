"""ClauseCite command line: ingest, versions, fetch, check, ask, batch, compare, history, eval, serve.

Thin: every command parses arguments, calls `ingest` or `qa`, and prints. Errors raised as
ValueError (bad input) become one clear line and a non-zero exit here, at the edge.
"""
from __future__ import annotations

import functools
import json
import sys
from pathlib import Path

import click

from settings import Settings


def _settings(ctx: click.Context) -> Settings:
    return ctx.obj["settings"]


def friendly(fn):
    """Turn expected errors into one line on stderr and exit status 1 (2 for usage errors)."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from ingest.store import StoreError

        try:
            return fn(*args, **kwargs)
        except (ValueError, StoreError, OSError) as exc:
            raise click.ClickException(str(exc)) from None
    return wrapper


class _Bar:
    """A tqdm progress bar on stderr, fed by (stage, done, total) callbacks."""

    LABELS = {"embed": "embedding new clause texts", "version": "writing versions"}

    def __init__(self, desc: str, quiet: bool = False):
        self.desc, self.quiet, self.bar, self.stage = desc, quiet, None, ""

    def __call__(self, stage: str, done: int, total: int) -> None:
        if self.quiet:
            return
        from tqdm import tqdm

        if stage != self.stage:
            self.close()
            self.stage = stage
            self.bar = tqdm(total=total, desc=self.LABELS.get(stage, stage), unit="clause", file=sys.stderr, leave=False)
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


@click.group()
@click.option("--data", "data_dir", type=click.Path(path_type=Path), envvar="CLAUSECITE_DATA",
              help="Folder for all stored state (default ./data; env CLAUSECITE_DATA).")
@click.pass_context
def main(ctx: click.Context, data_dir: Path | None) -> None:
    """ClauseCite: answers about privacy policies, with the clauses that decide them."""
    ctx.ensure_object(dict)
    overrides = {"data_dir": data_dir} if data_dir else {}
    ctx.obj["settings"] = Settings.from_env(**overrides)


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
def ingest_cmd(ctx, paths, service, document, version, replace, quiet, skip_bad=False):
    """Index policy versions from folders (service/document/DATE.ext), files or URLs."""
    from ingest.pipeline import ingest

    urls = [p for p in paths if p.startswith(("http://", "https://"))]
    for url in urls:
        _ingest_url(_settings(ctx), url, service, document, version, replace)
    files = [Path(p) for p in paths if p not in urls]
    if not files:
        return
    bar = _Bar("ingest", quiet)
    try:
        report = ingest(files, _settings(ctx), service=service,
                        document=document, version=version, replace=replace, progress=bar, skip_bad=skip_bad)
    finally:
        bar.close()
    click.echo(report.summary())


def _ingest_url(settings: Settings, url: str, service: str, document: str, version: str, replace: bool) -> None:
    """Fetch, index and remember one policy URL (`check` fetches it again later)."""
    from ingest.watch import add_url, date_note

    if not service or not document:
        raise ValueError(f"{url}: say which policy this is with --service and --document")
    fetched, date, report = add_url(url, settings, service=service, document=document, version=version,
                                    replace=replace)
    click.echo(f"{service}/{document}@{date}: {date_note(fetched, date)}")
    click.echo(report.summary())
    click.echo(f"remembered {url}; `check` fetches it again and indexes a new version when its text changes")


@main.command("versions")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
@friendly
def versions_cmd(ctx, as_json):
    """List the indexed versions: service, document, version, clauses."""
    from ingest.pipeline import open_store

    rows = open_store(_settings(ctx)).versions()
    if as_json:
        click.echo(json.dumps([r.__dict__ for r in rows], indent=2))
        return
    if not rows:
        click.echo("No versions indexed yet: run `python cli.py ingest corpora/sample`.")
    for r in rows:
        click.echo(f"{r.service:<12} {r.document:<20} {r.version}  {r.clauses:>5} clauses  {r.title}")


@main.command("fetch")
@click.option("--manifest", type=click.Path(path_type=Path), default=Path("corpora/sources.tsv"),
              show_default=True)
@click.option("--ingest/--no-ingest", "then_ingest", default=True, help="Index what was fetched.")
@click.pass_context
@friendly
def fetch_cmd(ctx, manifest, then_ingest):
    """Download the pinned public sources, verify sha256, cache them, and index them."""
    from ingest.fetch import fetch_sources, read_manifest
    from ingest.watch import WatchedSource, remember, today

    dest = _settings(ctx).data_dir / "sources"
    paths = fetch_sources(manifest, dest, progress=lambda e, how: click.echo(f"{how:>10}  {e.relpath}", err=True))
    remember(_settings(ctx).data_dir, *(WatchedSource(e.service, e.document, e.url, today(), True, e.effective_date,
                                                      e.sha256, e.title) for e in read_manifest(manifest)))
    click.echo(f"{len(paths)} source(s) verified in {dest}")
    if then_ingest:
        ctx.invoke(ingest_cmd, paths=(str(dest),), service="", document="", version="", replace=False, quiet=False)


def _answerer(settings: Settings):
    from qa.answer import Answerer

    llm = None
    if settings.llm_enabled:
        from qa.llm import LLMAnswerer, make_chat_model

        llm = LLMAnswerer(make_chat_model(settings), settings.llm_model or "local")
    return Answerer(settings, llm=llm)


@main.command("ask")
@click.argument("question")
@click.option("--service", required=True, help="Service, e.g. x.")
@click.option("--document", default="", help="Document, e.g. privacy-policy (default: the only one, or privacy-policy).")
@click.option("--version", "version", default="", help="Exact version (effective date).")
@click.option("--as-of", "as_of", default="", help="The version in effect on this date (YYYY-MM-DD).")
@click.option("--json", "as_json", is_flag=True, help="Print the Answer record as JSON.")
@click.pass_context
@friendly
def ask_cmd(ctx, question, service, document, version, as_of, as_json):
    """Answer one question with cited clauses (or say the policy does not address it)."""
    answerer = _answerer(_settings(ctx))
    answer = answerer.ask(question, service, document, version, as_of)
    note = answerer.retriever.store.incomplete_note(answer.service, answer.document, answer.version)
    if note:
        click.echo(f"warning: {note}", err=True)
    if as_json:
        click.echo(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
        return
    click.echo(answer.text)
    click.echo(f"\n(support: {answer.support}, confidence {answer.confidence:.2f})")
    for c in answer.citations:
        click.echo(f"\n[{c.n}] {c.service}/{c.document}@{c.version} · {c.section or 'Preamble'} · {c.clause_id}\n    {c.text}")
    for c in answer.related:
        click.echo(f"\n(related, not cited) {c.section}: {c.text[:200]}")


@main.command("batch")
@click.argument("questions", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
              help="Output file; format from extension: .jsonl .json .csv .md")
@click.option("--service", default="", help="Service for rows that name none.")
@click.option("--document", default="")
@click.option("--as-of", "as_of", default="")
@click.option("--resume", is_flag=True, help="Continue an interrupted run: answer only the questions not yet "
              "in the .jsonl output.")
@click.option("--quiet", is_flag=True)
@click.pass_context
@friendly
def batch_cmd(ctx, questions, output, service, document, as_of, quiet, resume):
    """Answer a file of questions (.txt/.csv/.jsonl) and write the answers with citations.

    A .jsonl output is written answer by answer, so an interrupted run can be continued with --resume.
    """
    from tqdm import tqdm

    from qa.batch import JsonlSink, read_questions, resume_jsonl, run_batch
    from qa.export import render

    fmt = output.suffix.lstrip(".")
    render([], fmt)  # fail on a bad output type, or an output that cannot be written, before answering
    if resume and fmt != "jsonl":
        raise ValueError("--resume continues a .jsonl output; write the batch as .jsonl")
    _check_writable(output)
    items = read_questions(questions)
    done = resume_jsonl(output) if resume else set()
    items = [it for it in items if it.id not in done]
    answerer = _answerer(_settings(ctx))
    bar = tqdm(total=len(items), desc="questions", file=sys.stderr, disable=quiet, leave=False)
    ask = lambda it: answerer.ask(it.question, it.service or service, it.document or document,  # noqa: E731
                                  as_of=it.as_of or as_of, id=it.id)
    sink = JsonlSink(output, append=resume) if fmt == "jsonl" else None
    answers = run_batch(items, ask, service, progress=lambda i, n: bar.update(1), sink=sink)
    bar.close()
    if sink:
        sink.close()
    else:
        output.write_text(render(answers, fmt), encoding="utf-8")
    errors = sum(1 for a in answers if a.error)
    kept = f"; {len(done)} already there" if resume else ""
    click.echo(f"{len(answers)} answers written to {output} ({errors} error record(s){kept})")


def _check_writable(output: Path) -> None:
    """Fail at once, not after every answer, when the output cannot be written."""
    import tempfile

    output.parent.mkdir(parents=True, exist_ok=True)
    if output.is_dir():
        raise ValueError(f"{output} is a folder; give -o a file name such as answers.csv")
    with tempfile.NamedTemporaryFile(dir=output.parent, prefix=f".{output.name}.", suffix=".probe"):
        pass



@main.command("compare")
@click.argument("policy")
@click.argument("old")
@click.argument("new")
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Write the Markdown report here.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@friendly
def compare_cmd(ctx, policy, old, new, output, as_json):
    """Clause-level change report between two versions: POLICY is service/document."""
    from qa.compare import align, report_markdown
    from qa.retrieve import Retriever

    service, _, document = policy.partition("/")
    r = Retriever(_settings(ctx))
    a, b = r.resolve(service, document, old), r.resolve(service, document, new)
    changes = align(r.store.clauses(a.service, a.document, a.version), r.store.clauses(b.service, b.document, b.version))
    text = (json.dumps([c.to_dict() for c in changes], ensure_ascii=False, indent=2) if as_json
            else report_markdown(changes, a.key, b.key))
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
def history_cmd(ctx, policy, topic):
    """The topic over time: per version the clause that best addresses it, or "not addressed"; where it
    appears, changes (with the word diff) or disappears is marked."""
    from qa.timeline import timeline, timeline_markdown

    service, _, document = policy.partition("/")
    click.echo(timeline_markdown(timeline(_answerer(_settings(ctx)), service, document, topic), policy, topic))


@main.command("check")
@click.option("--service", "services", multiple=True, help="Check only this service (repeatable).")
@click.pass_context
@friendly
def check_cmd(ctx, services):
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
def eval_cmd(ctx, gold, as_json):
    """Score the answerer on a gold file (dev.yaml format)."""
    from qa.evaluate import load_gold, run_gold, score, table

    answerer = _answerer(_settings(ctx))
    items = load_gold(gold)
    answers = run_gold(items, lambda it: answerer.ask(it.question, it.service, it.document, as_of=it.as_of, id=it.id))
    metrics = score(items, answers, answerer.retriever.store.clean_text)
    click.echo(json.dumps(metrics, indent=2) if as_json else table({"clausecite": metrics}))


@main.command("serve")
@click.option("--host", default="127.0.0.1", envvar="CLAUSECITE_HOST")
@click.option("--port", default=7860, type=int, envvar="CLAUSECITE_PORT")
@click.pass_context
def serve_cmd(ctx, host, port):
    """Start the Gradio app (the same as `python app.py`)."""
    import app

    app.main(["--host", host, "--port", str(port)])


if __name__ == "__main__":
    main()
