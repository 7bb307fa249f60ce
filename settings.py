"""One Settings object for ClauseCite: where state lives, which model, how many clauses, which backends.

Nothing happens at import: the environment is read when `Settings.from_env()` is called, and a bad
value is a one-line `SettingsError` naming the variable.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ingest.errors import ClauseCiteError

ROOT = Path(__file__).resolve().parent


class SettingsError(ClauseCiteError, ValueError):
    """A CLAUSECITE_* variable (or other configuration) that cannot be used; the message names it."""


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_int(name: str, default: int, least: int = 1) -> int:
    """A whole-number environment variable, or a SettingsError naming it."""
    raw = _env(name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a whole number; set it to one (default {default})") from None
    if value < least:
        raise SettingsError(f"{name}={value} is too small; set it to {least} or more (default {default})")
    return value


@dataclass(frozen=True)
class Settings:
    """Everything a run needs to know; build with `Settings.from_env()` and pass it in explicitly."""

    data_dir: Path = field(default_factory=lambda: ROOT / "data")
    chroma_url: str = ""
    embedding_model: str = "clausecite-minilm"  # models/: MiniLM fine-tuned on ClauseCite's own questions
    models_dir: Path = field(default_factory=lambda: ROOT / "models")
    chunk_recipe: str = "clauses-v5"
    max_clause_chars: int = 1200
    k: int = 6
    candidates: int = 32
    llm_base_url: str = ""
    llm_model: str = ""
    llm_api_key: str = ""
    max_upload_bytes: int = 10 * 1024 * 1024
    max_question_chars: int = 2000
    default_corpus: Path = field(default_factory=lambda: ROOT / "corpora" / "sample")
    host: str = "127.0.0.1"  # where the app listens: beyond loopback, URL fetching refuses private addresses
    allow_private_urls: str = ""  # "1" allows every address; or networks to allow, e.g. "10.0.0.0/8"
    fetch_timeout: float = 30.0

    @classmethod
    def from_env(cls, **overrides: Any) -> Settings:
        """Settings from CLAUSECITE_* environment variables, then explicit overrides."""
        base = cls()
        env: dict[str, Any] = {
            "data_dir": Path(_env("CLAUSECITE_DATA")) if _env("CLAUSECITE_DATA") else base.data_dir,
            "chroma_url": _env("CLAUSECITE_CHROMA_URL"),
            "k": env_int("CLAUSECITE_K", base.k),
            "llm_base_url": _env("CLAUSECITE_LLM_URL"),
            "llm_model": _env("CLAUSECITE_LLM_MODEL"),
            "llm_api_key": _env("CLAUSECITE_LLM_API_KEY"),
            "host": _env("CLAUSECITE_HOST", base.host),
            "allow_private_urls": _env("CLAUSECITE_ALLOW_PRIVATE_URLS"),
        }
        if _env("CLAUSECITE_CORPUS"):
            env["default_corpus"] = Path(_env("CLAUSECITE_CORPUS"))
        return replace(base, **{**env, **overrides})

    @property
    def collection_name(self) -> str:
        """Chroma collection named after the model (with a digest of fine-tuned weights) and the chunking
        recipe, so vectors of two models, or of one model before and after `make model`, never mix."""
        from ingest.embedder import model_label  # settings load before any model code

        return f"clauses--{model_label(self.embedding_model).lower()}--{self.chunk_recipe}"

    @property
    def llm_enabled(self) -> bool:
        """True when an OpenAI-compatible endpoint is configured."""
        return bool(self.llm_base_url)
