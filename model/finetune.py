"""Classifier training: the shared loop started from an LM or classifier checkpoint (or from scratch),
then calibration on the held-out split and a complete registry folder."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path

import torch
import torch.nn.functional as F

from model.batching import encode_all
from model.calibrate import avgrec_of, fit_temperature, prior_decision
from model.curves import save_confusion_png, save_curves
from model.data import TRAIN_FILES, VAL_FILES, distant_texts, read_labelled, semeval_split
from model.metrics import scores
from model.nets import SentimentNet, load_encoder
from model.predict import batch_logits
from model.registry import load_model, save_model
from model.train import Stage, TrainConfig, Trainer, calibrate_and_score, class_weight, fit, seed_everything
from model.vocab import Vocab, build_vocab

ARCH = ("emb_dim", "hidden", "layers", "cell", "bidirectional", "vocab_size", "max_tokens")


def _labelled(cfg: TrainConfig, which: str) -> tuple[list[str], list[int]]:
    explicit = cfg.train_data if which == "train" else cfg.val_data
    if explicit:
        return read_labelled(Path(explicit), cfg.data_format)
    return semeval_split(Path(cfg.data_dir), which)


def _start_model(
    cfg: TrainConfig, train_texts: list[str]
) -> tuple[SentimentNet, Vocab, TrainConfig, list[str]]:
    """Build the classifier: encoder from an LM, a whole earlier classifier, or a fresh network.

    The architecture always comes from the checkpoint; dropouts come from this run's settings."""
    if not cfg.init_from:
        vocab = build_vocab(train_texts, cfg.vocab_size, cfg.min_count, cfg.max_tokens)
        return with_lexicon(SentimentNet(cfg.net(len(vocab))), vocab), vocab, cfg, []
    src, vocab, config, card = load_model(Path(cfg.init_from))
    net_cfg = replace(
        src.cfg,
        **{
            k: getattr(cfg, k)
            for k in ("emb_dropout", "input_dropout", "weight_dropout", "hidden_dropout", "output_dropout")
        },
    )
    if config["task"] == "lm":
        model = with_lexicon(SentimentNet(replace(net_cfg, lexicon=cfg.lexicon)), vocab)
        load_encoder(model, src.state_dict())
    else:
        model = SentimentNet(net_cfg)
        model.load_state_dict(src.state_dict())
    arch = {k: getattr(model.cfg, k) for k in ARCH if hasattr(model.cfg, k)}
    arch["lexicon"] = model.cfg.lexicon
    arch.update(vocab_size=len(vocab), max_tokens=vocab.max_tokens)
    return model, vocab, replace(cfg, **arch), list(card.get("reproduce", []))


def with_lexicon(model: SentimentNet, vocab: Vocab) -> SentimentNet:
    """Fill the frozen valence buffer of a lexicon-aware classifier."""
    if model.cfg.lexicon:
        from model.lexicon import valence_vector

        model.valence.copy_(valence_vector(vocab))
    return model


def val_scorer(
    model: SentimentNet,
    vocab: Vocab,
    texts: list[str],
    labels: list[int],
    weight: torch.Tensor | None,
    tuned: bool,
) -> Callable[[], dict[str, float]]:
    """Validation callback for ``fit``: loss, argmax AvgRec and AvgRec after calibration and the prior
    decision; the score is the latter when ``tuned`` (that is what calibration will ship)."""
    y = torch.tensor(labels)

    def evaluate() -> dict:
        logits = batch_logits(model, vocab, texts)
        got = scores(labels, logits.argmax(1).tolist())
        loss = float(F.cross_entropy(logits, y, weight=weight))
        temperature, bias = fit_temperature(logits, y, steps=50)
        log_probs = F.log_softmax(logits / temperature + torch.tensor(bias), dim=1)
        best = avgrec_of((log_probs + torch.tensor(prior_decision(y))).argmax(1), y)
        return {
            "score": best if tuned else got["avgrec"],
            "val_loss": loss,
            "val_avgrec": got["avgrec"],
            "val_avgrec_tuned": best,
            "val_f1pn": got["f1pn"],
        }

    return evaluate


