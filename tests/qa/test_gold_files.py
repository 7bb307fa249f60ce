"""ClauseCite's own held-out question sets stay true to the policies they quote."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ingest.pipeline import open_store
from qa.evaluate import load_gold, norm

GOLD = sorted((Path(__file__).resolve().parents[2] / "bench" / "questions").glob("*.yaml"))


@pytest.fixture(scope="module")
def store(corpus_settings):
    return open_store(corpus_settings)


@pytest.mark.parametrize("path", GOLD, ids=[p.name for p in GOLD])
def test_every_quote_is_verbatim_in_its_version_and_absent_where_said(store, path):
    raw = yaml.safe_load(path.read_text("utf-8"))
    items = load_gold(path)
    assert len(items) == len(raw) >= 30 and len({it.id for it in items}) == len(items)
    assert sum(not it.answerable for it in items) >= 10, "a held-out set needs unanswerable questions"
    for item, r in zip(items, raw, strict=True):
        assert item.answerable == bool(item.evidence), item.id
        for ev in r.get("evidence") or []:
            policy, _, version = ev["version"].partition("@")
            service, _, document = policy.partition("/")
            quote = norm(ev["quote"]).rstrip(".")
            assert quote in norm(store.clean_text(service, document, version)), (item.id, ev["quote"])
            for date in ev.get("absent_from") or []:
                assert date < version and quote not in norm(store.clean_text(service, document, str(date))), item.id
