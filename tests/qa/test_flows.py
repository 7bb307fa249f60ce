"""Compare, history, batch, export and the LangChain retriever over the project's sample corpus."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from tests.helpers import SAMPLE


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    from ingest.pipeline import ingest
    from settings import Settings

    s = Settings.from_env(data_dir=tmp_path_factory.mktemp("sample") / "data", chroma_url="", llm_base_url="")
    ingest([SAMPLE], s)
    return s


def run(sample, *args):
    import cli

    return CliRunner().invoke(cli.main, ["--data", str(sample.data_dir), *args], catch_exceptions=False)


def test_compare_report_shows_additions_and_moved_clause(sample, tmp_path):
    out = tmp_path / "changes.md"
    r = run(sample, "compare", "chirp/privacy-policy", "2022-03-01", "2023-10-01", "-o", str(out))
    assert r.exit_code == 0, r.output
    md = out.read_text()
    assert md.startswith("# What changed") and "added" in md.splitlines()[2]
    assert "**Added:**" in md and "biometric" in md.lower()
    later = run(sample, "compare", "chirp/privacy-policy", "2023-10-01", "2025-02-01", "--json")
    statuses = [c["status"] for c in json.loads(later.output)]
    assert "moved" in statuses  # a clause that changed section is matched, not removed + added


def test_history_is_a_timeline_that_marks_where_the_topic_appears(sample):
    r = run(sample, "history", "chirp/privacy-policy", "training AI models")
    assert r.exit_code == 0, r.output
    rows = [ln for ln in r.output.splitlines() if ln.startswith("| 20")]
    assert [ln.split(" | ")[:2] for ln in rows] == [
        ["| 2022-03-01", "not addressed"],
        ["| 2023-10-01", "**added in 2023-10-01 (§2.1)**"],
        ["| 2025-02-01", "unchanged (§2.1)"],
    ]
    assert "machine learning and artificial intelligence models" in rows[1]


def test_batch_keeps_order_and_reports_bad_rows(sample, tmp_path):
    q = tmp_path / "q.jsonl"
    q.write_text(
        '{"id": "a", "question": "Do you train AI on my posts?", "service": "chirp"}\n'
        "not json\n"
        '{"id": "c", "question": "How long do you keep logs?", "service": "chirp", "as_of": "2022-06-01"}\n'
    )
    out = tmp_path / "answers.jsonl"
    r = run(sample, "batch", str(q), "-o", str(out))
    assert r.exit_code == 0, r.output
    rows = [json.loads(ln) for ln in out.read_text().splitlines()]
    assert [x["id"] for x in rows] == ["a", "2", "c"]
    assert rows[1]["error"] and not rows[1]["citations"]
    assert rows[2]["version"] == "2022-03-01"
    assert rows[0]["citations"] and not rows[0]["abstained"], rows[0]  # Chirp's newest policy covers AI training
    for c in rows[0]["citations"]:
        assert set(c) >= {"n", "service", "document", "version", "section", "clause_id", "text", "quote", "source"}
        assert c["quote"] in c["text"]


@pytest.mark.parametrize("ext", ["json", "csv", "md"])
def test_export_formats_carry_the_citation(sample, tmp_path, ext):
    q = tmp_path / "q.txt"
    q.write_text("Do you collect biometric information?\n")
    out = tmp_path / f"answers.{ext}"
    assert run(sample, "batch", str(q), "-o", str(out), "--service", "chirp").exit_code == 0
    body = out.read_text()
    if ext == "json":
        cite = json.loads(body)[0]["citations"][0]
        assert cite["quote"] in cite["text"]
    elif ext == "csv":
        row = next(csv.DictReader(io.StringIO(body)))
        assert row["quote"] and row["quote"] in row["text"] and row["clause_id"]
    else:
        assert "**[1]**" in body and "Quoted:" in body


def test_langchain_retriever_returns_documents(sample):
    from qa.lc_retriever import ClauseRetriever
    from qa.retrieve import Retriever

    r = Retriever(sample)
    docs = ClauseRetriever(retriever=r, scope=r.resolve("chirp"), k=3).invoke("biometric information")
    assert len(docs) == 3 and docs[0].metadata["service"] == "chirp"
    assert docs[0].metadata["version"] == "2025-02-01"


def test_ask_json_through_cli(sample):
    r = run(sample, "ask", "Do you use my posts to train the assistant?", "--service", "chirp", "--json")
    d = json.loads(r.output)
    assert d["version"] == "2025-02-01" and d["citations"] and not d["abstained"]


@pytest.mark.parametrize("question", ["can chirp see my DMs?", "does chirp read my dms"])
def test_a_short_form_for_a_section_title_finds_that_section(sample, question):
    # Chirp writes "Direct messages" as a section's title, never as "DMs" and seldom capitalised
    d = json.loads(run(sample, "ask", question, "--service", "chirp", "--json").output)
    assert d["support"] == "addressed" and not d["abstained"], d["answer"]
    assert d["citations"][0]["section"].endswith("4.1 Direct messages"), d["answer"]