def finetune(cfg: TrainConfig, command: str = "") -> Path:
    """Train the classifier, keep the epoch with the best validation AvgRec, calibrate, save."""
    rng = seed_everything(cfg.seed, cfg.threads)
    t0 = time.time()
    train_texts, train_labels = _labelled(cfg, "train")
    if cfg.max_texts:
        train_texts, train_labels = train_texts[: cfg.max_texts], train_labels[: cfg.max_texts]
    val_texts, val_labels = _labelled(cfg, "val")
    model, vocab, cfg, reproduce = _start_model(cfg, train_texts)
    stages = []
    if cfg.distant_epochs > 0:
        d_texts, d_labels = distant_texts(Path(cfg.data_dir))
        stages.append(Stage(encode_all(vocab, d_texts), d_labels, cfg.distant_epochs, "distant"))
    stages.append(Stage(encode_all(vocab, train_texts), train_labels, cfg.epochs, "clf"))
    weight = class_weight(train_labels) if cfg.class_weights else None

    evaluate = val_scorer(model, vocab, val_texts, val_labels, weight, cfg.select_tuned)
    trainer = Trainer(cfg, model, rng)
    fit(trainer, stages, evaluate, weight, cfg.gradual_unfreeze)
    data = _data_card(cfg, train_labels, val_labels, stages)
    reproduce = reproduce + ([command] if command else [])
    return save_classifier(cfg, model, vocab, trainer, t0, (val_texts, val_labels), data, reproduce)


def save_classifier(
    cfg: TrainConfig,
    model: SentimentNet,
    vocab: Vocab,
    trainer: Trainer,
    t0: float,
    val: tuple[list[str], list[int]],
    data: dict,
    reproduce: list[str],
) -> Path:
    """Calibrate a trained classifier on validation and write its folder (weights, card, curves,
    validation confusion matrix). Fine-tuning and distillation end the same way."""
    if cfg.half:  # score exactly the weights that are shipped
        model.load_state_dict(
            {k: v.half().float() if v.is_floating_point() else v for k, v in model.state_dict().items()}
        )
    model.eval()
    calibration, val_metrics = calibrate_and_score(model, vocab, *val)
    out = Path(cfg.out)
    metrics = {"val": val_metrics, "train_seconds": round(time.time() - t0, 1)}
    version = save_model(
        out,
        model,
        vocab,
        name=cfg.name,
        train=asdict(cfg),
        metrics=metrics,
        calibration=calibration,
        data=data,
        reproduce=reproduce,
        half=cfg.half,
    )
    save_curves(trainer.rows, out)
    save_confusion_png(val_metrics["confusion"], out / "confusion-val.png", f"{version} · validation")
    return out


def _data_card(cfg: TrainConfig, train_labels: list[int], val_labels: list[int], stages: list[Stage]) -> dict:
    def counts(labels: list[int]) -> dict:
        c = torch.bincount(torch.tensor(labels), minlength=3).tolist()
        return {"n": len(labels), "negative": c[0], "neutral": c[1], "positive": c[2]}

    return {
        "train": cfg.train_data or [f"semeval2017-task4/subtask_a/{f}" for f in TRAIN_FILES],
        "val": cfg.val_data or [f"semeval2017-task4/subtask_a/{f}" for f in VAL_FILES],
        "train_counts": counts(train_labels),
        "val_counts": counts(val_labels),
        "distant": {"source": "sentiment140-sample", "epochs": cfg.distant_epochs, "n": len(stages[0].seqs)}
        if cfg.distant_epochs > 0
        else None,
        "benchmark": "semeval2017-task4/subtask_a/twitter-2016test-A.tsv (never trained on)",
    }
