"""Question batches: read .txt/.csv/.jsonl, answer each in input order, keep going past bad rows."""

from __future__ import annotations

import csv
import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

from ingest.errors import InputError
from ingest.loaders import decode
from qa.export import render
from qa.records import Answer

if TYPE_CHECKING:
    from qa.answer import Answerer


@dataclass(frozen=True)
class BatchItem:
    """One question of a batch, or the error that kept a row from being one."""

    id: str
    question: str
    service: str = ""
    document: str = ""
    as_of: str = ""
    error: str = ""


def parse_questions(text: str, kind: str) -> list[BatchItem]:
    """Batch items from file text of kind 'txt', 'csv' or 'jsonl'; a bad row becomes an error item."""
    kind = kind.lower().lstrip(".")
    if kind == "txt":
        lines = [ln.strip() for ln in text.splitlines()]
        return [BatchItem(str(i), ln) for i, ln in enumerate((ln for ln in lines if ln and not ln.startswith("#")), 1)]
    if kind == "csv":
        return _csv_items(text)
    if kind == "jsonl":
        return [_json_item(line, str(i)) for i, line in enumerate((ln for ln in text.splitlines() if ln.strip()), 1)]
    raise InputError(f"questions file type {kind!r} is not supported; use .txt, .csv or .jsonl")


def _csv_items(text: str) -> list[BatchItem]:
    """Items of a CSV file; a row whose quote is not closed on its own line becomes an error item.

    The csv module reads an unclosed quote on to the next quote or the end of the file, silently
    merging the rows between into one question; no question spans lines, so such a row is reported
    and reading resumes on the line after it.
    """
    lines = text.splitlines(keepends=True)
    header = next(csv.reader(lines[:1]), [])
    items: list[BatchItem] = []
    start = 1
    while start < len(lines):
        start = _read_rows(lines, start, header, items)
    return items


def _read_rows(lines: list[str], start: int, header: list[str], items: list[BatchItem]) -> int:
    """Read rows from line index `start` into `items` until one runs over its line; where to resume."""
    reader = csv.reader(lines[start:], strict=True)
    used = 0
    try:
        for cells in reader:
            if reader.line_num - used > 1:
                break
            used = reader.line_num
            if cells:
                # a short row leaves its last columns empty; cells past the header have no name
                items.append(_item(dict(zip(header, cells, strict=False)), str(len(items) + 1)))
        else:
            return len(lines)
    except csv.Error:
        pass  # an unclosed quote that reached the end of the file
    n = str(len(items) + 1)
    first = dict(zip(header, next(csv.reader(lines[start + used : start + used + 1]), []), strict=False))
    items.append(
        BatchItem(
            first.get("id") or n,
            "",
            error=f"row {n} (line {start + used + 1}) opens a quote it does "
            "not close, so the rows after it would be read as its question; close the quote",
        )
    )
    return start + used + 1


def _json_item(line: str, n: str) -> BatchItem:
    try:
        row = json.loads(line)
    except ValueError as exc:
        return BatchItem(n, "", error=f"line {n} is not valid JSON ({exc.args[0][:60]})")
    return _item(row, n) if isinstance(row, dict) else BatchItem(n, "", error=f"line {n} is not a JSON object")


def _item(row: dict, n: str) -> BatchItem:
    row = {str(k).strip().lower(): ("" if v is None else str(v)).strip() for k, v in row.items() if k is not None}
    item_id = row.get("id") or n
    if not row.get("question"):
        return BatchItem(item_id, "", error=f"row {n} has no question")
    return BatchItem(item_id, row["question"], row.get("service", ""), row.get("document", ""), row.get("as_of", ""))


