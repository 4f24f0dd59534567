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


class _WordTokenizer:
    """Stands in for the transformer's tokenizer: word hashes, padded, with an attention mask."""

    def __call__(self, texts, padding, truncation, max_length, return_tensors):
        rows = [[1 + sum(map(ord, w)) % 49 for w in t.split()][:max_length] or [1] for t in texts]
        width = max(map(len, rows))
        ids = torch.tensor([r + [0] * (width - len(r)) for r in rows])
        return {"input_ids": ids, "attention_mask": (ids > 0).long()}


class _BagNet(torch.nn.Module):
    """Stands in for the transformer: mean word vector, dropout (so the torch generator matters), linear."""

    def __init__(self, stop_at: int | None = None):
        super().__init__()
        torch.manual_seed(1)
        self.embed = torch.nn.Embedding(50, 8, padding_idx=0)
        self.drop = torch.nn.Dropout(0.3)
        self.head = torch.nn.Linear(8, 3)
        self.stop_at, self.calls = stop_at, 0

    def forward(self, input_ids, attention_mask):
        if self.training:
            self.calls += 1
            if self.calls == self.stop_at:
                raise KeyboardInterrupt  # the machine went away mid-run
        mask = attention_mask.unsqueeze(-1).float()
        pooled = (self.embed(input_ids) * mask).sum(1) / mask.sum(1).clamp(min=1)
        return self.head(self.drop(pooled))


def test_a_cut_off_teacher_fine_tune_resumes_as_if_it_had_not_stopped(data_dir, tmp_path):
    from model.teacher import CHECKPOINT, TeacherConfig, fine_tune

    def cfg(out, resume=False):
        return TeacherConfig(
            out=str(out),
            data_dir=str(data_dir),
            epochs=2.0,
            batch_size=8,
            lr=1e-2,
            evals_per_epoch=2,
            checkpoint_every=3,
            resume=resume,
        )

    whole = fine_tune(_BagNet(), _WordTokenizer(), cfg(tmp_path / "whole"))
    with pytest.raises(KeyboardInterrupt):
        fine_tune(_BagNet(stop_at=8), _WordTokenizer(), cfg(tmp_path / "cut"))
    assert (tmp_path / "cut" / CHECKPOINT).exists()
    resumed = fine_tune(_BagNet(), _WordTokenizer(), cfg(tmp_path / "cut", resume=True))

    a = torch.load(whole / "teacher.pt", weights_only=True)
    b = torch.load(resumed / "teacher.pt", weights_only=True)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    history = [json.loads((f / "teacher.json").read_text())["history"] for f in (whole, resumed)]
    assert history[0] == history[1] and len(history[0]) >= 3
    assert not (resumed / CHECKPOINT).exists()  # a finished run leaves no checkpoint behind
