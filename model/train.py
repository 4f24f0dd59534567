"""One training loop for both jobs: LM pretraining and classifier fine-tuning (the latter is the same
code started from a checkpoint with a few overrides), with early stopping and saved curves."""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TypedDict

import torch
import torch.nn.functional as F
from tqdm import tqdm

from model import calibrate
from model.batching import encode_all, length_batches, pad
from model.curves import save_curves
from model.data import DEFAULT_DATA_DIR
from model.metrics import scores
from model.nets import LanguageModel, NetConfig, SentimentNet, load_encoder, param_groups, unfreeze_top
from model.predict import batch_logits, lm_loss
from model.registry import ModelError, load_model, save_model
from model.vocab import Vocab


@dataclass
class TrainConfig:
    """All knobs of a run; saved in the model card so the run can be repeated."""

    task: str = "clf"  # "lm" (pretrain) or "clf" (fine-tune / train a classifier)
    out: str = "var/models/run"
    name: str = "sentimon-rnn"
    init_from: str | None = None  # model folder: an LM (encoder reused) or a classifier (all reused)
    # distillation: False takes only init_from's vocabulary and word vectors, so a student never learns,
    # through its starting weights, the labelled files it holds out (init_from was trained on them)
    init_encoder: bool = True
    data_dir: str = str(DEFAULT_DATA_DIR)
    train_data: str | None = None  # labelled file/folder instead of the SemEval training split
    val_data: str | None = None  # labelled file/folder instead of the SemEval 2016 dev+devtest split
    data_format: str = "semeval"
    seed: int = 0
    threads: int = 2
    max_texts: int = 0  # cap on training texts (0 = all): quick runs and tests
    forum: bool = False  # LM pretraining reads the unlabelled forum comments as well
    vocab_size: int = 25000
    min_count: int = 3
    max_tokens: int = 64
    emb_dim: int = 200
    hidden: int = 256
    layers: int = 1
    cell: str = "lstm"
    bidirectional: bool = False  # classifiers only (distill, finetune from scratch); never an LM
    emb_dropout: float = 0.1
    input_dropout: float = 0.25
    weight_dropout: float = 0.3
    hidden_dropout: float = 0.2
    output_dropout: float = 0.3
    epochs: int = 3
    batch_size: int = 64
    lr: float = 3e-3
    lr_decay: float = 2.6  # discriminative LR: each lower layer group gets lr / lr_decay
    weight_decay: float = 0.01
    clip: float = 1.0
    warmup: float = 0.1  # fraction of steps with rising LR (slanted triangular schedule)
    gradual_unfreeze: bool = True  # epoch 1 trains the head, each later epoch one more group
    patience: int = 2  # epochs without validation improvement before stopping
    class_weights: bool = True  # inverse class frequency in the loss: AvgRec weighs classes equally
    distant_epochs: float = 0.0  # epochs of sentiment140 (emoticon-labelled) before the SemEval data
    lexicon: bool = False  # add VADER-lexicon valence features to the classifier head
    select_tuned: bool = True  # early stopping on val AvgRec after decision offsets (what is shipped)
    freeze_embedding: bool = False  # keep the LM's word vectors: 25k×d weights overfit a few labelled tweets
    log_every: int = 50
    half: bool = True  # store float16 weights (classifier)
    resume: bool = False  # continue a cut-off run from <out>/checkpoint.pt (written after every epoch)
    # SemEval training files a distilled student never learns from: out-of-sample labelled data beyond
    # the 2016 validation files for its quantification correction statistics (`sentimon model calibrate`)
    hold_out: list[str] = field(default_factory=list)

    @classmethod
    def with_overrides(cls, base: dict | None = None, **overrides: object) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        bad = [k for k in overrides if k not in known]
        if bad:
            raise ValueError(f"unknown training settings: {', '.join(bad)}")
        merged = {k: v for k, v in (base or {}).items() if k in known}
        merged.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**merged)

    def net(self, vocab_size: int) -> NetConfig:
        keys = {f.name for f in fields(NetConfig)} - {"vocab_size", "n_classes", "lm_cutoffs"}
        return NetConfig(vocab_size=vocab_size, **{k: getattr(self, k) for k in keys})


