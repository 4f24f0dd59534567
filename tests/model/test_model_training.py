"""A few optimisation steps reduce the loss; the full pretrain → finetune path works on tiny data."""

from __future__ import annotations

import json
import random

import pytest
import torch

from model.batching import encode_all, pad
from model.nets import LanguageModel, SentimentNet
from model.train import Stage, TrainConfig, Trainer, plan, stlr
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
    trainer, seqs, y = _setup(SentimentNet, lm=False)
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
        for name in (
            "weights.pt",
            "vocab.json",
            "config.json",
            "card.json",
            "card.md",
            "curves.csv",
            "curves.png",
        ):
            assert (folder / name).is_file(), name
    card = json.loads((tiny_clf / "card.json").read_text())
    assert card["task"] == "clf"
    assert card["metrics"]["val"]["avgrec"] > 0.8  # the cue words are easy
    assert card["reproduce"] == ["sentimon model pretrain --tiny", "sentimon model finetune --tiny"]
    assert set(card["calibration"]) == {"temperature", "bias", "decision"}
    assert (tiny_clf / "confusion-val.png").is_file()
    header = (tiny_clf / "curves.csv").read_text().splitlines()[0]
    assert "val_avgrec" in header and "train_loss" in header


def test_unfreezing_plan_opens_one_group_per_epoch():
    clf = Stage([[1]], [0], 3, "clf")
    assert [(f, g) for _, f, g in plan([clf], 3, True)] == [(1.0, 1), (1.0, 2), (1.0, 3)]
    assert [(f, g) for _, f, g in plan([clf], 3, False)] == [(1.0, 3)] * 3
    half = Stage([[1]], [0], 1.5, "clf")
    assert [f for _, f, _ in plan([half], 3, False)] == [1.0, 0.5]


def test_distant_stage_unfreezes_within_its_first_epoch():
    distant, clf = Stage([[1]], [0], 1, "distant"), Stage([[1]], [0], 2, "clf")
    runs = plan([distant, clf], 3, True)
    assert [(s.name, round(f, 3), g) for s, f, g in runs] == [
        ("distant", 0.333, 1),
        ("distant", 0.333, 2),
        ("distant", 0.333, 3),
        ("clf", 1.0, 3),
        ("clf", 1.0, 3),
    ]


def test_distilled_student_is_smaller_and_learns_the_teacher(tiny_clf, data_dir, tmp_path):
    from model.distill import distill
    from model.inference import load

    cfg = TrainConfig(
        data_dir=str(data_dir),
        out=str(tmp_path / "student"),
        hidden=12,
        epochs=3,
        lr=2e-2,
        batch_size=16,
        threads=1,
        gradual_unfreeze=False,
        class_weights=False,
        patience=3,
        lr_decay=1.0,
    )
    folder = distill(cfg, tiny_clf, n_unlabelled=100, command="sentimon model distill --tiny")
    student, teacher = load(folder, int8=False), load(tiny_clf, int8=False)
    assert student.net.cfg.hidden == 12 < teacher.net.cfg.hidden
    assert json.loads((folder / "card.json").read_text())["metrics"]["val"]["avgrec"] > 0.6
    texts = ["love great happy", "hate awful sad", "meeting report schedule"]
    assert [x[0] for x in student.classify(texts)] == [x[0] for x in teacher.classify(texts)]


def test_frozen_embedding_stays_unchanged():
    from model.train import fit

    trainer, seqs, y = _setup(SentimentNet, lm=False)
    trainer.cfg.freeze_embedding = True
    before = trainer.model.encoder.embedding.weight.detach().clone()
    head_before = trainer.model.head.weight.detach().clone()
    fit(trainer, [Stage(seqs, y, 3, "clf")], lambda: {"score": 0.0}, None, unfreeze=True)
    assert torch.equal(trainer.model.encoder.embedding.weight, before)
    assert not torch.equal(trainer.model.head.weight, head_before)


