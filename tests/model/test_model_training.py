"""A few optimisation steps reduce the loss; the full pretrain → finetune path works on tiny data."""

from __future__ import annotations

import json
import random

import torch

from model.batching import encode_all, pad
from model.nets import Classifier, LanguageModel
from model.train import Stage, TrainConfig, Trainer, stlr
from model.vocab import build_vocab
from tests.model.tiny_data import make_texts


def _setup(model_cls, lm: bool):
    torch.manual_seed(0)
    texts, labels = make_texts(64)
    vocab = build_vocab(texts, min_count=1)
    cfg = TrainConfig(lr=1e-2, lr_decay=1.0, batch_size=16, warmup=0.0, log_every=1000)
    model = model_cls(cfg.net(len(vocab)))
    seqs = encode_all(vocab, texts, lm=lm)
    y = [("negative", "neutral", "positive").index(label) for label in labels]
    return Trainer(cfg, model, random.Random(0)), seqs, y


def _loss(trainer, seqs, y):
    trainer.model.eval()
    ids, lengths = pad(seqs)
    with torch.no_grad():
        return float(trainer.loss(ids, lengths, None if y is None else torch.tensor(y), None))


def test_lm_steps_reduce_the_loss():
    trainer, seqs, _ = _setup(LanguageModel, lm=True)
    before = _loss(trainer, seqs, None)
    for _ in range(3):
        trainer.run_epoch(Stage(seqs, None, 1, "lm"), 1.0, 100, None, 1)
    assert _loss(trainer, seqs, None) < before - 0.3


def test_classifier_steps_reduce_the_loss():
    trainer, seqs, y = _setup(Classifier, lm=False)
    before = _loss(trainer, seqs, y)
    for _ in range(3):
        trainer.run_epoch(Stage(seqs, y, 1, "clf"), 1.0, 100, None, 1)
    assert _loss(trainer, seqs, y) < before - 0.2


def test_slanted_triangular_schedule():
    assert stlr(0, 100, 0.1) == 1 / 32
    assert stlr(10, 100, 0.1) == 1.0
    assert stlr(100, 100, 0.1) == 1 / 32
    assert stlr(5, 100, 0.1) < stlr(10, 100, 0.1) > stlr(50, 100, 0.1)


def test_pretrain_then_finetune_writes_complete_folders(tiny_lm, tiny_clf):
    for folder in (tiny_lm, tiny_clf):
        for name in ("weights.pt", "vocab.json", "config.json", "card.json", "card.md", "curves.csv",
                     "curves.png"):
            assert (folder / name).is_file(), name
    card = json.loads((tiny_clf / "card.json").read_text())
    assert card["task"] == "clf"
    assert card["metrics"]["val"]["avgrec"] > 0.8  # the cue words are easy
    assert card["reproduce"] == ["sentimon model pretrain --tiny", "sentimon model finetune --tiny"]
    assert set(card["calibration"]) == {"temperature", "bias", "decision"}
    assert (tiny_clf / "confusion-val.png").is_file()
    header = (tiny_clf / "curves.csv").read_text().splitlines()[0]
    assert "val_avgrec" in header and "train_loss" in header
