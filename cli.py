"""ClauseCite command line: ingest, versions, fetch, ask, batch, compare, history, eval, serve.

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

    def __init__(self, desc: str, quiet: bool = False):
        self.desc, self.quiet, self.bar = desc, quiet, None

    def __call__(self, stage: str, done: int, total: int) -> None:
        if self.quiet or stage != "version":
            return
        from tqdm import tqdm

        if self.bar is None:
            self.bar = tqdm(total=total, desc=self.desc, unit="clause", file=sys.stderr, leave=False)
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


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
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.pass_context
@friendly
def ingest_cmd(ctx, paths, service, document, version, replace, quiet):
    """Index policy versions from folders (service/document/DATE.ext), files or URLs."""
    from ingest.pipeline import ingest

    bar = _Bar("ingest", quiet)
    try:
        report = ingest([_local(p, _settings(ctx)) for p in paths], _settings(ctx), service=service,
                        document=document, version=version, replace=replace, progress=bar)
    finally:
        bar.close()
    click.echo(report.summary())


def _local(path_or_url: str, settings: Settings) -> Path:
    """A URL is downloaded into the data folder first; a path is returned as it is."""
    if not path_or_url.startswith(("http://", "https://")):
        return Path(path_or_url)
    from ingest.fetch import download_to

    return download_to(path_or_url, settings.data_dir / "downloads")


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
    from ingest.fetch import fetch_sources

    dest = _settings(ctx).data_dir / "sources"
    paths = fetch_sources(manifest, dest, progress=lambda e, how: click.echo(f"{how:>10}  {e.relpath}", err=True))
    click.echo(f"{len(paths)} source(s) verified in {dest}")
    if then_ingest:
        ctx.invoke(ingest_cmd, paths=(str(dest),), service="", document="", version="", replace=False, quiet=False)


if __name__ == "__main__":
    main()
