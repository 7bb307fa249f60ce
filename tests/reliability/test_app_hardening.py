"""The app's remaining holes: policy lists stale after an upload, tracebacks from API input, unlimited guessing.

Policies added through "Add a policy" vanished from the list on reload (the lists were read once, at
start); an API call with a number for the question logged a traceback and said only "Error"; wrong
passwords could be tried 200 times in 2 s.
"""

from __future__ import annotations

import time

import gradio as gr
import httpx
import pytest

import app
from settings import Settings
from tests.helpers import SAMPLE
from tests.reliability.helpers import AUTH, copy_index


@pytest.fixture()
def answerer(sample_template, tmp_path):
    data = copy_index(sample_template, tmp_path / "data")
    return app.make_answerer(Settings.from_env(data_dir=data, chroma_url="", llm_base_url=""))


def _on_page_load(demo: gr.Blocks):
    """The function the page runs each time a browser loads it."""
    return next(f.fn for f in demo.fns.values() if any(event == "load" for _, event in f.targets))


def test_a_policy_added_in_the_app_is_listed_when_any_page_loads(answerer):
    demo = app.build_app(answerer.settings, answerer)  # built before the upload, as a running app is
    app.add_policy(
        answerer, str(SAMPLE / "chirp" / "privacy-policy" / "2022-03-01.md"), "acme", "privacy-policy", "2024-05-01"
    )
    policy, version, old, new = _on_page_load(demo)()
    assert "acme/privacy-policy" in policy.constructor_args["choices"]


@pytest.mark.parametrize(
    "call",
    [
        lambda a: app.ask_api(a, 42, "chirp/privacy-policy"),
        lambda a: app.ask_api(a, "Can I delete my data?", ["chirp/privacy-policy"]),
        lambda a: app.ask_api(a, "Can I delete my data?", "chirp/privacy-policy", 2025),
        lambda a: app.compare_html(a, "chirp/privacy-policy", 2022, "2025-02-01"),
        lambda a: app.history_html(a, "chirp/privacy-policy", 7),
    ],
    ids=["question", "policy", "version", "compare", "history"],
)
def test_api_input_that_is_not_text_is_refused_with_a_message(call, answerer):
    with pytest.raises(gr.Error, match=r"must be text, not (int|list)"):
        call(answerer)


@pytest.mark.slow
def test_repeated_wrong_passwords_are_slowed_down(app_server):
    url = app_server[0]
    with httpx.Client(base_url=url, timeout=60) as client:
        t0 = time.perf_counter()
        for _ in range(4):  # waits 0 + 0.5 + 1 + 2 s: the old app answered 200 guesses in 2 s
            assert client.post("/login", data={"username": AUTH[0], "password": "guess"}).status_code == 400
        guessing = time.perf_counter() - t0
        t0 = time.perf_counter()
        assert client.post("/login", data={"username": AUTH[0], "password": AUTH[1]}).status_code == 200
        waited = time.perf_counter() - t0
        t0 = time.perf_counter()
        assert client.post("/login", data={"username": AUTH[0], "password": AUTH[1]}).status_code == 200
        again = time.perf_counter() - t0
    assert guessing >= 3.3, guessing
    assert waited >= 3.5 and again < 1, (waited, again)  # the right password waits its turn, then resets
