"""SemEval-2017 Task 4A metrics: AvgRec, F1^PN, accuracy, per-class P/R/F1, confusion matrix."""

from __future__ import annotations

from collections.abc import Sequence

from sentimon.sentiment import LABELS


def confusion(gold: Sequence[int], pred: Sequence[int], k: int = 3) -> list[list[int]]:
    """Counts with rows = gold class, columns = predicted class."""
    if len(gold) != len(pred):
        raise ValueError(f"{len(gold)} gold labels but {len(pred)} predictions")
    table = [[0] * k for _ in range(k)]
    for g, p in zip(gold, pred, strict=True):
        table[g][p] += 1
    return table


def _ratio(a: float, b: float) -> float:
    return a / b if b else 0.0


def scores(gold: Sequence[int], pred: Sequence[int]) -> dict:
    """All task metrics in one dict (fractions in 0..1; a class absent from gold has recall 0)."""
    table = confusion(gold, pred)
    n = len(gold)
    per_class = {}
    for c, name in enumerate(LABELS):
        tp = table[c][c]
        support = sum(table[c])
        predicted = sum(row[c] for row in table)
        p, r = _ratio(tp, predicted), _ratio(tp, support)
        per_class[name] = {"precision": p, "recall": r, "f1": _ratio(2 * p * r, p + r), "support": support}
    return {
        "n": n,
        "avgrec": sum(v["recall"] for v in per_class.values()) / len(LABELS),
        "f1pn": (per_class["positive"]["f1"] + per_class["negative"]["f1"]) / 2,
        "acc": _ratio(sum(table[c][c] for c in range(len(LABELS))), n),
        "per_class": per_class,
        "confusion": table,
    }
