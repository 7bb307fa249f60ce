"""Keeping up in a real browser over a fresh app: the note on the sample corpus, the chat's label clear of
the first answer, a policy added by URL, a check before and after the page changes, the timeline, the feed."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
import xml.etree.ElementTree as ET

import pytest

from tests.app.test_browser import ARGS, CHROMIUM, WAIT, pick
from tests.helpers import REPO
from tests.servers import free_port, stop, wait_until_up
from tests.sites import Page, policy_html, start_site

pytestmark = pytest.mark.slow
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture(scope="module")
def site():
    site, server = start_site()
    site.set("/privacy", Page(policy_html()))
    yield site
    server.shutdown()


@pytest.fixture(scope="module")
def fresh_app(tmp_path_factory):
    """`python app.py` over an empty data folder: it indexes the sample corpus itself, as on a first start."""
    root = tmp_path_factory.mktemp("fresh")
    port, log = free_port(), root / "app.log"
    env = {**os.environ, "CLAUSECITE_DATA": str(root / "data"), "GRADIO_ANALYTICS_ENABLED": "False"}
    for name in ("CLAUSECITE_AUTH", "CLAUSECITE_CORPUS", "CLAUSECITE_HOST", "CLAUSECITE_ALLOW_PRIVATE_URLS"):
        env.pop(name, None)
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "app.py", "--port", str(port)], cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url + "/", proc, lambda: log.read_text(errors="replace"))
        yield url
    finally:
        stop(proc)


@pytest.fixture()
def page(fresh_app):
    if not CHROMIUM.exists():
        pytest.fail("install Debian's chromium: apt-get install chromium chromium-driver")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        pg = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        pg.set_default_timeout(WAIT)
        pg.goto(fresh_app + "/", wait_until="load")
        pg.wait_for_selector("#policy input")
        yield pg
        browser.close()


COVERING = """text => {
  // the first answer scrolled to the top of the chat: which positioned element with words covers its first line?
  const row = [...document.querySelectorAll('#chat .message-row')].find(r => r.textContent.includes(text));
  row.scrollIntoView({block: 'start'});
  const walker = document.createTreeWalker(row, NodeFilter.SHOW_TEXT, n => n.textContent.trim() ? 1 : 3);
  const node = walker.nextNode(), range = document.createRange();
  range.setStart(node, 0); range.setEnd(node, Math.min(8, node.length));
  const line = range.getClientRects()[0];
  return [...document.querySelectorAll('#chat *')].filter(e => {
    if (e.contains(row) || row.contains(e) || !e.textContent.trim()) return false;
    const st = getComputedStyle(e), r = e.getBoundingClientRect();
    return ['absolute', 'fixed', 'sticky'].includes(st.position) && st.visibility !== 'hidden' && r.width > 0
      && r.left < line.right && r.right > line.left && r.top < line.bottom && r.bottom > line.top;
  }).map(e => e.textContent.trim());
}"""


def test_the_fresh_start_names_the_sample_and_no_label_covers_the_first_answer(page, tmp_path):
    note = page.locator("#corpus-note")
    note.wait_for()
    assert "Indexed: the sample corpus" in note.inner_text() and "clausecite fetch" in note.inner_text()
    for n, question in enumerate(
        ["Do you use my posts to train AI?", "How long do you keep log data?", "Do you collect biometric information?"],
        start=1,
    ):
        page.fill("#question textarea", question)
        page.click("#ask-btn")
        page.wait_for_function(f"document.querySelectorAll('#chat .message-row').length >= {2 * n}")
    covering = page.evaluate(COVERING, "addresses this")  # the chat has scrolled: bring the first answer back up
    page.screenshot(path=str(tmp_path / "chat.png"), full_page=True)
    assert covering == []  # Gradio's floating "Conversation" label sat over it here
    label, chat = page.locator("#chat-label").bounding_box(), page.locator("#chat").bounding_box()
    assert label["y"] + label["height"] <= chat["y"] + 1


def test_add_by_url_check_and_the_timeline(page, site, fresh_app, tmp_path):
    page.get_by_role("tab", name="Add a policy").click()
    assert page.locator("#keep-up-note a", has_text="Atom feed").get_attribute("href") == "/changes.atom"
    page.fill("#url input, #url textarea", site.url + "/privacy")
    page.fill("#url-service input, #url-service textarea", "acme")
    page.click("#fetch-btn")
    page.wait_for_function("document.querySelector('#url-date input, #url-date textarea').value === '2024-01-10'")
    assert "as the page states it" in page.inner_text("#url-status")
    page.click("#url-add-btn")
    page.locator("#url-status", has_text="acme/privacy-policy@2024-01-10").wait_for()

    def checked(text: str) -> None:
        page.click("#check-btn")
        page.wait_for_function("t => (document.querySelector('#check-out textarea') || {}).value.includes(t)", arg=text)

    checked("acme/privacy-policy: unchanged (2024-01-10)")
    site.set("/privacy", Page(policy_html(changed=True, stamp="Effective: March 3, 2025")))
    checked("acme/privacy-policy: new version 2025-03-03: 2 added, 1 removed, 1 changed")

    page.get_by_role("tab", name="History").click()
    pick(page, "policy", "acme/privacy-policy")
    page.fill("#topic input, #topic textarea", "training AI models")
    page.get_by_role("button", name="Show history").click()
    marked = page.locator("#history tr.cc-marked")
    marked.wait_for()
    assert "added in 2025-03-03 (§2)" in marked.inner_text() and "artificial intelligence models" in marked.inner_text()
    assert "not addressed" in page.locator("#history tr", has_text="2024-01-10").inner_text()
    page.screenshot(path=str(tmp_path / "timeline.png"), full_page=True)

    with urllib.request.urlopen(fresh_app + "/changes.atom", timeout=10) as resp:
        assert resp.headers["Content-Type"].startswith("application/atom+xml")
        feed = ET.fromstring(resp.read())
    [entry] = feed.findall(f"{ATOM}entry")
    assert entry.find(f"{ATOM}title").text == "acme/privacy-policy: new version 2025-03-03"
