"""Render a model card dict as Markdown (data, hyperparameters, metrics, speed, hashes, reproduce)."""

from __future__ import annotations

import json

from model.gains import markdown
from sentimon.sentiment import LABELS


def _fmt(v: object) -> str:
    return f"{v:.4f}" if isinstance(v, float) else str(v)


def _metric_rows(metrics: dict) -> list[str]:
    rows = ["| split | n | AvgRec | F1^PN | accuracy |", "|---|---:|---:|---:|---:|"]
    for split, m in metrics.items():
        if isinstance(m, dict) and "avgrec" in m:
            rows.append(
                f"| {split} | {m.get('n', '')} | {_fmt(m['avgrec'])} | {_fmt(m.get('f1pn', ''))} "
                f"| {_fmt(m.get('acc', ''))} |"
            )
        elif isinstance(m, dict):
            rows.append(f"| {split} | " + ", ".join(f"{k}={_fmt(v)}" for k, v in m.items()) + " | | | |")
    return rows


def render_markdown(card: dict) -> str:
    lines = [
        f"# Model card: {card.get('version', '?')}",
        "",
        f"- task: {card.get('task')}  ·  parameters: {card.get('parameters')}  ·  vocab: "
        f"{card.get('vocab_size')}  ·  weights: {card.get('weights_dtype')}"
        f"  ·  created {card.get('created')}",
        "",
        "## Metrics",
        "",
        *_metric_rows(card.get("metrics", {})),
        "",
    ]
    evaluation = card.get("retrain", {}).get("evaluation") if isinstance(card.get("retrain"), dict) else None
    if evaluation:
        lines += ["## What the labels bought (parent → this model, both as served)", ""]
        lines += [*markdown(evaluation), ""]
    if card.get("speed"):
        lines += ["## Speed (`sentimon bench classify`: tweets/s, same texts, same run)", ""]
        for key, v in card["speed"].items():
            if isinstance(v, dict) and {"model_tps", "vader_tps", "ratio"} <= set(v):
                lines.append(
                    f"- {key}: model {v['model_tps']:,.0f}/s, VADER {v['vader_tps']:,.0f}/s, ratio "
                    f"{v['ratio']:.2f} (n={v.get('n')}, threads={v.get('threads')}, "
                    f"batch={v.get('batch_size')}, int8={v.get('int8')})"
                )
            else:
                lines.append(f"- {key}: {_fmt(v)}")
        lines.append("")
    if card.get("serving"):
        lines += ["## Serving", "", f"`{json.dumps(card['serving'])}`", ""]
    if card.get("calibration"):
        lines += [
            "## Calibration (fitted on the validation split)",
            "",
            "```json",
            json.dumps(card["calibration"]),
            "```",
            "",
        ]
    if card.get("quantification"):
        lines += _quantification_rows(card["quantification"])
    lines += [
        "## Data",
        "",
        "```json",
        json.dumps(card.get("data", {}), indent=2),
        "```",
        "",
        "## Hyperparameters",
        "",
        "```json",
        json.dumps(card.get("hyperparameters", {}), indent=2),
        "```",
        "",
        "## Files (sha256)",
        "",
        *(f"- `{k}`: `{v}`" for k, v in card.get("files", {}).items()),
        "",
        "## Reproduce",
        "",
        "```sh",
        *card.get("reproduce", []),
        "```",
        "",
        *(f"- {note}" for note in card.get("notes", [])),
        "",
    ]
    return "\n".join(lines)


def _quantification_rows(q: dict) -> list[str]:
    """The correction statistics per-topic shares use (sentimon/quantify.py), as two small tables."""
    names = LABELS
    lines = [
        "## Quantification correction (per-topic shares)",
        "",
        f"Fitted on {q.get('n')} labelled posts never trained on ({q.get('source') or 'validation'}), "
        f"class counts {q.get('counts')}. Columns: true class; rows: predicted class (ACC) or mean "
        "calibrated probability (PACC).",
        "",
    ]
    for method in ("acc", "pacc"):
        m = q[method]
        lines += [
            f"**{method.upper()}** (smallest singular value {m['min_singular_value']:.3f}, "
            f"{'used' if m['usable'] else 'too close to singular: not used'})",
            "",
            "| | " + " | ".join(f"true {n}" for n in names) + " |",
            "|---|---:|---:|---:|",
            *(
                f"| {names[i]} | " + " | ".join(f"{v:.3f}" for v in row) + " |"
                for i, row in enumerate(m["matrix"])
            ),
            "",
        ]
    return lines
