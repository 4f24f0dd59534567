"""Tiny synthetic labelled corpora and a miniature shared-data folder for the model tests."""

from __future__ import annotations

import random
from pathlib import Path

from model.data import SEMEVAL_DIR, TRAIN_FILES, VAL_FILES

POS = ["love", "great", "happy", "awesome", "best", ":)", "😂"]
NEG = ["hate", "awful", "sad", "worst", "terrible", ":(", "angry"]
NEU = ["meeting", "tomorrow", "report", "schedule", "station", "update", "weather"]
FILLER = ["the", "a", "today", "my", "phone", "game", "is", "this", "@someone", "#news", "http://t.co/x"]


def make_texts(n: int, seed: int = 0) -> tuple[list[str], list[str]]:
    """Texts whose label is decided by a few cue words, so a tiny model can learn them fast."""
    rng = random.Random(seed)
    texts, labels = [], []
    for i in range(n):
        label = ("negative", "neutral", "positive")[i % 3]
        cues = {"negative": NEG, "neutral": NEU, "positive": POS}[label]
        words = [rng.choice(FILLER) for _ in range(rng.randint(2, 6))] + [rng.choice(cues) for _ in range(2)]
        rng.shuffle(words)
        texts.append(" ".join(words))
        labels.append(label)
    return texts, labels


def write_semeval(path: Path, texts: list[str], labels: list[str]) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for i, (t, y) in enumerate(zip(texts, labels, strict=True)):
            fh.write(f"{1000 + i}\t{y}\t{t}\t\n")


def write_data_dir(root: Path, n_train: int = 300, n_val: int = 90) -> Path:
    """A miniature of the shared data folder layout."""
    semeval = root / SEMEVAL_DIR
    semeval.mkdir(parents=True)
    for k, name in enumerate(TRAIN_FILES):
        write_semeval(semeval / name, *make_texts(n_train // len(TRAIN_FILES) + 3, seed=k))
    for k, name in enumerate(VAL_FILES):
        write_semeval(semeval / name, *make_texts(n_val // len(VAL_FILES), seed=100 + k))
    (root / "unlabeled-tweets").mkdir()
    (root / "unlabeled-tweets" / "x_train.txt").write_text("\n".join(make_texts(200, seed=7)[0]) + "\n")
    s140 = root / "sentiment140-sample"
    s140.mkdir()
    texts, labels = make_texts(60, seed=9)
    for label in ("negative", "positive"):
        lines = [t for t, y in zip(texts, labels, strict=True) if y == label]
        (s140 / f"{label}.txt").write_text("\n".join(lines))
    return root


TINY = {  # network and loop sizes that train in seconds
    "emb_dim": 16,
    "hidden": 24,
    "vocab_size": 500,
    "min_count": 1,
    "batch_size": 16,
    "threads": 1,
    "log_every": 5,
}
