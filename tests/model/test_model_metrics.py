"""Metrics against values computed by hand."""

from __future__ import annotations

import pytest

from model.metrics import confusion, scores


def test_scores_match_hand_computation():
    gold = [0, 0, 0, 1, 1, 2, 2, 2, 2, 2]
    pred = [0, 1, 2, 1, 1, 2, 2, 0, 2, 1]
    m = scores(gold, pred)
    assert m["confusion"] == [[1, 1, 1], [0, 2, 0], [1, 1, 3]]
    # recalls: neg 1/3, neu 2/2, pos 3/5
    assert m["avgrec"] == pytest.approx((1 / 3 + 1 + 3 / 5) / 3)
    # neg: P=1/2 R=1/3 F1=0.4; pos: P=3/4 R=3/5 F1=2/3
    assert m["per_class"]["negative"]["f1"] == pytest.approx(0.4)
    assert m["per_class"]["positive"]["f1"] == pytest.approx(2 / 3)
    assert m["f1pn"] == pytest.approx((0.4 + 2 / 3) / 2)
    assert m["acc"] == pytest.approx(6 / 10)
    assert m["n"] == 10
    assert m["per_class"]["neutral"]["precision"] == pytest.approx(0.5)


def test_degenerate_predictions_do_not_divide_by_zero():
    m = scores([0, 1, 2], [1, 1, 1])
    assert m["avgrec"] == pytest.approx(1 / 3)
    assert m["f1pn"] == 0.0


def test_length_mismatch_is_refused():
    with pytest.raises(ValueError):
        confusion([0, 1], [0])
