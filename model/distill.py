"""Distil a fine-tuned teacher into a smaller, faster student: the same training loop, with the teacher's
calibrated probabilities on labelled + unlabelled tweets as soft targets."""

from __future__ import annotations

import random
import time
from dataclasses import asdict, replace
from pathlib import Path

import torch
import torch.nn.functional as F

from model.batching import encode_all
from model.curves import save_confusion_png, save_curves
from model.data import iter_lines
from model.finetune import _data_card, _labelled
from model.inference import load
from model.lexicon import valence_vector
from model.metrics import scores
from model.nets import Classifier
from model.predict import batch_logits
from model.registry import save_model
from model.train import Stage, TrainConfig, Trainer, calibrate_and_score, fit, seed_everything


def soft_targets(teacher_path: Path, texts: list[str], batch_size: int = 512) -> list[list[float]]:
    """The teacher's calibrated class probabilities for each text."""
    teacher = load(teacher_path, device="cpu", int8=False, batch_size=batch_size)
    cal = teacher.calibration
    logits = teacher.logits(texts)
    probs = F.softmax(logits / cal["temperature"] + torch.tensor(cal["bias"]), dim=1)
    return probs.tolist()


def student_texts(cfg: TrainConfig, rng: random.Random, n_unlabelled: int) -> list[str]:
    """SemEval training texts plus a random sample of the unlabelled corpora (never the benchmark)."""
    train_texts, _ = _labelled(cfg, "train")
    pool = list(iter_lines(Path(cfg.data_dir) / "unlabeled-tweets"))
    pool += list(iter_lines(Path(cfg.data_dir) / "sentiment140-sample"))
    rng.shuffle(pool)
    return train_texts + pool[:n_unlabelled]


def distill(cfg: TrainConfig, teacher_path: Path, n_unlabelled: int = 100_000, command: str = "") -> Path:
    """Train ``cfg``'s (smaller) network to match the teacher; start from the teacher's embeddings."""
    rng = seed_everything(cfg.seed, cfg.threads)
    t0 = time.time()
    teacher = load(teacher_path, device="cpu", int8=False)
    vocab = teacher.vocab
    cfg = replace(cfg, emb_dim=teacher.net.cfg.emb_dim, vocab_size=len(vocab), max_tokens=vocab.max_tokens)
    texts = student_texts(cfg, rng, n_unlabelled)
    targets = soft_targets(teacher_path, texts)
    student = Classifier(cfg.net(len(vocab)))
    student.encoder.embedding.weight.data.copy_(teacher.net.encoder.embedding.weight.data)
    if student.cfg.lexicon:
        student.valence.copy_(teacher.net.valence if teacher.net.cfg.lexicon else valence_vector(vocab))
    val_texts, val_labels = _labelled(cfg, "val")
    _, train_labels = _labelled(cfg, "train")
    stage = Stage(encode_all(vocab, texts), targets, cfg.epochs, "distil")

    def evaluate() -> dict:
        logits = batch_logits(student, vocab, val_texts)
        got = scores(val_labels, logits.argmax(1).tolist())
        loss = float(F.cross_entropy(logits, torch.tensor(val_labels)))
        return {"score": got["avgrec"], "val_loss": loss, "val_avgrec": got["avgrec"],
                "val_f1pn": got["f1pn"]}

    trainer = Trainer(cfg, student, rng)
    fit(trainer, [stage], evaluate, None, unfreeze=False)
    if cfg.half:
        student.load_state_dict({k: v.half().float() if v.is_floating_point() else v
                                 for k, v in student.state_dict().items()})
    student.eval()
    calibration, val_metrics = calibrate_and_score(student, vocab, val_texts, val_labels)
    out = Path(cfg.out)
    data = _data_card(cfg, train_labels, val_labels, [stage])
    data["distilled_from"] = {"teacher": teacher.version, "texts": len(texts), "unlabelled": n_unlabelled}
    metrics = {"val": val_metrics, "train_seconds": round(time.time() - t0, 1)}
    reproduce = list(teacher.card.get("reproduce", [])) + ([command] if command else [])
    version = save_model(out, student, vocab, name=cfg.name, train=asdict(cfg), metrics=metrics,
                         calibration=calibration, data=data, reproduce=reproduce, half=cfg.half)
    save_curves(trainer.rows, out)
    save_confusion_png(val_metrics["confusion"], out / "confusion-val.png", f"{version} · validation")
    return out