def test_ensemble_distillation_into_a_same_size_student(tiny_clf, data_dir, tmp_path):
    from model.distill import distill
    from model.inference import load

    cfg = TrainConfig(
        data_dir=str(data_dir),
        out=str(tmp_path / "same"),
        hidden=24,
        emb_dim=16,
        epochs=1,
        lr=1e-3,
        batch_size=16,
        threads=1,
        gradual_unfreeze=False,
        class_weights=False,
        lr_decay=1.0,
        init_from=str(tiny_clf),
    )
    folder = distill(cfg, [tiny_clf, tiny_clf], n_unlabelled=50)
    card = json.loads((folder / "card.json").read_text())
    assert len(card["data"]["distilled_from"]["teachers"]) == 2
    assert "sentimon model finetune --tiny" in card["reproduce"], "the starting point's history is kept"
    texts = ["love great happy", "hate awful sad", "meeting report schedule"]
    assert [x[0] for x in load(folder).classify(texts)] == [x[0] for x in load(tiny_clf).classify(texts)]


def test_held_out_training_files_stay_out_of_the_student_and_feed_its_correction_statistics(
    tiny_clf, data_dir, tmp_path
):
    """A student never learns from the files it holds out; calibrate fits its quantification
    statistics on validation plus those files."""
    import random

    from model.distill import distill, held_out_texts, student_texts
    from model.recalibrate import recalibrate
    from model.registry import ModelError

    base = {"data_dir": str(data_dir), "epochs": 1, "lr": 1e-3, "batch_size": 16, "threads": 1, "hidden": 24}
    cfg = TrainConfig(**base, out=str(tmp_path / "held"), init_from=str(tiny_clf),
                      hold_out=["twitter-2013test-A.tsv"])  # fmt: skip
    held = set(held_out_texts(cfg)[0])
    everything = student_texts(cfg, random.Random(cfg.seed), 50)
    folder = distill(cfg, [tiny_clf], n_unlabelled=50)
    card = json.loads((folder / "card.json").read_text())
    assert card["data"]["distilled_from"]["held_out"] == ["twitter-2013test-A.tsv"]
    assert card["data"]["distilled_from"]["texts"] == sum(t not in held for t in everything) < len(everything)
    out = recalibrate(folder, data_dir)
    assert out["quantification"]["source"] == "validation (dev+devtest) + held-out twitter-2013test-A"
    collections = out["quantification"]["collections"]
    assert list(collections) == ["twitter-2016dev-A", "twitter-2016devtest-A", "twitter-2013test-A"]
    assert sum(collections.values()) == out["quantification"]["n"]
    with pytest.raises(ModelError, match="no SemEval training file"):
        held_out_texts(TrainConfig(**base, hold_out=["twitter-2016test-A.tsv"]))


def test_a_student_can_take_only_the_word_vectors_of_its_starting_classifier(tiny_clf):
    """init_encoder=false: the starting classifier saw the held-out files, so its encoder and head
    must not carry them into the student; its vocabulary and word vectors still do."""
    from model.distill import _init_student
    from model.inference import load

    teacher = load(tiny_clf, int8=False)
    source = teacher.net.state_dict()

    def started(encoder: bool) -> dict[str, torch.Tensor]:
        torch.manual_seed(0)
        student = SentimentNet(teacher.net.cfg)
        _init_student(student, teacher, str(tiny_clf), encoder=encoder)
        return student.state_dict()

    vectors = "encoder.embedding.weight"
    for encoder in (True, False):
        weights = started(encoder)
        assert torch.equal(weights[vectors], source[vectors])
        reused = [k for k in source if k != vectors and torch.equal(weights[k], source[k])]
        trained = [k for k in source if k.startswith(("encoder.", "head.")) and k != vectors]
        assert (set(trained) <= set(reused)) if encoder else not (set(trained) & set(reused)), encoder


def test_a_split_can_leave_named_files_out(data_dir):
    from model.data import DataError, semeval_split

    whole, _ = semeval_split(data_dir, "train")
    held = "twitter-2013test-A.tsv"
    left, _ = semeval_split(data_dir, "train", exclude=[held])
    assert 0 < len(left) < len(whole)
    with pytest.raises(DataError, match="no train file"):
        semeval_split(data_dir, "train", exclude=["twitter-2016test-A.tsv"])
