"""The benchmark files, scored by the shipped model exactly as served, cached by model and file hash."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from model.data import (
    BENCHMARK_FILE,
    DEFAULT_DATA_DIR,
    LABELS,
    SEMEVAL_DIR,
    DataError,
    label_id,
    read_semeval,
    tab_lines,
)

BENCHMARK_PATH = DEFAULT_DATA_DIR / SEMEVAL_DIR / BENCHMARK_FILE
TOPICS_PATH = DEFAULT_DATA_DIR / "semeval2017-task4/subtask_bd/twitter-2016test-BD.tsv"
CHUNK = 2048  # texts per classify call: one progress step


@dataclass(frozen=True)
class Scored:
    """Labelled posts with the model's calibrated probabilities [n, 3] and predicted class ids."""

    probs: np.ndarray
    preds: np.ndarray
    labels: np.ndarray
    topics: np.ndarray | None = None  # per post, for the Task 4D file

    def subset(self, index: np.ndarray) -> Scored:
        topics = self.topics[index] if self.topics is not None else None
        return Scored(self.probs[index], self.preds[index], self.labels[index], topics)


def read_topics(path: Path) -> tuple[list[str], list[int], list[str]]:
    """A SemEval Task 4B/D file (``id<TAB>topic<TAB>label<TAB>text``) → texts, label ids, topics."""
    texts, labels, topics = [], [], []
    for where, (_, topic, label), text in tab_lines(path, ("id", "topic", "label")):
        topics.append(topic)
        labels.append(label_id(label, where))
        texts.append(text)
    return texts, labels, topics


def file_sha(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def cache_path(cache_dir: Path, data_file: Path, clf: Any) -> Path:
    """One cache file per (model version, its weights and calibration, device, data file contents)."""
    model_key = json.dumps([clf.version, clf.card.get("files", {}), clf.device], sort_keys=True)
    key = hashlib.sha256(f"{model_key}|{file_sha(data_file)}".encode()).hexdigest()[:16]
    return Path(cache_dir) / f"quantify-{Path(data_file).stem}-{clf.version}-{key}.npz"


def score(texts: list[str], clf: Any, label: str) -> tuple[np.ndarray, np.ndarray]:
    """Calibrated probabilities and predicted class ids of every text, with a progress bar on stderr."""
    from rich.console import Console
    from rich.progress import Progress

    probs, preds = [], []
    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(f"scoring {label}", total=len(texts))
        for start in range(0, len(texts), CHUNK):
            out = clf.classify(texts[start : start + CHUNK])
            probs += [p for _, p in out]
            preds += [LABELS.index(name) for name, _ in out]
            bar.advance(task, len(out))
    return np.asarray(probs, dtype=float).reshape(-1, 3), np.asarray(preds, dtype=int)


def load_scored(path: Path, clf: Any, cache_dir: Path, with_topics: bool = False) -> Scored:
    """A labelled file scored by `clf`, from the cache when this model already scored this file."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    if with_topics:
        texts, labels, topics = read_topics(path)
    else:
        (texts, labels), topics = read_semeval(path), None
    cached = cache_path(cache_dir, path, clf)
    if cached.is_file():
        with np.load(cached) as saved:
            probs, preds = saved["probs"], saved["preds"]
    else:
        probs, preds = score(texts, clf, path.name)
        cached.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cached, probs=probs, preds=preds)
    if len(probs) != len(labels):
        raise DataError(f"{cached}: cached scores do not match {path} (delete the cache file)")
    top = np.asarray(topics) if topics is not None else None
    return Scored(probs, preds, np.asarray(labels, dtype=int), top)