def read_questions(path: Path) -> list[BatchItem]:
    """Batch items from a questions file; the type comes from its extension."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such questions file")
    return parse_questions(decode(path.read_bytes(), str(path)), path.suffix or ".txt")


def run_batch(
    items: list[BatchItem],
    ask: Callable[[BatchItem], Answer],
    default_service: str = "",
    progress: Callable[[int, int], None] | None = None,
    sink: Callable[[Answer], None] | None = None,
) -> list[Answer]:
    """Answer every item in order; an item that fails gets an error record and the rest still run.

    `sink` is given each answer as soon as it exists, so an interrupted batch keeps what it did.
    """
    out = []
    for i, item in enumerate(items, 1):
        out.append(_one(item, ask, default_service))
        if sink:
            sink(out[-1])
        if progress:
            progress(i, len(items))
    return out


class JsonlSink:
    """Appends each answer to a JSONL file as it comes; the file is opened at the first answer, so a
    run that fails before answering anything (a damaged index) leaves no output behind."""

    def __init__(self, path: Path, append: bool):
        self.path, self.mode = Path(path), "a" if append else "w"
        self._fh: IO[str] | None = None

    def __call__(self, answer: Answer) -> None:
        """Write one answer and flush it to the file."""
        from qa.export import to_jsonl

        fh = self._fh = self._fh or self.path.open(self.mode, encoding="utf-8")
        fh.write(to_jsonl([answer]))
        fh.flush()

    def close(self) -> None:
        """Close the file (creating it empty when nothing was answered, as a finished run would)."""
        if self._fh is None and self.mode == "w":
            self.path.write_text("", "utf-8")
        if self._fh is not None:
            self._fh.close()


def resume_jsonl(path: Path) -> set[str]:
    """Ids already answered in a JSONL output; a line cut off by the interruption is removed first."""
    path = Path(path)
    if not path.exists():
        return set()
    good = []
    for line in path.read_text("utf-8").splitlines():
        try:
            good.append(json.loads(line))
        except ValueError:
            break  # the line being written when the run stopped, and nothing after it
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in good), "utf-8")
    return {str(r.get("id", "")) for r in good}


def answer_items(
    answerer: Answerer,
    items: list[BatchItem],
    *,
    service: str = "",
    document: str = "",
    as_of: str = "",
    progress: Callable[[int, int], None] | None = None,
    sink: Callable[[Answer], None] | None = None,
) -> list[Answer]:
    """Answer a batch; `service`, `document` and `as_of` are the defaults for rows that give none.

    The default document belongs to the default service: a row that names its own service is asked
    about its own document, or that service's default one, never the default service's document.
    """

    def ask(item: BatchItem) -> Answer:
        own = item.document or ("" if item.service else document)
        return answerer.ask(
            item.question, service=item.service or service, document=own, as_of=item.as_of or as_of, id=item.id
        )

    return run_batch(items, ask, service, progress=progress, sink=sink)


def check_output(output: Path, resume: bool = False) -> str:
    """The output's format (from its extension), after checking that it can be written; fails at once,
    not after every answer."""
    fmt = output.suffix.lstrip(".")
    render([], fmt)  # an unknown format is refused here
    if resume and fmt != "jsonl":
        raise InputError("--resume continues a .jsonl output; write the batch as .jsonl")
    output.parent.mkdir(parents=True, exist_ok=True)
    if output.is_dir():
        raise InputError(f"{output} is a folder; give -o a file name such as answers.csv")
    with tempfile.NamedTemporaryFile(dir=output.parent, prefix=f".{output.name}.", suffix=".probe"):
        pass
    return fmt


def write_answers(answers: list[Answer], output: Path) -> Path:
    """Write answers to a file in the format its extension names."""
    output.write_text(render(answers, output.suffix), encoding="utf-8")
    return output


def _one(item: BatchItem, ask: Callable[[BatchItem], Answer], default_service: str) -> Answer:
    if not item.error and not (item.service or default_service):
        item = BatchItem(item.id, item.question, error="no service: add a service column or pass --service")
    if item.error:
        return Answer(item.question, item.service, item.document, "", "", abstained=True, id=item.id, error=item.error)
    try:
        return ask(item)
    except InputError as exc:  # about this row; a damaged index or model stops the whole run
        return Answer(item.question, item.service, item.document, "", "", abstained=True, id=item.id, error=str(exc))