def seed_everything(seed: int, threads: int) -> random.Random:
    torch.manual_seed(seed)
    torch.set_num_threads(max(1, threads))
    return random.Random(seed)


def stlr(step: int, total: int, warmup: float, ratio: float = 32.0) -> float:
    """Slanted triangular LR multiplier (ULMFiT): short linear rise, long linear decay."""
    cut = max(1, int(total * warmup))
    p = step / cut if step < cut else 1 - (step - cut) / max(1, total - cut)
    return (1 + max(0.0, p) * (ratio - 1)) / ratio


@dataclass
class Stage:
    """One pass over a dataset: encoded sequences, labels (None for LM), epochs, LR multiplier."""

    seqs: list[list[int]]
    labels: list[int] | list[list[float]] | None  # class ids, or soft targets (distillation)
    epochs: float
    name: str


class Trainer:
    """Owns model, optimizer and schedule for one run; ``fit`` returns the curve rows."""

    def __init__(self, cfg: TrainConfig, model: SentimentNet | LanguageModel, rng: random.Random):
        self.cfg, self.model, self.rng = cfg, model, rng
        self.opt = torch.optim.AdamW(
            param_groups(model, cfg.lr, cfg.lr_decay, cfg.weight_decay),
            lr=cfg.lr,
            weight_decay=cfg.weight_decay,
        )
        self.base_lrs = [g["lr"] for g in self.opt.param_groups]
        self.rows: list[dict] = []
        self.step = 0

    def loss(
        self, ids: torch.Tensor, lengths: torch.Tensor, y: torch.Tensor | None, weight: torch.Tensor | None
    ) -> torch.Tensor:
        if y is None:
            return self.model(ids, lengths)
        return F.cross_entropy(self.model(ids, lengths), y, weight=weight)

    def run_epoch(
        self, stage: Stage, fraction: float, total_steps: int, weight: torch.Tensor | None, epoch: float
    ) -> None:
        cfg = self.cfg
        batches = list(length_batches([len(s) for s in stage.seqs], cfg.batch_size, True, self.rng))
        batches = batches[: max(1, math.ceil(len(batches) * fraction))]
        self.model.train()
        running, count = 0.0, 0
        bar = tqdm(batches, desc=f"{stage.name} epoch {epoch:g}", unit="batch", mininterval=2.0)
        for idx in bar:
            mult = stlr(self.step, total_steps, cfg.warmup)
            for g, lr in zip(self.opt.param_groups, self.base_lrs, strict=True):
                g["lr"] = lr * mult
            ids, lengths = pad([stage.seqs[i] for i in idx])
            y = torch.tensor([stage.labels[i] for i in idx]) if stage.labels is not None else None
            loss = self.loss(ids, lengths, y, weight)
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_([p for p in self.model.parameters() if p.requires_grad], cfg.clip)
            self.opt.step()
            self.step += 1
            running, count = running + loss.item(), count + 1
            if count == cfg.log_every:
                self.rows.append(
                    {
                        "stage": stage.name,
                        "epoch": epoch,
                        "step": self.step,
                        "train_loss": running / count,
                        "lr": self.opt.param_groups[-1]["lr"],
                    }
                )
                bar.set_postfix(loss=f"{running / count:.3f}")
                running, count = 0.0, 0


def class_weight(labels: list[int], k: int = 3) -> torch.Tensor:
    counts = torch.bincount(torch.tensor(labels), minlength=k).float().clamp(min=1)
    return counts.sum() / (k * counts)


def _stage_steps(stage: Stage, batch_size: int) -> int:
    return math.ceil(math.ceil(len(stage.seqs) / batch_size) * stage.epochs)


def plan(stages: list[Stage], n_groups: int, unfreeze: bool) -> list[tuple[Stage, float, int]]:
    """(stage, fraction of an epoch, trainable top groups) per step between evaluations.

    Gradual unfreezing opens one more layer group per epoch; with a distant-supervision stage first,
    its first epoch is cut into one piece per group so the big noisy set trains the whole network."""
    runs: list[tuple[Stage, float, int]] = []
    for stage in stages:
        left = stage.epochs
        while left > 1e-9:
            runs.append((stage, min(1.0, left), n_groups))
            left -= min(1.0, left)
    if not unfreeze or not runs:
        return runs
    if len(stages) > 1:
        stage, frac, _ = runs[0]
        return [(stage, frac / n_groups, k + 1) for k in range(n_groups)] + runs[1:]
    return [(stage, frac, min(n_groups, i + 1)) for i, (stage, frac, _) in enumerate(runs)]


