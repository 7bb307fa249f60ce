"""The answer-state thresholds are chosen on training questions, weighing a hidden answer twice."""

from __future__ import annotations

import numpy as np
import pytest

from train.fit import choose_thresholds, states

pytestmark = pytest.mark.fast  # pure


def test_abstain_below_the_point_where_catching_gaps_stops_paying_for_hidden_answers():
    answerable = np.array([0.30, 0.55, 0.6, 0.7, 0.8, 0.9, 0.9, 0.95])
    unanswerable = np.array([0.1, 0.2, 0.25, 0.5, 0.65, 0.85])
    p = np.concatenate([answerable, unanswerable])
    y = np.array([1] * len(answerable) + [0] * len(unanswerable))
    t = choose_thresholds(p, y)
    # below 0.26 catches three gaps and hides nothing; reaching 0.5 would hide the answer at 0.30 for one more gap
    assert t["partly"] == 0.26 and t["addressed"] == 0.63
    got = states(p, y, t)
    assert got["abstain_correct"] == 0.5 and got["false_abstain"] == 0.0


def test_a_cheaper_false_abstention_moves_the_threshold_up():
    p = np.array([0.30, 0.6, 0.7, 0.9, 0.1, 0.4])
    y = np.array([1, 1, 1, 1, 0, 0])
    assert choose_thresholds(p, y)["partly"] == 0.11  # the second gap is not worth the answer at 0.30 (a tie)
    assert choose_thresholds(p, y, cost=0.5)["partly"] == 0.41
