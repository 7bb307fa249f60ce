"""Pure exporters: Answer records to JSONL, JSON, CSV or Markdown (the contract of DESIGN.md)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable

from ingest.errors import InputError
from qa.records import Answer, ClauseChange

FORMATS = ("jsonl", "json", "csv", "md")
ANSWER_FIELDS = ("id", "question", "service", "document", "version", "answer", "abstained", "support", "confidence")
CITATION_FIELDS = ("n", "section", "clause_id", "quote", "text", "source")
CSV_FIELDS = [*ANSWER_FIELDS, *CITATION_FIELDS, "changes", "error"]  # one row per citation


def to_jsonl(answers: Iterable[Answer]) -> str:
    """One JSON object per answer, one per line."""
    return "".join(json.dumps(a.to_dict(), ensure_ascii=False) + "\n" for a in answers)


def to_json(answers: Iterable[Answer]) -> str:
    """A JSON array of answer objects."""
    return json.dumps([a.to_dict() for a in answers], ensure_ascii=False, indent=2) + "\n"


def to_csv(answers: Iterable[Answer]) -> str:
    """One row per citation (an answer without citations still gets one row)."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_FIELDS, lineterminator="\n")
    w.writeheader()
    for a in answers:
        d = a.to_dict()
        base = {k: d[k] for k in ANSWER_FIELDS}
        base["error"] = d.get("error", "")  # a failed row must not read as "does not address"
        base["changes"] = json.dumps(d["changes"], ensure_ascii=False) if d["changes"] else ""
        for c in d["citations"] or [{}]:
            row = {**base, **{k: c.get(k, "") for k in CITATION_FIELDS}, "version": c.get("version", base["version"])}
            w.writerow({k: _inert(v) for k, v in row.items()})
    return buf.getvalue()


def _inert(value):
    """A cell a spreadsheet will not run: text starting = + - @ (or tab, CR) gets a leading ' (OWASP)."""
    return "'" + value if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def to_markdown(answers: Iterable[Answer]) -> str:
    """A readable report: each question, its answer, and its cited clauses with their quotes."""
    out = ["# ClauseCite answers", ""]
    for a in answers:
        out += [
            f"## {a.id + ': ' if a.id else ''}{_one_line(a.question)}",
            "",
            f"*{a.service}/{a.document} @ {a.version}* — {a.state or 'answered'} (confidence {a.confidence:.2f})",
            "",
        ]
        out += [f"**Error:** {_one_line(a.error)}", ""] if a.error else []
        out += [_quote_block(a.text), ""]
        for c in a.citations:
            out += [
                f"**[{c.n}]** {c.service}/{c.document} @ {c.version}, {c.section or 'Preamble'} (`{c.clause_id}`)",
                "",
                _quote_block(c.text),
                "",
                f"Quoted: “{c.quote}”",
                "",
            ]
    return "\n".join(out).rstrip() + "\n"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _quote_block(text: str) -> str:
    return "\n".join("> " + line for line in text.splitlines() or [""])


def render(answers: list[Answer], fmt: str) -> str:
    """Answers in the named format (jsonl, json, csv, md)."""
    fmt = fmt.lower().lstrip(".")
    fmt = "md" if fmt == "markdown" else fmt
    if fmt not in FORMATS:
        raise InputError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
    return {"jsonl": to_jsonl, "json": to_json, "csv": to_csv, "md": to_markdown}[fmt](answers)


CHANGE_FIELDS = [
    "status",
    "section",
    "old_version",
    "old_section",
    "old_clause_id",
    "old_text",
    "new_version",
    "new_clause_id",
    "new_text",
    "similarity",
    "diff",
]


def changes_csv(changes: Iterable[ClauseChange], include_same: bool = False) -> str:
    """A change report as CSV: one row per clause change, both sides' texts and the word diff."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CHANGE_FIELDS, lineterminator="\n")
    w.writeheader()
    for ch in changes:
        if ch.status == "same" and not include_same:
            continue
        old, new = ch.old, ch.new
        row = {
            "status": ch.status,
            "section": ch.section,
            "old_version": old.version if old else "",
            "old_section": old.section if old else "",
            "old_clause_id": old.clause_id if old else "",
            "old_text": old.text if old else "",
            "new_version": new.version if new else "",
            "new_clause_id": new.clause_id if new else "",
            "new_text": new.text if new else "",
            "similarity": round(ch.similarity, 3),
            "diff": " ".join(f"[{op}{t}]" if op != "=" else t for op, t in ch.diff if t),
        }
        w.writerow({k: _inert(v) for k, v in row.items()})
    return buf.getvalue()