CHECKPOINT = "checkpoint.pt"


class FitState(TypedDict):
    """Where a run of ``fit`` stands: evaluated steps done, early stopping, the fractional epoch."""

    done: int
    best: dict[str, float] | None
    best_state: dict[str, torch.Tensor] | None
    bad: int
    epoch: float


def fit(
    trainer: Trainer,
    stages: list[Stage],
    evaluate: Callable[[], dict[str, float]],
    weight: torch.Tensor | None,
    unfreeze: bool,
    on_best: Callable[[dict[str, float]], None] | None = None,
) -> dict[str, float]:
    """Run the planned steps; evaluate after each, keep the best state of the last stage, stop early.

    ``evaluate()`` returns a dict with a 'score' (higher is better) and other columns. After every step
    the whole run is checkpointed in the output folder, so ``cfg.resume`` picks a cut-off run up there."""
    cfg, model = trainer.cfg, trainer.model
    total = sum(_stage_steps(s, cfg.batch_size) for s in stages)
    state: FitState = {"done": 0, "best": None, "best_state": None, "bad": 0, "epoch": 0.0}
    path = Path(cfg.out) / CHECKPOINT
    if path.exists() and cfg.resume:
        state = _restore(trainer, path)
        print(f"resuming {path}: {state['done']} evaluated steps done")
    elif path.exists():
        print(f"{path}: an unfinished run's checkpoint; starting over (--set resume=true continues it)")
    n_groups = len(model.layer_groups())
    for i, (stage, frac, open_groups) in enumerate(plan(stages, n_groups, unfreeze)):
        if i < state["done"]:
            continue
        if state["bad"] >= cfg.patience:
            break
        unfreeze_top(model, min(open_groups, n_groups - 1) if cfg.freeze_embedding else open_groups)
        state["epoch"] = epoch = round(state["epoch"] + frac, 4)
        trainer.run_epoch(stage, frac, total, weight, epoch)
        result = evaluate()
        trainer.rows.append({"stage": stage.name, "epoch": epoch, "step": trainer.step, **result})
        print(f"[{stage.name}] epoch {epoch:g}: " + ", ".join(f"{k}={v:.4f}" for k, v in result.items()))
        if stage is stages[-1]:
            if state["best"] is None or result["score"] > state["best"]["score"]:
                state["best"], state["bad"] = result, 0
                state["best_state"] = {k: v.detach().clone() for k, v in model.state_dict().items()}
                if on_best is not None:  # e.g. write the LM folder after every improving epoch
                    on_best(result)
            else:
                state["bad"] += 1
        state["done"] = i + 1
        _checkpoint(trainer, state, path)
    unfreeze_top(model, n_groups)
    if state["best_state"] is not None:
        model.load_state_dict(state["best_state"])
    path.unlink(missing_ok=True)
    return state["best"] or {}


def _checkpoint(trainer: Trainer, state: FitState, path: Path) -> None:
    """Everything a resumed run needs to continue as if never stopped: weights, optimizer, schedule
    position, curves, early-stopping state and both random generators."""
    path.parent.mkdir(parents=True, exist_ok=True)
    blob = {
        **state,
        "model": trainer.model.state_dict(),
        "opt": trainer.opt.state_dict(),
        "step": trainer.step,
        "rows": trainer.rows,
        "rng": trainer.rng.getstate(),
        "torch_rng": torch.get_rng_state(),
    }
    tmp = path.with_suffix(".tmp")
    torch.save(blob, tmp)
    tmp.replace(path)


def _restore(trainer: Trainer, path: Path) -> FitState:
    blob = torch.load(path, weights_only=False)  # our own file, written by _checkpoint
    trainer.model.load_state_dict(blob.pop("model"))
    trainer.opt.load_state_dict(blob.pop("opt"))
    trainer.step, trainer.rows = blob.pop("step"), blob.pop("rows")
    trainer.rng.setstate(blob.pop("rng"))
    torch.set_rng_state(blob.pop("torch_rng"))
    return blob


