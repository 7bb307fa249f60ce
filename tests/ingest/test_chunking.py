"""Chunking on the real policies of ../shared/corpora: offsets, sections, stable ids, content hashes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ingest.chunking import DuplicatePolicyError, chunk
from ingest.loaders import load_clean
from ingest.records import PolicyVersion, normalise_for_hash
from tests.helpers import CORPORA, MESSY

ML_SENTENCE = "help train our machine learning or artificial intelligence models"
_HEADING_LINE = re.compile(r"^(#{1,6}) (.+)$", re.MULTILINE)


def read(path: Path) -> PolicyVersion:
    """A corpus file as a PolicyVersion, named by its place in the layout."""
    return PolicyVersion(path.parts[-3], path.parts[-2], path.stem, load_clean(path), source=str(path))


@pytest.fixture(scope="module")
def versions() -> dict[str, PolicyVersion]:
    """Every version of every service in the shared corpus, by `service/document@date`."""
    found = {v.key: v for v in map(read, sorted(CORPORA.glob("*/*/*.md")))}
    assert len(found) == 20, sorted(found)
    return found


@pytest.fixture(scope="module")
def chunked(versions) -> dict[str, list]:
    """The clauses of every version."""
    return {key: chunk(v) for key, v in versions.items()}


def x_keys(versions) -> list[str]:
    """The six X versions, oldest first."""
    return sorted(k for k in versions if k.startswith("x/privacy-policy@"))


def headings_before(text: str, pos: int) -> tuple[str, ...]:
    """The heading chain in force at `pos`: each heading closes the ones at its level or deeper."""
    stack: list[tuple[int, str]] = []
    for m in _HEADING_LINE.finditer(text, 0, pos):
        level = len(m.group(1))
        stack = [h for h in stack if h[0] < level] + [(level, m.group(2).strip())]
    return tuple(h for _, h in stack)


def test_every_clause_is_a_verbatim_slice_of_the_clean_text(versions, chunked):
    for key, clauses in chunked.items():
        text = versions[key].text
        assert clauses, f"{key} gave no clauses"
        for c in clauses:
            assert text[c.char_start : c.char_end] == c.text, (key, c.ordinal)
            assert c.version_key == key


def test_no_clause_crosses_a_section(versions, chunked):
    for key, clauses in chunked.items():
        text = versions[key].text
        for c in clauses:
            assert "\n\n" not in c.text and "\n#" not in c.text, (key, c.ordinal, c.text[:80])
            assert c.heading_path == headings_before(text, c.char_start), (key, c.ordinal)
            assert all(part in c.heading_path for part in c.section.split(" › ") if c.section)


def test_ordinals_count_up_in_text_order(chunked):
    for key, clauses in chunked.items():
        assert [c.ordinal for c in clauses] == list(range(len(clauses))), key
        starts = [c.char_start for c in clauses]
        assert starts == sorted(starts), key


def test_x_ai_training_sentence_sits_in_section_2_1(chunked):
    hits = [c for c in chunked["x/privacy-policy@2023-09-29"] if ML_SENTENCE in c.text]
    assert len(hits) == 1
    clause = hits[0]
    assert clause.section.startswith("2.1")
    assert "2. How We Use Information" in clause.heading_path
    assert clause.heading_path[-1] == clause.section


def test_x_ai_training_sentence_is_absent_before_september_2023(chunked):
    assert not [c for c in chunked["x/privacy-policy@2023-05-18"] if ML_SENTENCE in c.text]
    assert not [c for c in chunked["x/privacy-policy@2023-05-18"] if "artificial intelligence" in c.text]


def test_chunking_twice_gives_the_same_ids(versions, chunked):
    for key in x_keys(versions) + ["meta/privacy-policy-eu@2024-06-26"]:
        again = chunk(versions[key])
        assert [c.clause_id for c in again] == [c.clause_id for c in chunked[key]]
    all_ids = [c.clause_id for clauses in chunked.values() for c in clauses]
    assert len(all_ids) == len(set(all_ids))


def test_unchanged_clause_keeps_its_content_hash_across_x_versions(versions, chunked):
    keys = x_keys(versions)
    by_hash = [{c.content_hash: c for c in chunked[k]} for k in keys]
    shared = set.intersection(*(set(h) for h in by_hash))
    assert len(shared) >= 20, "many X clauses stayed word for word the same from 2022 to 2026"
    for h in shared:
        texts = {normalise_for_hash(clauses[h].text) for clauses in by_hash}
        ids = {clauses[h].clause_id for clauses in by_hash}
        assert len(texts) == 1 and len(ids) == len(keys)
    # the 2.1 clause changed in September 2023, so its hash changed with it
    before = {c.content_hash for c in chunked[keys[1]] if c.section.startswith("2.1")}
    after = {c.content_hash for c in chunked[keys[2]] if c.section.startswith("2.1")}
    assert before and after and before != after


def test_no_clause_is_only_a_heading_or_teaser(versions, chunked):
    for key, clauses in chunked.items():
        heads = {normalise_for_hash(h).rstrip(".:") for _, h in _HEADING_LINE.findall(versions[key].text)}
        for c in clauses:
            assert normalise_for_hash(c.text).rstrip(".:") not in heads, (key, c.text)
    # X's "at least know this" teasers and Zoom's bold clause titles are headings, not clauses
    for key in x_keys(versions):
        assert not [c for c in chunked[key] if normalise_for_hash(c.text) == "we collect some data about you"]
    zoom = chunked["zoom/terms-of-service@2023-08-07"]
    definition = [c for c in zoom if c.section == "17.1 Definition"]
    assert definition and all(len(c.text.split()) > 10 for c in definition)


def test_clauses_over_the_limit_are_single_sentences(chunked):
    for key, clauses in chunked.items():
        for c in clauses:
            if len(c.text) > 1200:
                inner = re.findall(r"[.!?]\s+[A-Z]", c.text)
                assert len(inner) <= 1, (key, c.ordinal, len(c.text))


@pytest.mark.fast
def test_long_paragraph_splits_into_sentence_groups_under_the_limit():
    sentences = [
        f"Sentence {i} says that we keep record number {i} for as long as the law requires it." for i in range(60)
    ]
    text = "# Policy\n\n## 4. Retention\n\n" + " ".join(sentences) + "\n\n- A short bullet about deletion requests.\n"
    version = PolicyVersion("demo", "privacy-policy", "2024-01-01", text)
    clauses = chunk(version, max_chars=400)
    paragraph = [c for c in clauses if c.kind == "paragraph"]
    assert len(paragraph) >= len(" ".join(sentences)) // 400
    assert all(len(c.text) <= 400 for c in paragraph)
    assert " ".join(c.text for c in paragraph) == " ".join(sentences)
    assert all(c.section == "4. Retention" and text[c.char_start : c.char_end] == c.text for c in clauses)
    assert clauses[-1].kind == "bullet" and clauses[-1].text == "A short bullet about deletion requests."


def test_a_capture_of_two_policies_is_refused_with_how_to_split():
    text = load_clean(MESSY / "two-policies-in-one-capture.md")
    version = PolicyVersion("x", "privacy-policy", "2023-09-22", text, source="two-policies.md")
    with pytest.raises(DuplicatePolicyError) as err:
        chunk(version)
    message = str(err.value)
    assert "two-policies.md" in message and "two policies" in message
    assert "split it into one file per policy" in message and "effective date" in message


def test_meta_versions_are_not_taken_for_two_policies(versions, chunked):
    meta = [k for k in versions if k.startswith("meta/")]
    assert len(meta) == 3
    assert all(len(chunked[k]) > 300 for k in meta)
