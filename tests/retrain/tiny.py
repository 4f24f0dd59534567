"""Tiny corpora for the retraining tests: a base vocabulary of cue words, and new slang the labels teach."""

from __future__ import annotations

import json
import random
from pathlib import Path

from model.data import SEMEVAL_DIR, TRAIN_FILES, VAL_FILES
from sentimon.sentiment import LABELS
from tests.model.tiny_data import TINY as MODEL_TINY

# The base model learns these cue words ...
BASE = {
    "negative": ["hate", "awful", "worst", "terrible"],
    "neutral": ["meeting", "report", "schedule", "station"],
    "positive": ["love", "great", "awesome", "best"],
}
# ... and has never seen this slang, which the labels teach (neutral keeps its base cues).
SLANG = {
    "negative": ["cringe", "mid", "yikes", "bleh"],
    "neutral": ["meeting", "report", "schedule", "station"],
    "positive": ["bussin", "goated", "slaps", "lit"],
}
FILLER = ["the", "a", "today", "my", "phone", "game", "is", "this", "new", "our", "app", "update"]
VALIDATION = "twitter-2016devtest-A.tsv"


def texts(n: int, cues: dict[str, list[str]], seed: int) -> list[tuple[str, str]]:
    """(text, label) pairs whose label is decided by one or two cue words among fillers."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        label = LABELS[i % 3]
        words = [rng.choice(FILLER) for _ in range(rng.randint(2, 5))]
        words += [rng.choice(cues[label]) for _ in range(rng.randint(1, 2))]
        rng.shuffle(words)
        out.append((" ".join(words), label))
    return out


def write_semeval(path: Path, rows: list[tuple[str, str]], first_id: int = 1000) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        for i, (text, label) in enumerate(rows):
            fh.write(f"{first_id + i}\t{label}\t{text}\n")
    return path


def write_base_data(root: Path) -> Path:
    """A miniature shared-data folder: training and dev files with base cues; devtest (the fixed
    validation set of the retraining gate) with base cues and slang in equal parts."""
    semeval = root / SEMEVAL_DIR
    for k, name in enumerate(TRAIN_FILES):
        write_semeval(semeval / name, texts(36, BASE, seed=k), first_id=10_000 * (k + 1))
    write_semeval(semeval / VAL_FILES[0], texts(45, BASE, seed=50))
    write_semeval(semeval / VALIDATION, texts(45, BASE, seed=60) + texts(45, SLANG, seed=61))
    return root


def write_labels_csv(path: Path, rows: list[tuple[str, str]], source: str = "bsky") -> Path:
    """Labels as the dashboard would hold them: source, post id, text, label."""
    import csv

    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["source", "post_id", "text", "label"])
        for i, (text, label) in enumerate(rows):
            writer.writerow([source, f"p{i}", text, label])
    return path


def flipped(rows: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The same texts with positive and negative swapped: labels that make any model worse."""
    swap = {"positive": "negative", "negative": "positive", "neutral": "neutral"}
    return [(t, swap[y]) for t, y in rows]


def write_jsonl(path: Path, rows: list[tuple[str, str]]) -> Path:
    with open(path, "w", encoding="utf-8") as fh:
        for text, label in rows:
            fh.write(json.dumps({"text": text, "label": label}) + "\n")
    return path


# The shipped model's configuration (model/default/card.json) at tiny sizes: a GRU with the lexicon
# feature, float16 weights, no class weights, one learning rate for all layers, served int8 on CPU.
SHIPPED = {"cell": "gru", "lexicon": True, "half": True, "class_weights": False, "lr_decay": 1.0}
TINY = {**MODEL_TINY, **SHIPPED}


def train_base_model(data_dir: Path, out: Path) -> Path:
    """A tiny classifier with the shipped configuration, trained by the model package's own code."""
    from model.data import SEMEVAL_DIR as SD
    from model.finetune import finetune
    from model.registry import update_card
    from model.train import TrainConfig

    cfg = TrainConfig(
        task="clf",
        data_dir=str(data_dir),
        val_data=str(data_dir / SD / VAL_FILES[0]),
        epochs=6,
        lr=2e-2,
        patience=6,
        gradual_unfreeze=False,
        name="tiny",
        out=str(out),
        **TINY,
    )
    folder = finetune(cfg, command="tests/retrain: tiny base model")
    update_card(folder, serving={"cpu_int8": True})
    return folder