def pretrain(
    cfg: TrainConfig, command: str = "", texts: list[str] | None = None, sources: list[str] | None = None
) -> Path:
    """Language-model pretraining on the unlabelled corpus (+ SemEval training texts), or on ``texts``
    named by ``sources`` (a deployment's stored posts: domain-adaptive pretraining)."""
    from model.data import pretrain_texts

    if cfg.bidirectional:
        raise ModelError("a language model reads left to right: bidirectional=true is for classifiers")
    rng = seed_everything(cfg.seed, cfg.threads)
    t0 = time.time()
    if texts is None:
        texts = pretrain_texts(Path(cfg.data_dir), forum=cfg.forum)
        sources = ["unlabeled-tweets", "sentiment140-sample", "SemEval 2013-2016 training texts"]
        sources += ["unlabeled-forum"] * cfg.forum
    texts = list(texts)
    rng.shuffle(texts)
    if cfg.max_texts:
        texts = texts[: cfg.max_texts]
    n_val = min(3000, max(1, len(texts) // 50))
    val_texts, train_texts = texts[:n_val], texts[n_val:]
    vocab = Vocab(itos=[], max_tokens=cfg.max_tokens)
    if cfg.init_from:
        start, vocab, _, _ = load_model(Path(cfg.init_from))
        if isinstance(start, SentimentNet):  # a classifier (the served one): its encoder, a new decoder
            if start.cfg.bidirectional:
                raise ModelError(f"{cfg.init_from}: a bidirectional encoder cannot go on as a language model")
            model = LanguageModel(start.cfg)
            load_encoder(model, start.state_dict())
        else:
            model = start
    else:
        from model.vocab import build_vocab

        vocab = build_vocab(train_texts, cfg.vocab_size, cfg.min_count, cfg.max_tokens)
        model = LanguageModel(cfg.net(len(vocab)))
    return train_lm(cfg, model, vocab, train_texts, val_texts, rng, t0, command, sources or [])


def train_lm(
    cfg: TrainConfig,
    model: LanguageModel,
    vocab: Vocab,
    train_texts: list[str],
    val_texts: list[str],
    rng: random.Random,
    t0: float,
    command: str = "",
    sources: list[str] | None = None,
) -> Path:
    train_seqs = encode_all(vocab, train_texts, lm=True)
    val_seqs = encode_all(vocab, val_texts, lm=True)
    trainer = Trainer(cfg, model, rng)

    def evaluate() -> dict:
        loss = lm_loss(model, val_seqs)
        return {"score": -loss, "val_loss": loss, "val_ppl": math.exp(min(loss, 50))}

    out = Path(cfg.out)
    data = {
        "pretrain_texts": len(train_texts),
        "val_texts": len(val_texts),
        "sources": sources or [],
    }

    def save(best: dict) -> None:
        metrics = {
            "val": {"loss": best.get("val_loss"), "ppl": best.get("val_ppl")},
            "epochs_done": trainer.rows[-1]["epoch"],
            "train_seconds": round(time.time() - t0, 1),
        }
        save_model(
            out,
            model,
            vocab,
            name=cfg.name + "-lm",
            train=asdict(cfg),
            metrics=metrics,
            data=data,
            reproduce=[command] if command else [],
        )
        save_curves(trainer.rows, out)

    fit(trainer, [Stage(train_seqs, None, cfg.epochs, "lm")], evaluate, None, unfreeze=False, on_best=save)
    return out


def calibrate_and_score(
    model: SentimentNet, vocab: Vocab, texts: list[str], labels: list[int]
) -> tuple[dict, dict]:
    """Fit temperature/bias and the prior-dividing decision offsets on held-out data → (calibration,
    metrics)."""
    logits = batch_logits(model, vocab, texts)
    y = torch.tensor(labels)
    temperature, bias = calibrate.fit_temperature(logits, y)
    log_probs = torch.log_softmax(logits / temperature + torch.tensor(bias), dim=1)
    decision = calibrate.prior_decision(y)
    cal = {"temperature": temperature, "bias": bias, "decision": decision}
    _, pred = calibrate.calibrated(logits, temperature, bias, decision)
    metrics = scores(labels, pred.tolist())
    metrics["nll"] = float(F.nll_loss(log_probs, y))
    return cal, metrics
