"""A deterministic stand-in classifier for pure-logic unit tests only (integration tests use the model)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from sentimon.sentiment import LABELS


class WordClassifier:
    """Scores by a few cue words, with a hash-derived jitter so probabilities differ between texts."""

    version = "fake-1"

    def __init__(self) -> None:
        self.calls: list[int] = []

    def classify(self, texts: Sequence[str]) -> list[tuple[str, tuple[float, float, float]]]:
        self.calls.append(len(texts))
        return [self._one(t) for t in texts]

    @staticmethod
    def _one(text: str) -> tuple[str, tuple[float, float, float]]:
        low = text.lower()
        jitter = int(hashlib.sha256(text.encode()).hexdigest()[:4], 16) / 0xFFFF * 0.1
        if any(w in low for w in ("awful", "down", "broken", "hate")):
            probs = (0.8 - jitter, 0.15, 0.05 + jitter)
        elif any(w in low for w in ("love", "great", "thanks")):
            probs = (0.05, 0.15 + jitter, 0.8 - jitter)
        else:
            probs = (0.2, 0.6 - jitter, 0.2 + jitter)
        return LABELS[max(range(3), key=lambda i: probs[i])], probs
