"""The data of one retraining: labels split into train / tune / held-back slices, mixed with the base data."""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from model.data import DEFAULT_DATA_DIR, SEMEVAL_DIR, VAL_FILES, read_labelled, read_semeval, semeval_split
from sentimon.schema import as_utc
from sentimon.sentiment import LABELS

VALIDATION_FILE = "twitter-2016devtest-A.tsv"  # the fixed gate set; the benchmark file is never used
TUNE_FILE = VAL_FILES[0]  # twitter-2016dev-A: early stopping and calibration of the new model

Labelled = tuple[list[str], list[int]]


@dataclass
class LabelledText:
    """One training example from the label store: the post key decides its slice, forever."""

    key: str
    text: str
    label: str


@dataclass
class Slices:
    train: list[LabelledText] = field(default_factory=list)
    tune: list[LabelledText] = field(default_factory=list)
    holdout: list[LabelledText] = field(default_factory=list)


def bucket(key: str) -> float:
    """A number in [0, 1) fixed by the post key, so a post stays in the same slice across runs."""
    return int(hashlib.sha256(key.encode("utf-8")).hexdigest()[:12], 16) / float(1 << 48)


def split_labels(rows: Sequence[LabelledText], holdout: float = 0.2, tune: float = 0.1) -> Slices:
    """Held-back slice (never trained on, judged by the gate), tune slice (early stopping), the rest."""
    out = Slices()
    for row in rows:
        b = bucket(row.key)
        (out.holdout if b < holdout else out.tune if b < holdout + tune else out.train).append(row)
    return out


def as_labelled(rows: Sequence[LabelledText]) -> Labelled:
    return [r.text for r in rows], [LABELS.index(r.label) for r in rows]


def default_base_dir() -> Path:
    """``<repo>/../shared/data``: where the SemEval training data lives when it is available."""
    return DEFAULT_DATA_DIR


def base_available(base_dir: Path | None) -> bool:
    return base_dir is not None and (Path(base_dir) / SEMEVAL_DIR / TUNE_FILE).is_file()


def base_train(base_dir: Path, limit: int, seed: int) -> Labelled:
    """A fixed random sample of the SemEval training split (``limit`` 0 = all)."""
    texts, labels = semeval_split(Path(base_dir), "train")
    order = list(range(len(texts)))
    random.Random(seed).shuffle(order)
    if limit:
        order = order[:limit]
    return [texts[i] for i in order], [labels[i] for i in order]


def base_tune(base_dir: Path) -> Labelled:
    return read_semeval(Path(base_dir) / SEMEVAL_DIR / TUNE_FILE)


def validation_set(explicit: Path | None, fmt: str, base_dir: Path | None) -> tuple[Labelled, str] | None:
    """The fixed validation set: --validation FILE, else SemEval twitter-2016devtest-A when available."""
    if explicit is not None:
        return read_labelled(Path(explicit), fmt), str(explicit)
    if base_dir is not None:
        path = Path(base_dir) / SEMEVAL_DIR / VALIDATION_FILE
        if path.is_file():
            return read_semeval(path), f"semeval2017-task4/subtask_a/{VALIDATION_FILE}"
    return None


def write_jsonl(path: Path, data: Labelled) -> int:
    """Texts and label names as JSONL (the format model.finetune reads with data_format=jsonl)."""
    texts, labels = data
    with open(path, "w", encoding="utf-8") as fh:
        for text, label in zip(texts, labels, strict=True):
            fh.write(json.dumps({"text": text, "label": LABELS[label]}, ensure_ascii=False) + "\n")
    return len(texts)


def mix(*parts: Labelled, repeat_last: int = 1) -> Labelled:
    """Concatenate labelled sets; the last one (the new labels) can be repeated to weigh more."""
    texts: list[str] = []
    labels: list[int] = []
    for i, (t, y) in enumerate(parts):
        times = repeat_last if i == len(parts) - 1 else 1
        texts += list(t) * times
        labels += list(y) * times
    return texts, labels


def counts(labels: Sequence[int]) -> dict[str, int]:
    return {"n": len(labels), **{name: sum(1 for y in labels if y == i) for i, name in enumerate(LABELS)}}


MIN_CORPUS = 200  # fewer stored texts than this teach a language model nothing but noise


def stored_corpus(
    database_url: str, since: datetime | None, until: datetime | None, limit: int | None = None
) -> tuple[list[str], str]:
    """The stored posts' distinct texts (none deleted) for domain-adaptive pretraining, and their span
    in words; a ValueError when there are too few to be worth it."""
    from sentimon.storage import posts
    from sentimon.storage.db import make_engine

    since, until = (as_utc(t) if t else None for t in (since, until))
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            texts = posts.stored_texts(conn, since, until, limit)
    finally:
        engine.dispose()
    span = f"{since.isoformat() if since else 'the first'} to {until.isoformat() if until else 'now'}"
    if len(texts) < MIN_CORPUS:
        raise ValueError(
            f"only {len(texts)} distinct stored posts from {span}; pretraining needs {MIN_CORPUS}+"
        )
    return texts, span
