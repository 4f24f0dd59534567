"""What a retraining's labels bought (parent against new on each set), as the model card, the CLI and
the dashboard show it: pure formatting of the evaluation a retraining stores."""

from __future__ import annotations

from sentimon.sentiment import LABELS

METRICS = {"avgrec": "AvgRec", "f1pn": "F1^PN", "acc": "accuracy"}
SETS = ("held-back labels", "validation")  # the order every report shows them in


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
