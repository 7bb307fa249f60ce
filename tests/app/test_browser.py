"""The page in a real browser over the real app process: chat and cards, what changed, export, escaping, API."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO
from tests.servers import free_port, stop, wait_until_up

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
QUESTION = "Will my DMs be used to train AI?"
HOSTILE = "<b>hi</b><script>window.__x=1</script> do you sell my data?"
WAIT = 60_000  # ms; the first answer builds the version's BM25 index

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(corpus_settings, tmp_path_factory):
    """`python app.py` on a free port over the shared corpus index; yields its URL."""
    port, log = free_port(), tmp_path_factory.mktemp("server") / "app.log"
    env = {**os.environ, "CLAUSECITE_DATA": str(corpus_settings.data_dir), "GRADIO_ANALYTICS_ENABLED": "False"}
    env.pop("CLAUSECITE_AUTH", None)
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "app.py", "--port", str(port), "--host", "127.0.0.1"],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        seconds = wait_until_up(url, proc, lambda: log.read_text(errors="replace"))
        print(f"\napp startup (process start -> HTTP 200, index already built): {seconds:.1f} s")
        assert "ingesting" not in log.read_text(errors="replace")  # an indexed data folder is used as it is
        yield url
    finally:
        stop(proc)


@pytest.fixture(scope="module")
def browser():
    """Debian's headless Chromium driven by Playwright (never a downloaded browser)."""
    if not CHROMIUM.exists():
        pytest.fail("install Debian's chromium: apt-get install chromium chromium-driver")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield b
        b.close()


@pytest.fixture()
def page(browser, server):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    pg = context.new_page()
    pg.set_default_timeout(WAIT)
    pg.goto(server, wait_until="load")
    pg.wait_for_selector("#policy input")
    yield pg
    context.close()


def pick(page, elem_id: str, option: str) -> None:
    """Choose an option of a Gradio dropdown by its visible label."""
    page.click(f"#{elem_id} input")
    page.get_by_role("option", name=option, exact=True).click()
    page.wait_for_timeout(300)  # let the change event settle before the next pick


def ask(page, question: str, turns: int) -> None:
    """Type a question, press Ask, and wait until the chat holds `turns` messages."""
    page.fill("#question textarea", question)
    page.click("#ask-btn")
    page.wait_for_function("n => document.querySelectorAll('#chat .message-row').length >= n", arg=turns)


def test_chat_cites_beside_the_answer_exports_and_escapes(page, tmp_path):
    pick(page, "policy", "x/privacy-policy")
    pick(page, "version", "2023-09-29")
    ask(page, QUESTION, 2)
    card = page.locator("#cards .cc-card", has_text="train our machine learning").first
    card.wait_for()
    assert "effective 2023-09-29" in card.inner_text() and card.locator("mark").count() == 1
    assert "extractive" in page.inner_text("#chat")
    page.screenshot(path=str(tmp_path / "chat.png"), full_page=True)
    (REPO / "docs").mkdir(exist_ok=True)
    if os.environ.get("CLAUSECITE_RECORD") == "1":  # refresh the README's picture only when asked
        shutil.copyfile(tmp_path / "chat.png", REPO / "docs" / "screenshot.png")

    page.get_by_label("csv").check()
    page.click("#export-btn")
    link = page.locator("#export-file a").first
    link.wait_for()
    with page.expect_download() as dl:
        link.click()
    exported = tmp_path / "answers.csv"
    dl.value.save_as(exported)
    assert "train our machine learning" in exported.read_text("utf-8")

    ask(page, HOSTILE, 4)
    page.wait_for_timeout(500)
    assert page.evaluate("typeof window.__x") == "undefined"
    assert "<b>hi</b>" in page.inner_text("#chat")  # shown as the text typed, not as markup
    assert page.locator("#chat b", has_text="hi").count() == 0
    page.screenshot(path=str(tmp_path / "hostile.png"), full_page=True)


def test_what_changed_shows_the_biometric_clause_as_added(page, tmp_path):
    pick(page, "policy", "x/privacy-policy")
    page.get_by_role("tab", name="What changed").click()
    pick(page, "old-version", "2023-05-18")
    pick(page, "new-version", "2023-09-29")
    page.click("#compare-btn")
    added = page.locator("#changes .cc-added", has_text="biometric information").first
    added.wait_for()
    assert added.locator("ins").count() >= 1
    assert "added" in page.inner_text("#changes .cc-counts")
    page.screenshot(path=str(tmp_path / "changes.png"), full_page=True)


def test_ask_api_matches_the_answerer(server, corpus_settings):
    from gradio_client import Client

    from qa.answer import Answerer

    got = Client(server, verbose=False).predict(QUESTION, "x/privacy-policy", "2023-09-29", "", api_name="/ask")
    want = Answerer(corpus_settings).ask(QUESTION, service="x", document="privacy-policy", version="2023-09-29")
    assert got["version"] == "2023-09-29" and got["support"] == "addressed" and not got["abstained"]
    texts = [c["text"] for c in got["citations"]]
    assert any("train our machine learning or artificial intelligence models" in t for t in texts), got["answer"]
    assert any("Direct Messages, including the contents of the messages" in t for t in texts), got["answer"]
    assert got["answer"] == want.text
    assert [c["clause_id"] for c in got["citations"]] == [c.clause_id for c in want.citations]
