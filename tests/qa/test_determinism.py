"""The extractive answer is deterministic: ties in the ranking never follow set or hash order."""
from __future__ import annotations

import numpy as np

from ingest.records import Clause
from qa.retrieve import Retriever, _VersionIndex


def _index(n: int) -> _VersionIndex:
    clauses = [Clause(f"c{i}", "acme", "privacy-policy", "2024-01-01", "1. Data", ("1. Data",), i, f"text {i}", 0, 6,
                      f"h{i}") for i in range(n)]
    vectors = np.ones((n, 4), np.float32) / 2.0  # one section: every heading scores the same
    return _VersionIndex(clauses, {c.clause_id: i for i, c in enumerate(clauses)}, None, vectors)


def test_section_ranking_breaks_ties_in_document_order():
    # Python salts str hashes per process, so a set of clause ids iterates in a different order in
    # every run; the ranking must come out the same whatever order the candidates arrive in
    idx, vector = _index(6), np.ones(4, np.float32) / 2.0
    forward = Retriever._by_section(vector, idx, [f"c{i}" for i in range(6)], {})
    backward = Retriever._by_section(vector, idx, [f"c{i}" for i in reversed(range(6))], {})
    assert forward == backward == [f"c{i}" for i in range(6)]


def test_dense_score_still_orders_within_a_section():
    idx, vector = _index(3), np.ones(4, np.float32) / 2.0
    assert Retriever._by_section(vector, idx, ["c0", "c1", "c2"], {"c2": 0.9, "c1": 0.5}) == ["c2", "c1", "c0"]
