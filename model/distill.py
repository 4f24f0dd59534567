"""Distil a fine-tuned teacher into a smaller, faster student: the same training loop, with the teacher's
calibrated probabilities on labelled + unlabelled tweets as soft targets."""

from __future__ import annotations

import json
import random
import time
from dataclasses import replace
from pathlib import Path

import torch
import torch.nn.functional as F

from model.batching import encode_all
from model.data import SEMEVAL_DIR, TRAIN_FILES, iter_lines, read_semeval
from model.finetune import _data_card, _labelled, save_classifier, val_scorer
from model.inference import ServedModel, load
from model.lexicon import valence_vector
from model.nets import SentimentNet, load_encoder
from model.registry import ModelError, load_model, read_card
from model.train import Stage, TrainConfig, Trainer, fit, seed_everything


def is_transformer(path: Path) -> bool:
    """A transformer teacher folder (`sentimon model teacher train`) rather than an RNN classifier."""
    return (Path(path) / "teacher.json").exists()


def soft_targets(teacher_paths: list[Path], texts: list[str], batch_size: int = 512) -> list[list[float]]:
    """The teachers' calibrated class probabilities for each text, averaged (an ensemble)."""
    total = torch.zeros(len(texts), 3)
    for path in teacher_paths:
        if is_transformer(path):
            from model.teacher import teacher_probs  # the optional `teacher` extra

            total += teacher_probs(path, texts)
            continue
        teacher = load(path, device="cpu", int8=False, batch_size=batch_size)
        cal = teacher.calibration
        logits = teacher.logits(texts)
        total += F.softmax(logits / cal["temperature"] + torch.tensor(cal["bias"]), dim=1)
    return (total / len(teacher_paths)).tolist()


def _init_student(
    student: SentimentNet, teacher: ServedModel, init_from: str | None, encoder: bool = True
) -> None:
    """Teacher's word vectors (and lexicon); with init_from and `encoder`, also that classifier's
    encoder and head."""
    student.encoder.embedding.weight.data.copy_(teacher.net.encoder.embedding.weight.data)
    if student.cfg.lexicon:
        lexicon = teacher.net.valence if teacher.net.cfg.lexicon else valence_vector(teacher.vocab)
        student.valence.copy_(lexicon)
    if init_from and encoder:
        src, vocab, _, _ = load_model(Path(init_from))
        if vocab.itos != teacher.vocab.itos:
            raise ModelError(f"{init_from}: vocabulary differs from the teacher's")
        load_encoder(student, src.state_dict())
        head = {k[5:]: v for k, v in src.state_dict().items() if k.startswith("head.")}
        if isinstance(src, SentimentNet) and head["weight"].shape == student.head.weight.shape:
            student.head.load_state_dict(head)


def student_texts(cfg: TrainConfig, rng: random.Random, n_unlabelled: int, n_forum: int = 0) -> list[str]:
    """SemEval training texts plus random samples of the unlabelled tweets and of the forum comments
    (the monitor reads forums too; never the benchmark)."""
    train_texts, _ = _labelled(cfg, "train")
    pool = list(iter_lines(Path(cfg.data_dir) / "unlabeled-tweets"))
    pool += list(iter_lines(Path(cfg.data_dir) / "sentiment140-sample"))
    rng.shuffle(pool)
    forum_dir = Path(cfg.data_dir) / "unlabeled-forum"
    forum = list(iter_lines(forum_dir)) if n_forum and forum_dir.exists() else []
    rng.shuffle(forum)
    return train_texts + pool[:n_unlabelled] + forum[:n_forum]


def distill(
    cfg: TrainConfig,
    teacher_paths: list[Path] | Path,
    n_unlabelled: int = 100_000,
    command: str = "",
    n_forum: int = 0,
) -> Path:
    """Train ``cfg``'s network to match the averaged teachers. Its vocabulary and word vectors come from
    the first RNN teacher, or from ``cfg.init_from`` when every teacher is a transformer (which has no
    word vectors to give)."""
    rng = seed_everything(cfg.seed, cfg.threads)
    t0 = time.time()
    teacher_paths = [Path(p) for p in (teacher_paths if isinstance(teacher_paths, list) else [teacher_paths])]
    rnns = [p for p in teacher_paths if not is_transformer(p)] or (
        [Path(cfg.init_from)] if cfg.init_from else []
    )
    if not rnns:
        raise ModelError("distillation needs an RNN teacher or --init-from (its vocabulary and word vectors)")
    teacher = load(rnns[0], device="cpu", int8=False)
    vocab = teacher.vocab
    for path in rnns[1:]:
        if load(path, device="cpu", int8=False).vocab.itos != vocab.itos:
            raise ModelError(f"{path}: teachers must share one vocabulary")
    cfg = replace(cfg, emb_dim=teacher.net.cfg.emb_dim, vocab_size=len(vocab), max_tokens=vocab.max_tokens)
    texts = student_texts(cfg, rng, n_unlabelled, n_forum)
    targets = soft_targets(teacher_paths, texts)
    held = set(held_out_texts(cfg)[0])
    if held:  # after labelling, so the teacher's cached labels of the full list still match
        kept = [i for i, t in enumerate(texts) if t not in held]
        texts, targets = [texts[i] for i in kept], [targets[i] for i in kept]
    student = SentimentNet(cfg.net(len(vocab)))
    _init_student(student, teacher, cfg.init_from, cfg.init_encoder)
    val_texts, val_labels = _labelled(cfg, "val")
    _, train_labels = _labelled(cfg, "train")
    stage = Stage(encode_all(vocab, texts), targets, cfg.epochs, "distil")

    evaluate = val_scorer(student, vocab, val_texts, val_labels, None, cfg.select_tuned)

    trainer = Trainer(cfg, student, rng)
    fit(trainer, [stage], evaluate, None, unfreeze=False)
    data = _data_card(cfg, train_labels, val_labels, [stage])
    data["distilled_from"] = {
        "teachers": [_teacher_name(p) for p in teacher_paths],
        "texts": len(texts),
        "unlabelled": n_unlabelled,
        "forum": n_forum,
        "init_from": cfg.init_from,
        "init_encoder": cfg.init_encoder,
        "held_out": list(cfg.hold_out),
    }
    start = [Path(cfg.init_from)] if cfg.init_from else []  # the student's starting point has a history too
    reproduce = [line for p in [*start, *teacher_paths] for line in _reproduce_of(p)]
    reproduce = list(dict.fromkeys(reproduce)) + ([command] if command else [])
    return save_classifier(cfg, student, vocab, trainer, t0, (val_texts, val_labels), data, reproduce)


def held_out_texts(cfg: TrainConfig) -> tuple[list[str], list[int]]:
    """The labelled texts of the SemEval training files ``cfg.hold_out`` names (none: empty)."""
    unknown = sorted(set(cfg.hold_out) - set(TRAIN_FILES))
    if unknown:
        raise ModelError(f"hold_out names no SemEval training file: {', '.join(unknown)}")
    texts: list[str] = []
    labels: list[int] = []
    for name in cfg.hold_out:
        t, y = read_semeval(Path(cfg.data_dir) / SEMEVAL_DIR / name)
        texts, labels = texts + t, labels + y
    return texts, labels


def _teacher_name(path: Path) -> str:
    if is_transformer(path):
        return f"transformer:{Path(path).name}"
    return read_card(path)["version"]


def _reproduce_of(path: Path) -> list[str]:
    if is_transformer(path):
        command = json.loads((Path(path) / "teacher.json").read_text()).get("command")
        return [command] if command else []
    return read_card(path).get("reproduce", [])
