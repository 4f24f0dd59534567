"""Real labelled tweets scored by the shipped classifier, drawn into windows for `bench alerts`.

The pool is SemEval twitter-2016test-A (the model never trained on it; its correction statistics
come from dev+devtest). It is scored once per model version and cached under var/cache/. A window
draws its posts with replacement from the per-true-class pools, so the classifier's errors and its
prior bias are in every sum the detector sees, and adds up what each post contributes to a window
aggregate (predicted class, probabilities and its corrected vector, exactly as the pipeline does).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sentimon.quantify import Correction
from sentimon.schema import EPOCH, WINDOW_SUMS, WindowAggregate
from stream_processor.alerting.inputs import observation

POOL_FILE = "semeval2017-task4/subtask_a/twitter-2016test-A.tsv"
COLUMNS = WINDOW_SUMS[1:]  # what one post adds to a window, besides n


class PoolMissing(FileNotFoundError):
    """The labelled tweets the real-text scenarios are made of are not on this machine."""


@dataclass(frozen=True, slots=True)
class TextPool:
    """Per true class (negative, neutral, positive), one row per post of what it adds to each of
    COLUMNS."""

    by_class: tuple[np.ndarray, np.ndarray, np.ndarray]
    version: str

    @classmethod
    def from_scored(
        cls, probs: Any, preds: Any, truths: Any, correction: Correction, version: str
    ) -> TextPool:
        """From calibrated probabilities [n, 3], predicted and true class ids of the same posts."""
        p = np.asarray(probs, dtype=float).reshape(-1, 3)
        yhat, y = np.asarray(preds, dtype=int), np.asarray(truths, dtype=int)
        rows = np.array([_row(int(c), r, correction) for c, r in zip(yhat, p.tolist(), strict=True)])
        by_class = tuple(rows[y == c] for c in range(3))
        if any(len(b) == 0 for b in by_class):
            raise ValueError("the pool needs posts of every true class")
        return cls(by_class, version)

    def windows(
        self, rng: np.random.Generator, n: np.ndarray, theta: np.ndarray, neutral: float
    ) -> list[WindowAggregate]:
        """One aggregate per window: n[t] posts, of which Binomial(n, theta[t]) truly negative and
        the rest split neutral / positive at `neutral`, each drawn from its class's pool."""
        n = np.asarray(n, dtype=int)
        n_neg = rng.binomial(n, theta)
        n_neu = rng.binomial(n - n_neg, neutral)
        sums = np.zeros((len(n), len(COLUMNS)))
        for pool, k in zip(self.by_class, (n_neg, n_neu, n - n_neg - n_neu), strict=True):
            drawn = pool[rng.integers(0, len(pool), int(k.sum()))]
            ends = np.cumsum(k)
            running = np.vstack([np.zeros(len(COLUMNS)), np.cumsum(drawn, axis=0)])
            sums += running[ends] - running[ends - k]
        return [_aggregate(int(size), row) for size, row in zip(n, sums.tolist(), strict=True)]


def _row(label: int, probs: list[float], correction: Correction) -> list[float]:
    onehot = [float(label == c) for c in range(3)]
    return [*onehot, *probs, *correction.contribution(label, probs)]


def _aggregate(n: int, row: list[float]) -> WindowAggregate:
    window = WindowAggregate.from_sums(0, EPOCH, {"n": n, **dict(zip(COLUMNS, row, strict=True))})
    window.n_neg, window.n_neu, window.n_pos = (round(x) for x in row[:3])
    return window


def detector_inputs(windows: list[WindowAggregate]) -> tuple[np.ndarray, np.ndarray, np.ndarray, list]:
    """n, n x corrected negative share, its sampling standard error and the class-mix shift per
    window, as the service feeds them."""
    obs = [observation(w) for w in windows]
    rows = np.array([o[:3] for o in obs]).reshape(-1, 3)
    return rows[:, 0].astype(int), rows[:, 1], rows[:, 2], [o[3] for o in obs]


def load_pool(data_dir: Path | None = None, cache_dir: Path | None = None, quiet: bool = False) -> TextPool:
    """The shipped model's pool: scored once per model version (and config), then read from cache."""
    from model.data import DEFAULT_DATA_DIR
    from model.inference import resolve_path
    from model.registry import read_card

    data = Path(data_dir or DEFAULT_DATA_DIR) / POOL_FILE
    if not data.is_file():
        raise PoolMissing(
            f"{data} not found: the real-text alert scenarios are made of its labelled tweets. "
            "Put the shared data there (or pass --data DIR), or run with --synthetic."
        )
    folder = resolve_path(None)
    card = read_card(folder)
    key = f"{card['version']}-{card.get('files', {}).get('config.json', 'nohash')[:12]}"
    cache = Path(cache_dir or _cache_dir()) / f"alert-pool-{data.stem}-{key}.npz"
    if not cache.is_file():
        _score(data, folder, cache, quiet)
    stored = np.load(cache)
    stats = json.loads(str(stored["quantification"]))
    return TextPool.from_scored(
        stored["probs"], stored["preds"], stored["truths"], Correction.from_stats(stats), card["version"]
    )


def _cache_dir() -> Path:
    from sentimon.settings import get_settings

    return get_settings().data_dir / "cache"


def _score(data: Path, folder: Path, cache: Path, quiet: bool) -> None:
    """Classify every tweet of the pool with the real classifier and save what the pool needs."""
    from rich.progress import track

    from model.data import read_semeval
    from sentimon.sentiment import LABELS
    from stream_processor.classifier import load_classifier

    texts, truths = read_semeval(data)
    classifier = load_classifier(folder)
    chunk = 1024
    out: list[Any] = []
    for start in track(range(0, len(texts), chunk), description="scoring the tweet pool", disable=quiet):
        out += classifier.classify(texts[start : start + chunk])
    cache.parent.mkdir(parents=True, exist_ok=True)
    partial = cache.with_suffix(".tmp.npz")
    np.savez(
        partial,
        probs=np.array([p for _, p in out]),
        preds=np.array([LABELS.index(label) for label, _ in out]),
        truths=np.array(truths),
        quantification=json.dumps(getattr(classifier, "quantification", None)),
    )
    partial.replace(cache)
