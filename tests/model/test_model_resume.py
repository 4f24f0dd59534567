"""A training run cut off mid-way continues from its checkpoint exactly as if it had never stopped."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from model.nets import SentimentNet
from model.train import CHECKPOINT, Stage, TrainConfig, Trainer, fit, seed_everything
from tests.model.tiny_data import TINY


class Cut(Exception):
    pass


def _run(out: Path, resume: bool = False, cut_at: int | None = None) -> tuple[SentimentNet, list[int]]:
    cfg = TrainConfig(out=str(out), epochs=3, patience=9, resume=resume, **{**TINY, "vocab_size": 40})
    rng = seed_everything(0, 1)
    net = SentimentNet(cfg.net(40))
    data = torch.Generator().manual_seed(1)
    seqs = [torch.randint(4, 40, (int(n),), generator=data).tolist() for n in torch.randint(3, 12, (96,))]
    labels = [s[0] % 3 for s in seqs]
    calls: list[int] = []

    def evaluate() -> dict:
        calls.append(len(calls))
        if cut_at is not None and len(calls) == cut_at:
            raise Cut
        return {"score": len(calls) % 2 + float(net.head.weight.detach().sum())}  # the same in both runs

    if resume:
        torch.manual_seed(123)  # a fresh process would not share the first run's generator state
    fit(Trainer(cfg, net, rng), [Stage(seqs, labels, 3.0, "clf")], evaluate, None, unfreeze=False)
    return net, calls


def test_a_cut_run_resumes_where_it_stopped_and_ends_where_an_uncut_run_ends(tmp_path: Path) -> None:
    whole, whole_calls = _run(tmp_path / "whole")
    with pytest.raises(Cut):
        _run(tmp_path / "cut", cut_at=3)
    assert (tmp_path / "cut" / CHECKPOINT).exists()
    resumed, resumed_calls = _run(tmp_path / "cut", resume=True)
    assert len(whole_calls) == 3 and len(resumed_calls) == 1, "steps 1 and 2 are not trained again"
    assert not (tmp_path / "cut" / CHECKPOINT).exists()
    for (name, a), (_, b) in zip(whole.state_dict().items(), resumed.state_dict().items(), strict=True):
        assert torch.equal(a, b), name
