"""The classifier contract the processor needs, and the one place that loads the real model."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

from sentimon.quantify import Correction
from sentimon.sentiment import LABELS

Prediction = tuple[str, tuple[float, float, float]]
# The model sorts a micro-batch by length and runs it in chunks of this many texts: small chunks waste
# little on padding. On the 2-core CPU bench (int8 LSTM, 256-post micro-batches) 64 classified 5.7k
# posts/s against 4.7k/s with the model's default of 512 (`sentimon bench pipeline`, docs in bench/).
INFERENCE_BATCH = 64


class ClassifierError(RuntimeError):
    """The classifier returned something unusable (wrong length, bad probabilities)."""


@runtime_checkable
class PostClassifier(Protocol):
    """What the processing step needs to score a batch of posts (`model.inference.ServedModel`, which
    `load()` returns, is one): one call per batch, labels with (p_neg, p_neu, p_pos)."""

    @property
    def version(self) -> str: ...

    def classify(self, texts: Sequence[str]) -> list[Prediction]: ...


_corrections: dict[str, Correction] = {}


def correction_of(classifier: PostClassifier) -> Correction:
    """The quantification correction of this model version (its `quantification` statistics; none:
    identity, i.e. plain counting), built once per version."""
    version = str(classifier.version)
    found = _corrections.get(version)
    if found is None:
        found = _corrections[version] = Correction.from_stats(getattr(classifier, "quantification", None))
    return found


def load_classifier(path: Path | None = None) -> PostClassifier:
    """Load the model once per process (GPU when present); imported lazily to keep start-up cheap."""
    from model.inference import load  # the model helper's API

    return load(path, batch_size=INFERENCE_BATCH)


def checked(predictions: Sequence[Prediction], expected: int) -> list[Prediction]:
    """Refuse predictions that would corrupt aggregates, rather than store them."""
    if len(predictions) != expected:
        raise ClassifierError(f"classifier returned {len(predictions)} predictions for {expected} texts")
    out: list[Prediction] = []
    for label, probs in predictions:
        if label not in LABELS or len(probs) != 3:
            raise ClassifierError(f"bad prediction {label!r} {probs!r}")
        p = (float(probs[0]), float(probs[1]), float(probs[2]))
        if not all(math.isfinite(x) and 0.0 <= x <= 1.0 for x in p) or abs(sum(p) - 1.0) > 1e-3:
            raise ClassifierError(f"probabilities {p} are not a distribution")
        out.append((label, p))
    return out
