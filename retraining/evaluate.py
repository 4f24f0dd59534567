"""Old against new after a retraining: both models scored as served on each set (AvgRec, F1^PN,
accuracy, confusion matrix) and the new model's calibrated outputs (the gate and the refit read them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from model.inference import load
from model.metrics import scores
from retraining.data import Labelled
from sentimon.sentiment import LABELS


@dataclass
class Outputs:
    """The new model's calibrated probabilities, predicted and true classes over every set judged
    (what its quantification correction statistics are refitted from)."""

    probs: list[tuple[float, float, float]] = field(default_factory=list)
    preds: list[int] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)  # which set each came from: a collection each


def evaluate_pair(
    old: Path, new: Path, sets: dict[str, Labelled], threads: int | None
) -> tuple[dict[str, dict], Outputs]:
    """Both models on each set exactly as served (calibrated labels, int8 when the card says so)."""
    models = {"old": load(old, threads=threads), "new": load(new, threads=threads)}
    out: dict[str, dict] = {}
    outputs = Outputs()
    for name, (texts, gold) in sets.items():
        row: dict = {"n": len(texts)}
        for which, clf in models.items():
            got = clf.classify(texts) if texts else []
            pred = [LABELS.index(label) for label, _ in got]
            s = scores(gold, pred)
            row[which] = {k: s[k] for k in ("avgrec", "f1pn", "acc", "n", "confusion")}
            if which == "new":
                outputs.probs += [probs for _, probs in got]
                outputs.preds += pred
                outputs.labels += list(gold)
                outputs.groups += [name] * len(got)
        out[name] = row
    return out, outputs
