"""Citing: a second evidence clause scored far below the first is still cited, and make model reports what
each citing share finds and costs on split B."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from qa.rank import CITE_SHARE, select
from train.fit import share_curve

pytestmark = pytest.mark.fast  # pure: no model, no index


def row(lengths: list[int], evidence: list[int]) -> dict:
    y = np.zeros(len(lengths))
    y[evidence] = 1.0
    cands = [SimpleNamespace(clause=SimpleNamespace(text="x" * n)) for n in lengths]
    return {"example": SimpleNamespace(answerable=True), "cands": cands, "y": y}


def test_a_second_evidence_clause_at_a_thirtieth_of_the_best_is_cited():
    # "Will my DMs train AI?": the AI-training clause first, the DMs clause far below it
    assert select([0.81, 0.08, 0.04, 0.029], [574, 255, 119, 259], CITE_SHARE) == [0, 1, 2, 3]


def test_a_clause_under_a_fiftieth_of_the_best_or_over_the_budget_is_not():
    assert select([0.9, 0.01], [100, 100], CITE_SHARE) == [0]
    assert select([0.9, 0.5, 0.4], [1000, 600, 400], CITE_SHARE) == [0, 2]


def test_the_share_curve_shows_what_a_higher_share_drops_and_what_a_lower_one_costs():
    rows = [row([200, 200, 300], [0, 2]), row([200, 200], [0])]
    probs = [np.array([0.9, 0.5, 0.03]), np.array([0.8, 0.7])]
    curve = share_curve(rows, probs)
    assert curve["0.02"] == {"evidence found": 1.0, "cited chars": 550}
    assert curve["0.05"] == {"evidence found": 0.75, "cited chars": 400}
    assert curve["0.0"]["evidence found"] >= curve["0.02"]["evidence found"] >= curve["0.2"]["evidence found"]
