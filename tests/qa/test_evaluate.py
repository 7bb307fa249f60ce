"""`cli.py eval`: the metrics of a gold file, computed as a reader of the issue would count them."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from ingest.records import version_key
from qa.evaluate import GoldItem, load_gold, score, table
from qa.records import Answer, Citation
from tests.helpers import SHARED

SOURCE = {
    "acme/privacy-policy@2024-01-01": "We keep **logs** for 18 months. We share data with “partners” we trust.",
    "acme/privacy-policy@2023-01-01": "We keep logs for 12 months.",
}


def clean_text(service: str, document: str, version: str) -> str:
    return SOURCE[version_key(service, document, version)]


def cite(text: str, quote: str, version: str = "2024-01-01", n: int = 1) -> Citation:
    return Citation(n, f"c{n}", "acme", "privacy-policy", version, "3. Retention", text, quote)


def item(answerable: bool, *quotes: tuple[str, str]) -> GoldItem:
    return GoldItem("q", "question?", "acme", "privacy-policy", "", "lookup", answerable, tuple(quotes))


def answer(*citations: Citation, abstained: bool = False) -> Answer:
    return Answer("question?", "acme", "privacy-policy", "2024-01-01", "text", tuple(citations), abstained=abstained)


NEW, OLD = "acme/privacy-policy@2024-01-01", "acme/privacy-policy@2023-01-01"


def test_recall_counts_each_gold_quote_found_in_a_cited_clause_of_its_version():
    gold = [
        item(True, (NEW, "We keep logs for 18 months."), (NEW, 'we share data with "partners"')),
        item(True, (OLD, "We keep logs for 12 months")),
    ]
    answers = [
        answer(cite("We keep logs for 18 months.", "logs for 18 months")),
        answer(cite("We keep logs for 12 months.", "12 months", version="2024-01-01")),
    ]  # wrong version
    m = score(gold, answers, clean_text)
    assert m["evidence_recall"] == round(1 / 3, 3) and m["fully_supported"] == 0.0
    both = [
        answer(
            cite("We keep logs for 18 months.", "18 months"),
            cite("We share data with “partners” we trust.", "partners", n=2),
        )
    ]
    assert score(gold[:1], both, clean_text)["fully_supported"] == 1.0


def test_abstentions_are_scored_on_both_sides():
    gold = [item(False), item(False), item(True, (NEW, "We keep logs"))]
    answers = [answer(abstained=True), answer(cite("We keep logs for 18 months.", "18 months")), answer(abstained=True)]
    m = score(gold, answers, clean_text)
    assert m["abstain_correct"] == 0.5 and m["false_abstain"] == 1.0 and m["evidence_recall"] == 0.0


def test_faithful_needs_the_quote_in_the_clause_and_the_clause_in_the_source():
    good = cite("We keep logs for 18 months.", "logs for 18")
    reworded = cite("We keep logs for 18 months.", "logs for eighteen months", n=2)
    invented = cite("We keep logs forever.", "forever", n=3)
    m = score([item(True, (NEW, "We keep logs"))], [answer(good, reworded, invented)], clean_text)
    assert m["faithful"] == round(1 / 3, 3)


def test_cited_characters_average_over_answers_that_did_not_abstain():
    text = "We keep logs for 18 months."
    m = score(
        [item(True, (NEW, "We keep logs")), item(False)],
        [answer(cite(text, "logs"), cite(text, "months", n=2)), answer(abstained=True)],
        clean_text,
    )
    assert m["cited_chars"] == 2 * len(text)


def test_table_has_a_row_per_system_and_the_goals():
    rows = table({"clausecite": {"evidence_recall": 0.5, "faithful": 1.0}}).splitlines()
    assert rows[0].startswith("| system | evidence_recall | fully_supported") and len(rows) == 4
    assert rows[2].startswith("| clausecite | 0.5 |") and rows[3].startswith("| goal | ≥ 0.85")


def test_a_malformed_gold_item_is_named(tmp_path):
    path = tmp_path / "gold.yaml"
    path.write_text("- question: fine?\n  service: acme\n- service: acme\n", "utf-8")
    with pytest.raises(ValueError, match=r"gold\.yaml: gold item 2 is malformed"):
        load_gold(path)


def test_eval_on_the_shared_dev_set_keeps_the_goals_it_meets(corpus_settings):
    import cli

    dev = SHARED / "questions" / "dev.yaml"
    args = ["--data", str(corpus_settings.data_dir), "eval", str(dev)]
    result = CliRunner().invoke(cli.main, [*args, "--json"], catch_exceptions=False)
    m = json.loads(result.stdout)  # stderr may carry the model-loading progress bar
    assert m["questions"] == len(load_gold(dev))
    # every citation verified, and the abstention and length goals of the issue hold
    assert m["faithful"] == 1.0
    assert m["false_abstain"] <= 0.05 and m["cited_chars"] <= 1500
    # recall, full support and abstention miss their goals (0.85, 0.75, 0.75) with the trained ranking
    # (0.613, 0.618, 0.625 on dev; docs/benchmarks.md); these floors catch a further regression
    assert m["evidence_recall"] >= 0.58 and m["fully_supported"] >= 0.58 and m["abstain_correct"] >= 0.6
    printed = CliRunner().invoke(cli.main, args, catch_exceptions=False).output
    assert "| clausecite |" in printed and "| goal |" in printed
