"""Score a classifier on a labelled file: task metrics, predictions, confusion-matrix PNG."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

from model.data import guess_format, read_labelled
from model.inference import ServedModel
from model.metrics import scores
from sentimon.sentiment import LABELS

Progress = Callable[[int, int], None]


def data_format(path: Path) -> str:
    """semeval for a folder or .tsv/.txt, csv for .csv, jsonl for .jsonl/.json/.ndjson."""
    return "semeval" if Path(path).is_dir() else guess_format(path)


def evaluate(
    clf: ServedModel, data: Path, fmt: str | None = None, progress: Progress | None = None
) -> tuple[dict, list[dict]]:
    """(metrics, per-text predictions) of ``clf`` on a labelled file or folder (``fmt`` None: from
    the file's extension); ``progress(done, total)`` while it classifies."""
    texts, gold = read_labelled(Path(data), fmt or data_format(Path(data)))
    done = [0]

    def step(n: int) -> None:
        done[0] += n
        if progress is not None:
            progress(done[0], len(texts))

    t0 = time.perf_counter()
    preds = clf.classify(texts, step)
    seconds = time.perf_counter() - t0
    pred_ids = [LABELS.index(label) for label, _ in preds]
    metrics = scores(gold, pred_ids)
    int8 = any("quantized" in type(m).__module__ for m in clf.net.modules())
    metrics.update(model=clf.version, data=str(data), seconds=round(seconds, 3), device=clf.device, int8=int8)
    rows = [
        {"text": t, "gold": LABELS[g], "label": label, "probs": [round(p, 5) for p in probs]}
        for t, g, (label, probs) in zip(texts, gold, preds, strict=True)
    ]
    return metrics, rows


def write_predictions(rows: list[dict], out: Path) -> None:
    """One JSON object per line: text, gold, label, probs (negative, neutral, positive)."""
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def summary_lines(m: dict) -> list[str]:
    lines = [
        f"model {m['model']} on {m['data']} (n={m['n']})",
        f"AvgRec {m['avgrec']:.4f}   F1^PN {m['f1pn']:.4f}   accuracy {m['acc']:.4f}",
        "",
        f"{'class':<10}{'precision':>10}{'recall':>10}{'F1':>10}{'support':>10}",
    ]
    for name, c in m["per_class"].items():
        lines.append(
            f"{name:<10}{c['precision']:>10.4f}{c['recall']:>10.4f}{c['f1']:>10.4f}{c['support']:>10}"
        )
    lines += ["", "confusion (rows gold, columns predicted: " + ", ".join(LABELS) + ")"]
    lines += ["  " + " ".join(f"{v:>7}" for v in row) for row in m["confusion"]]
    return lines
