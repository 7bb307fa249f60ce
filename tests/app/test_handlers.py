"""The page's handlers called directly over a real index of the sample corpus: no browser, no server."""

from __future__ import annotations

import csv
import html
import io
from dataclasses import replace
from pathlib import Path

import gradio as gr
import pytest

import app
from ingest.pipeline import ingest, open_store
from qa.answer import Answerer
from qa.records import Citation
from tests.helpers import SAMPLE

CHIRP = "chirp/privacy-policy"
EVIL = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def answerer(tmp_path_factory) -> Answerer:
    """An Answerer over one index of the sample corpus (three Chirp versions), shared by read-only tests."""
    from settings import Settings

    s = Settings.from_env(data_dir=tmp_path_factory.mktemp("sample") / "data", chroma_url="", llm_base_url="")
    ingest([SAMPLE], s)
    return app.make_answerer(s)


def policy_file(folder: Path, name: str, body: str) -> Path:
    """A small Markdown policy with one section holding `body`."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(
        "# Evil Policy\n\n## 1. Scripts\n\n" + body + "\n\n## 2. Data\n\n"
        "We keep your account details for as long as your account exists and delete them "
        "within thirty days after you close it.\n",
        encoding="utf-8",
    )
    return path


# ask ------------------------------------------------------------------------------------------


def test_ask_gives_marked_answer_and_cards_holding_the_cited_clause(answerer):
    history, cards, answers, cleared, status = app.ask(
        answerer, "Will you use my posts to train AI?", CHIRP, "2025-02-01", "", [], []
    )
    a = answers[-1]
    assert not a.abstained and a.version == "2025-02-01" and cleared == ""
    assert [m["role"] for m in history] == ["user", "assistant"]
    assert "[1]" in history[-1]["content"] and "extractive" in history[-1]["content"]
    first = a.citations[0]
    assert f"<mark>{html.escape(first.quote)}</mark>" in cards
    assert html.escape(first.text[:40]) in cards.replace("<mark>", "").replace("</mark>", "")
    assert "train Chirpy" in cards and "effective 2025-02-01" in cards and html.escape(first.section) in cards
    assert "extractive" in status


def test_a_bug_is_an_internal_error_and_never_the_users_fault(answerer, monkeypatch, caplog):
    def broken(question, **scope):
        raise KeyError("version")

    monkeypatch.setattr(answerer, "ask", broken)
    with pytest.raises(gr.Error, match=r"internal error \(KeyError\): this is a bug in ClauseCite"):
        app.ask(answerer, "Do you sell my data?", CHIRP, "", "", [], [])
    assert any(r.exc_info and r.exc_info[0] is KeyError for r in caplog.records)
    with pytest.raises(gr.Error, match="choose a policy first"):  # the user's own mistake reads as one
        app.ask(answerer, "Do you sell my data?", "", "", "", [], [])


def test_follow_up_keeps_the_conversation_and_as_of_picks_the_version_in_effect(answerer):
    history, _, answers, _, _ = app.ask(answerer, "Do you sell my data?", CHIRP, "2025-02-01", "", [], [])
    history, _, answers, _, _ = app.ask(
        answerer, "Do you sell my data?", CHIRP, "2025-02-01", "2023-01-01", history, answers
    )
    assert len(history) == 4 and [a.version for a in answers] == ["2025-02-01", "2022-03-01"]


def test_version_choices_are_newest_first_with_effective_dates(answerer):
    assert app.policy_choices(answerer) == [CHIRP]
    assert app.version_choices(answerer, CHIRP) == [
        ("2025-02-01 (newest)", "2025-02-01"),
        ("2023-10-01", "2023-10-01"),
        ("2022-03-01", "2022-03-01"),
    ]


def test_the_default_version_lets_a_date_in_the_question_choose(answerer):
    assert app.ask_version_choices(answerer, CHIRP)[:2] == [app.ASK_NEWEST, ("2025-02-01 (newest)", "2025-02-01")]
    default = app.ask_answer(answerer, "What changed in the October 2023 policy?", CHIRP, "", "")
    chosen = app.ask_answer(answerer, "What changed in the October 2023 policy?", CHIRP, "2025-02-01", "")
    assert (default.version, chosen.version) == ("2023-10-01", "2025-02-01")
    assert "Compared with the previous version (2022-03-01)" in default.text


def test_abstention_says_so_and_lists_related_clauses_apart(answerer):
    history, cards, answers, _, _ = app.ask(
        answerer, "What is the airspeed velocity of an unladen swallow?", CHIRP, "", "", [], []
    )
    assert answers[-1].abstained and "does not address" in history[-1]["content"]
    assert "Related (not cited)" in cards and "cc-related" in cards and "cc-n" not in cards


def test_a_clause_holding_a_script_tag_renders_as_text(settings, tmp_path):
    # the loader strips tags in one pass, so a nested tag leaves a real <script> in the clause text
    path = policy_file(
        tmp_path / "src",
        "evil.md",
        "We never run <<script>script>alert(1)<</script>/script> "
        "in your browser when you read this policy about scripts and tracking cookies.",
    )
    ingest([path], settings, service="evil", document="privacy-policy", version="2024-01-01")
    texts = [c.text for c in open_store(settings).clauses("evil", "privacy-policy", "2024-01-01")]
    assert any(EVIL in t for t in texts), texts
    a = app.make_answerer(settings)
    history, cards, answers, _, _ = app.ask(
        a, "Do you run scripts in my browser?", "evil/privacy-policy", "", "", [], []
    )
    assert any(EVIL in c.text for c in answers[-1].citations)
    assert "<script" not in cards and "&lt;script&gt;alert(1)&lt;/script&gt;" in cards
    assert "<script" not in history[-1]["content"]


def test_card_escapes_every_field():
    c = Citation(
        1,
        'id"><b>',
        "s<i>",
        "d",
        "2024-01-01",
        "<h1>Section</h1>",
        f"say {EVIL} & more",
        EVIL,
        source='javascript:"<x>',
    )
    out = app.card_html(c)
    assert "<script" not in out and "<h1>" not in out and "<i>" not in out and "<x>" not in out
    assert "<mark>&lt;script&gt;alert(1)&lt;/script&gt;</mark>" in out and "&amp; more" in out
    assert "href" not in out  # only http(s) sources become links


def test_question_text_is_escaped_in_the_chat(answerer):
    history, *_ = app.ask(answerer, f"<b>hi</b>{EVIL} do you sell data?", CHIRP, "", "", [], [])
    assert "<b>" not in history[0]["content"] and "<script" not in history[0]["content"]
    assert "&lt;b&gt;hi&lt;/b&gt;" in history[0]["content"]


@pytest.mark.parametrize(
    "question, policy, message",
    [
        ("", CHIRP, "the question is empty"),
        ("   ", CHIRP, "the question is empty"),
        ("Do you sell data?", "nope/privacy-policy", "no policy of service 'nope'"),
        ("Do you sell data?", CHIRP, "no version in effect on 1999-01-01"),
    ],
)
def test_bad_questions_become_gr_errors(answerer, question, policy, message):
    as_of = "1999-01-01" if "1999" in message else ""
    with pytest.raises(gr.Error, match=message):
        app.ask(answerer, question, policy, "", as_of, [], [])


def test_ask_api_returns_the_answer_record(answerer):
    d = app.ask_api(answerer, "Do you sell my data?", CHIRP)
    assert (d["question"], d["service"], d["document"], d["version"]) == (
        "Do you sell my data?",
        "chirp",
        "privacy-policy",
        "2025-02-01",
    )
    assert d["support"] == "addressed" and not d["abstained"] and d["citations"]
    assert any("We do not sell your name, email address or phone number" in c["text"] for c in d["citations"])
    for c in d["citations"]:
        assert f"[{c['n']}]" in d["answer"] and c["quote"] in c["text"] and c["version"] == "2025-02-01", c


# export / batch -------------------------------------------------------------------------------


def test_export_csv_holds_the_citation(answerer):
    settings = answerer.settings
    _, _, answers, _, _ = app.ask(answerer, "Will you use my posts to train AI?", CHIRP, "", "", [], [])
    path = Path(app.export_answers(settings, answers, "csv"))
    assert path.parent.parent == settings.data_dir / "exports" and path.suffix == ".csv"
    rows = list(csv.DictReader(io.StringIO(path.read_text("utf-8"))))
    assert answers[0].citations[0].text in {r["text"] for r in rows}
    assert {r["question"] for r in rows} == {"Will you use my posts to train AI?"}
    for fmt in ("json", "md"):
        assert "train Chirpy" in Path(app.export_answers(settings, answers, fmt)).read_text("utf-8")


def test_export_with_no_answers_is_a_gr_error(settings):
    with pytest.raises(gr.Error, match="ask a question first"):
        app.export_answers(settings, [], "csv")


def test_batch_answers_every_question_with_progress(answerer, tmp_path):
    qs = tmp_path / "q.txt"
    qs.write_text("Do you sell my data?\nWill you use my posts to train AI?\n", encoding="utf-8")
    seen = []
    out = app.batch_answers(answerer, str(qs), CHIRP, "csv", lambda p, **kw: seen.append(p))
    rows = list(csv.DictReader(io.StringIO(Path(out).read_text("utf-8"))))
    assert {r["question"] for r in rows} == {"Do you sell my data?", "Will you use my posts to train AI?"}
    assert seen == [(1, 2), (2, 2)]
    with pytest.raises(gr.Error, match="unsupported file type"):
        app.batch_answers(answerer, str(qs.with_suffix(".exe")), CHIRP, "csv")


# add a policy ---------------------------------------------------------------------------------


def test_upload_ingests_under_uploads_and_the_pickers_see_it(settings, tmp_path):
    ingest([SAMPLE], settings)
    answerer = app.make_answerer(settings)
    path = policy_file(
        tmp_path / "src",
        "mine.md",
        "We use cookies to remember your language setting and to keep you signed in while you browse our pages.",
    )
    message, name = app.add_policy(answerer, str(path), "acme", "privacy-policy", "2024-05-01")
    assert name == "acme/privacy-policy" and "1 version(s) indexed" in message
    assert name in app.policy_choices(answerer)
    assert app.version_choices(answerer, name) == [("2024-05-01 (newest)", "2024-05-01")]
    stored = list((settings.data_dir / "uploads").rglob("*.md"))
    assert [p.name for p in stored] == ["2024-05-01.md"]
    assert app.ask(answerer, "Do you use cookies?", name, "", "", [], [])[2][-1].citations


@pytest.mark.parametrize(
    "name, size, message",
    [
        ("setup.exe", 100, "unsupported file type .exe"),
        ("huge.md", 5000, "over the 4,096-byte upload limit"),
    ],
)
def test_bad_upload_is_a_gr_error_and_nothing_is_ingested(settings, tmp_path, name, size, message):
    a = app.make_answerer(replace(settings, max_upload_bytes=4096))
    path = tmp_path / name
    path.write_bytes(b"We collect your data. " * (size // 22 + 1))
    with pytest.raises(gr.Error, match=message):
        app.add_policy(a, str(path), "acme", "privacy-policy", "2024-05-01")
    assert open_store(settings).versions() == []
    assert not list((settings.data_dir / "uploads").rglob("*.*"))


@pytest.mark.parametrize(
    "service, date, message",
    [
        ("../etc", "2024-05-01", "service name '../etc' is not allowed"),
        ("acme", "someday", "is not a date"),
        ("acme", "2999-01-01", "in the future"),
    ],
)
def test_bad_upload_fields_are_gr_errors(answerer, tmp_path, service, date, message):
    path = policy_file(tmp_path / "src", "p.md", "We use cookies to remember your language setting and more.")
    with pytest.raises(gr.Error, match=message):
        app.add_policy(answerer, str(path), service, "privacy-policy", date)
    assert app.policy_choices(answerer) == [CHIRP]


# what changed / history -----------------------------------------------------------------------


def test_change_report_counts_and_marks_words(answerer):
    out = app.compare_html(answerer, CHIRP, "2023-10-01", "2025-02-01")
    assert "1 added · 0 removed · 3 changed" in out
    assert "<h4>2.3 Chirpy, our AI assistant</h4>" in out and "<ins>Chirpy is the AI assistant" in out
    assert "<del>October</del> <ins>February</ins>" in out
    assert "&quot;Let Chirpy learn from my posts&quot;" in out and "Settings &gt; Privacy" in out


def test_history_is_an_escaped_timeline_with_the_word_diff(answerer):
    out = app.history_html(answerer, CHIRP, "how long do you keep <b>log data</b>")
    assert "<b>log data</b>" not in out and "&lt;b&gt;log data&lt;/b&gt;" in out
    assert '<tr class="cc-addressed"><td>2022-03-01 – 2023-10-01</td>' in out
    assert '<tr class="cc-changed cc-marked"><td>2025-02-01</td><td><b>changed in 2025-02-01 (§6.2)</b>' in out
    assert "<del>at most 18 months. After that</del> <ins>as long as we need it" in out
    with pytest.raises(gr.Error, match="type a topic"):
        app.history_html(answerer, CHIRP, " ")


def test_build_app_wires_a_page_with_a_stable_ask_api(answerer):
    demo = app.build_app(answerer.settings, answerer)
    assert isinstance(demo, gr.Blocks)
    names = {d.api_name for d in demo.fns.values()}
    assert {"ask", "compare", "history"} <= names


# keep up: change report download, corpus note, add by URL, check, feed ----------------------------


def test_the_change_report_downloads_as_markdown_and_csv(answerer):
    md = Path(app.change_report_file(answerer, CHIRP, "2023-10-01", "2025-02-01", "md")).read_text("utf-8")
    assert md.startswith("# What changed: chirp/privacy-policy@2023-10-01 → chirp/privacy-policy@2025-02-01")
    assert "**1 added, 0 removed, 3 changed" in md
    rows = list(
        csv.DictReader(
            io.StringIO(
                Path(app.change_report_file(answerer, CHIRP, "2023-10-01", "2025-02-01", "csv")).read_text("utf-8")
            )
        )
    )
    assert [r["status"] for r in rows].count("changed") == 3 and [r["status"] for r in rows].count("added") == 1
    log = next(r for r in rows if r["section"] == "6.2 Log data")
    assert "at most 18 months" in log["old_text"] and "as long as we need it" in log["new_text"]
    assert log["old_version"] == "2023-10-01" and log["new_version"] == "2025-02-01"
    with pytest.raises(gr.Error, match="unknown report format"):
        app.change_report_file(answerer, CHIRP, "2023-10-01", "2025-02-01", "pdf")


def test_a_fresh_start_on_the_sample_says_which_corpus_and_how_to_add_real_policies(answerer, settings, tmp_path):
    note = app.corpus_note(answerer)
    assert "sample corpus" in note and "chirp/privacy-policy" in note and "3 versions" in note
    assert "clausecite fetch" in note and "URL" in note and "file" in note
    other = app.make_answerer(settings)
    ingest(
        [policy_file(tmp_path / "acme", "2024-01-01.md", "We use cookies to remember your settings.")],
        settings,
        service="acme",
        document="privacy-policy",
    )
    assert app.corpus_note(other) == ""  # real policies indexed: nothing to explain


def test_add_by_url_fetches_for_review_then_indexes_the_corrected_date_and_check_reports(settings):
    from tests.sites import Page, policy_html, start_site

    site, server = start_site()
    try:
        url = site.set("/privacy", Page(policy_html()))
        a = app.make_answerer(settings)
        date, message, fetched = app.fetch_url(a, url, "acme", "privacy-policy")
        assert date == "2024-01-10" and "as the page states it" in message and open_store(settings).versions() == []
        with pytest.raises(gr.Error, match="press Fetch first"):
            app.add_fetched(a, fetched, url + "?other", "acme", "privacy-policy", "2024-01-09")
        summary, name = app.add_fetched(a, fetched, url, "acme", "privacy-policy", "2024-01-09")  # corrected
        assert name == "acme/privacy-policy" and summary.startswith("acme/privacy-policy@2024-01-09: 1 version(s)")
        assert [v.version for v in open_store(settings).versions()] == ["2024-01-09"]
        assert app.run_check(a) == "acme/privacy-policy: unchanged (2024-01-09)"
        with pytest.raises(gr.Error, match="answered 404"):
            app.fetch_url(a, site.url + "/nothing", "acme", "privacy-policy")
    finally:
        server.shutdown()


def test_the_feed_is_served_at_a_stable_path_behind_the_login_when_one_is_set(settings):
    import base64

    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route
    from starlette.testclient import TestClient

    from qa.feed import FeedEntry, add_entries

    inner = Starlette(routes=[Route("/", lambda r: PlainTextResponse("page"))])
    open_client = TestClient(app.FeedRoute(inner, settings.data_dir))
    empty = open_client.get(app.FEED_PATH)
    assert empty.status_code == 200 and empty.headers["content-type"].startswith("application/atom+xml")
    assert b"<entry" not in empty.content and open_client.get("/").text == "page"
    add_entries(
        settings.data_dir,
        [
            FeedEntry(
                "acme",
                "privacy-policy",
                "2025-03-03",
                "2024-01-10",
                "2026-01-01T00:00:00Z",
                "https://acme.example/privacy",
                1,
                0,
                1,
                ["3. Sharing"],
            )
        ],
    )
    assert b"acme/privacy-policy: new version 2025-03-03" in open_client.get(app.FEED_PATH).content
    closed = TestClient(app.FeedRoute(inner, settings.data_dir, ("ann", "s3cret")))
    assert closed.get(app.FEED_PATH).status_code == 401
    good = {"Authorization": "Basic " + base64.b64encode(b"ann:s3cret").decode()}
    assert b"new version 2025-03-03" in closed.get(app.FEED_PATH, headers=good).content
