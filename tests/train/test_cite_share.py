"""The citing share is the largest that finds as much evidence as any lower one: citing less only where it
loses no evidence clause, so a question with its evidence in two clauses keeps both."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from train.fit import choose_share

pytestmark = pytest.mark.fast  # pure: no model, no index


def row(lengths: list[int], evidence: list[int], answerable: bool = True) -> dict:
    y = np.zeros(len(lengths))
    y[evidence] = 1.0
    cands = [SimpleNamespace(clause=SimpleNamespace(text="x" * n)) for n in lengths]
    return {"example": SimpleNamespace(answerable=answerable), "cands": cands, "y": y}


def test_a_second_evidence_clause_scored_low_keeps_the_share_below_its_score():
    rows = [row([200, 200, 200], [0, 2]), row([200, 200], [0])]
    probs = [np.array([0.9, 0.5, 0.03]), np.array([0.8, 0.7])]  # the second evidence clause is 1/30 of the best
    share = choose_share(rows, probs)
    assert share <= 0.03 / 0.9


def test_when_nothing_scored_low_is_evidence_the_share_rises_and_cites_less():
    rows = [row([200, 200, 200], [0]), row([200, 200], [1])]
    probs = [np.array([0.9, 0.05, 0.01]), np.array([0.8, 0.75])]
    share = choose_share(rows, probs)
    assert 0.05 / 0.9 < share <= 0.75 / 0.8
