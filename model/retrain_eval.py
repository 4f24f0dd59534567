"""Old against new after a retraining: both models scored as served on each set (AvgRec, F1^PN,
accuracy, confusion matrix), what the labels bought, and the new model's calibrated outputs."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from model.retrain_data import Labelled

METRICS = {"avgrec": "AvgRec", "f1pn": "F1^PN", "acc": "accuracy"}
SETS = ("held-back labels", "validation")  # the order every report shows them in


@dataclass
class Outputs:
    """The new model's calibrated probabilities, predicted and true classes over every set judged
    (what its quantification correction statistics are refitted from)."""

    probs: list[tuple[float, float, float]] = field(default_factory=list)
    preds: list[int] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)


def evaluate_pair(
    old: Path, new: Path, sets: dict[str, Labelled], threads: int | None
) -> tuple[dict[str, dict], Outputs]:
    """Both models on each set exactly as served (calibrated labels, int8 when the card says so)."""
    from model.data import LABELS
    from model.inference import load
    from model.metrics import scores

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
        out[name] = row
    return out, outputs


def gains(evaluation: dict) -> dict[str, dict[str, float]]:
    """new − old of each headline metric on each non-empty set: what the labels bought."""
    return {
        name: {k: round(r["new"][k] - r["old"][k], 4) for k in METRICS}
        for name, r in _ordered(evaluation)
        if r.get("n")
    }


def _ordered(evaluation: dict) -> list[tuple[str, dict]]:
    return sorted(evaluation.items(), key=lambda kv: SETS.index(kv[0]) if kv[0] in SETS else len(SETS))


def one_line(evaluation: dict, metric: str = "avgrec", sep: str = " · ") -> str:
    """'held-back labels 0.535 → 0.557 (+0.022) · validation 0.661 → 0.665 (+0.003)'."""
    parts = [
        f"{name} {r['old'][metric]:.3f} → {r['new'][metric]:.3f} ({r['new'][metric] - r['old'][metric]:+.3f})"
        for name, r in _ordered(evaluation)
        if r.get("n")
    ]
    return sep.join(parts)


def markdown(evaluation: dict) -> list[str]:
    """The card's 'What the labels bought' section: a before/after table and both confusion matrices."""
    from model.data import LABELS

    lines = ["| set | n | metric | parent | this model | gain |", "|---|---:|---|---:|---:|---:|"]
    for name, r in _ordered(evaluation):
        if not r.get("n"):
            continue
        for key, label in METRICS.items():
            old, new = r["old"][key], r["new"][key]
            lines.append(f"| {name} | {r['n']} | {label} | {old:.4f} | {new:.4f} | {new - old:+.4f} |")
    for name, r in _ordered(evaluation):
        if not r.get("n") or "confusion" not in r["old"]:
            continue
        lines += [
            "",
            f"Confusion on {name} (rows gold, columns predicted: {', '.join(LABELS)}), parent → this model:",
            "",
        ]
        lines += ["| gold | " + " | ".join(LABELS) + " |", "|---|" + "---:|" * len(LABELS)]
        for i, gold in enumerate(LABELS):
            cells = [
                f"{r['old']['confusion'][i][j]} → {r['new']['confusion'][i][j]}" for j in range(len(LABELS))
            ]
            lines.append(f"| {gold} | " + " | ".join(cells) + " |")
    return lines
