"""Metrics against values computed by hand."""

from __future__ import annotations

import pytest
import torch

from model.calibrate import prior_decision
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


def test_prior_decision_divides_out_the_class_shares():
    """Shares 1/8, 1/2, 3/8 -> offsets log(0.5/share) with neutral at 0: a text the calibrated model
    gives 20% negative, 50% neutral, 30% positive is labelled negative (0.2/0.125 is the largest)."""
    labels = torch.tensor([0] * 2 + [1] * 8 + [2] * 6)
    offsets = prior_decision(labels)
    assert offsets == pytest.approx(
        [torch.log(torch.tensor(4.0)).item(), 0.0, torch.log(torch.tensor(4 / 3)).item()]
    )
    log_probs = torch.tensor([0.2, 0.5, 0.3]).log()
    assert int((log_probs + torch.tensor(offsets)).argmax()) == 0
    assert prior_decision(torch.tensor([1, 1, 2]))[0] > 0  # an absent class does not divide by zero
