"""The running app: bound to loopback by default, closed without a login, uploads refused server-side."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import gradio as gr
import httpx
import pytest

import app
from ingest.pipeline import open_store
from tests.helpers import REPO, SAMPLE
from tests.reliability.helpers import AUTH

pytestmark = pytest.mark.slow


def _listening(port: int) -> set[str]:
    """Local addresses with a socket listening on `port` (from /proc/net/tcp and tcp6)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not os.path.exists(table):
            continue
        for row in Path(table).read_text().splitlines()[1:]:
            local, state = row.split()[1], row.split()[3]
            addr, hexport = local.split(":")
            if state == "0A" and int(hexport, 16) == port:
                found.add(addr)
    return found


def test_binds_only_to_loopback_by_default(app_server):
    url, _, proc = app_server
    port = int(url.rsplit(":", 1)[1])
    assert _listening(port) == {"0100007F"}  # 127.0.0.1 only: not 0.0.0.0 (00000000) nor ::
    assert "--host" not in proc.args and "CLAUSECITE_HOST" not in os.environ


def _login(url: str, password: str = AUTH[1]) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=60)
    r = client.post("/login", data={"username": AUTH[0], "password": password})
    assert r.status_code == (200 if password == AUTH[1] else 400), r.text
    return client


CALL = {"data": ["Can I delete my data?", "chirp/privacy-policy", "", ""]}


def test_without_login_the_app_and_its_api_are_closed(app_server):
    url, _, _ = app_server
    with httpx.Client(base_url=url, timeout=60) as anon:
        page = anon.get("/")
        assert page.status_code == 200 and '"auth_required":true' in page.text
        assert '"components":[]' in page.text and "Ask what a privacy policy says" not in page.text
        assert "chirp/privacy-policy" not in page.text  # the login page names no indexed policy
        for path in ("/config", "/gradio_api/info", "/gradio_api/openapi.json"):
            assert anon.get(path).status_code == 401, path
        assert anon.post("/gradio_api/call/ask", json=CALL).status_code == 401
        assert anon.post("/gradio_api/upload", files={"files": ("p.md", b"hello")}).status_code == 401
    wrong = _login(url, password="guess")
    assert wrong.get("/config").status_code == 401


def test_with_login_the_app_and_its_api_work(app_server):
    url, _, _ = app_server
    client = _login(url)
    config = client.get("/config")
    assert config.status_code == 200 and "chirp/privacy-policy" in config.text
    assert "/ask" in client.get("/gradio_api/info").json()["named_endpoints"]
    event = client.post("/gradio_api/call/ask", json=CALL)
    assert event.status_code == 200, event.text
    stream = client.get(f"/gradio_api/call/ask/{event.json()['event_id']}").text
    assert "event: complete" in stream and "5.3 Deleting your account" in stream
    client.close()

    from gradio_client import Client

    answer = Client(url + "/", auth=AUTH, verbose=False).predict(
        "Can I delete my data?", "chirp/privacy-policy", "", "", api_name="/ask"
    )
    assert answer["version"] == "2025-02-01" and answer["citations"]


def test_oversized_upload_is_refused_by_the_server(app_server):
    url, _, _ = app_server
    client = _login(url)
    big = b"We collect your data. " * (10 * 1024 * 1024 // 22 + 10)
    r = client.post("/gradio_api/upload", files={"files": ("huge.md", big)})
    assert r.status_code == 413 and "maximum allowed size" in r.text
    ok = client.post("/gradio_api/upload", files={"files": ("small.md", b"We collect your data.")})
    assert ok.status_code == 200
    client.close()


@pytest.fixture()
def answerer(sample_template, tmp_path):
    from settings import Settings
    from tests.reliability.helpers import copy_index

    data = copy_index(sample_template, tmp_path / "data")
    return app.make_answerer(Settings.from_env(data_dir=data, chroma_url="", llm_base_url=""))


def test_upload_handler_refuses_executables_and_keeps_files_under_the_data_folder(answerer, tmp_path):
    settings = answerer.settings
    before = [v.key for v in open_store(settings).versions()]
    exe = tmp_path / "outside" / "setup.exe"
    exe.parent.mkdir()
    exe.write_bytes(b"MZ\x90\x00" + bytes(range(256)) * 8)
    with pytest.raises(gr.Error, match="unsupported file type .exe"):
        app.add_policy(answerer, str(exe), "acme", "privacy-policy", "2024-05-01")
    disguised = exe.with_name("policy.md")
    disguised.write_bytes(exe.read_bytes())
    with pytest.raises(gr.Error, match="looks like a binary file"):
        app.add_policy(answerer, str(disguised), "acme", "privacy-policy", "2024-05-01")
    with pytest.raises(gr.Error, match="not allowed"):
        app.add_policy(
            answerer,
            str(SAMPLE / "chirp" / "privacy-policy" / "2022-03-01.md"),
            "../../outside",
            "privacy-policy",
            "2024-05-01",
        )
    assert [v.key for v in open_store(settings).versions()] == before
    assert not list(settings.data_dir.glob("uploads/**/*.*"))  # refused uploads leave nothing behind
    assert sorted(p.name for p in exe.parent.iterdir()) == ["policy.md", "setup.exe"]

    message, name = app.add_policy(
        answerer, str(SAMPLE / "chirp" / "privacy-policy" / "2022-03-01.md"), "acme", "privacy-policy", "2024-05-01"
    )
    assert name == "acme/privacy-policy" and "1 version(s) indexed" in message
    info = open_store(settings).get_version("acme", "privacy-policy", "2024-05-01")
    stored = Path(info.source).resolve()
    assert settings.data_dir.resolve() in stored.parents and stored.parent.parent.name == "uploads"


def test_gradio_keeps_incoming_uploads_under_the_data_folder(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "GRADIO_TEMP_DIR"}
    env["CLAUSECITE_DATA"] = str(tmp_path / "data")
    # importing app changes nothing; the serving process puts Gradio's upload copies under the data folder
    code = (
        "import os; before = dict(os.environ); import app, gradio.utils as u; assert dict(os.environ) == before; "
        "from settings import Settings; app.prepare_process(Settings.from_env()); print(u.get_upload_folder())"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert Path(out.stdout.strip()).resolve().is_relative_to((tmp_path / "data").resolve())
