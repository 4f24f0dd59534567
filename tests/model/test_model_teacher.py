"""Distillation from a transformer teacher: its cached probabilities join the ensemble, forum comments
join the transfer texts, and a student always gets an RNN's vocabulary (no `teacher` extra needed)."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import pytest
import torch

from model.distill import is_transformer, soft_targets, student_texts
from model.registry import ModelError
from model.teacher import chunk_cache
from model.train import TrainConfig


def _fake_teacher(folder, texts, probs):
    """A teacher folder whose probabilities for ``texts`` are already cached (as a real run leaves it)."""
    folder.mkdir()
    (folder / "teacher.json").write_text(json.dumps({"config": {"max_len": 64, "dropout": 0.1}}))
    cache = chunk_cache(folder, texts)
    cache.parent.mkdir()
    torch.save(torch.tensor(probs), cache)
    return folder


def test_a_transformer_teacher_is_averaged_with_an_rnn_teacher(tiny_clf, tmp_path):
    from model.inference import load

    texts = ["love great happy", "hate awful sad"]
    teacher = _fake_teacher(tmp_path / "t", texts, [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    assert is_transformer(teacher) and not is_transformer(tiny_clf)
    rnn = soft_targets([tiny_clf], texts)
    mixed = soft_targets([tiny_clf, teacher], texts)
    expected = (torch.tensor(rnn) + torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])) / 2
    assert torch.allclose(torch.tensor(mixed), expected, atol=1e-6)
    assert load(tiny_clf).classify(texts)  # the RNN teacher itself is untouched


def test_forum_comments_join_the_transfer_texts(data_dir, tmp_path):
    data_dir = Path(shutil.copytree(data_dir, tmp_path / "data"))  # the session's folder stays as it is
    forum = data_dir / "unlabeled-forum"
    forum.mkdir()
    (forum / "reddit_comments.txt").write_text("a forum comment one\nanother forum comment\n")
    cfg = TrainConfig(data_dir=str(data_dir))
    without = student_texts(cfg, random.Random(0), 10)
    with_forum = student_texts(cfg, random.Random(0), 10, n_forum=2)
    assert len(with_forum) == len(without) + 2
    assert {"a forum comment one", "another forum comment"} <= set(with_forum)


def test_distillation_refuses_a_transformer_only_ensemble(tmp_path, data_dir):
    from model.distill import distill

    teacher = _fake_teacher(tmp_path / "t", ["x"], [[0.2, 0.5, 0.3]])
    with pytest.raises(ModelError, match="RNN teacher or --init-from"):
        distill(TrainConfig(data_dir=str(data_dir), out=str(tmp_path / "s")), [teacher], n_unlabelled=5)


def test_teacher_labels_are_cached_slice_by_slice(tmp_path, monkeypatch):
    """A cut-off labelling run keeps the slices it finished; the next run reads them back in order."""
    import model.teacher as teacher

    monkeypatch.setattr(teacher, "CHUNK", 2)
    texts = ["a", "b", "c"]
    folder = tmp_path / "t"
    folder.mkdir()
    (folder / "probs").mkdir()
    torch.save(torch.tensor([[1.0, 0, 0], [0, 1.0, 0]]), teacher.chunk_cache(folder, ["a", "b"]))
    torch.save(torch.tensor([[0, 0, 1.0]]), teacher.chunk_cache(folder, ["c"]))
    probs = teacher.teacher_probs(folder, texts)
    assert probs.argmax(dim=1).tolist() == [0, 1, 2]


def test_language_model_pretraining_can_read_the_forum_comments(data_dir, tmp_path):
    from model.data import pretrain_texts

    data_dir = Path(shutil.copytree(data_dir, tmp_path / "data"))
    (data_dir / "unlabeled-forum").mkdir()
    (data_dir / "unlabeled-forum" / "reddit_comments.txt").write_text("a long forum comment\n")
    assert "a long forum comment" in pretrain_texts(data_dir, forum=True)
    assert "a long forum comment" not in pretrain_texts(data_dir)
