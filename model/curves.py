"""Save training curves (CSV + PNG) and confusion-matrix plots; matplotlib runs headless (Agg)."""

from __future__ import annotations

import csv
from pathlib import Path

from sentimon.sentiment import LABELS


def save_curves(rows: list[dict], folder: Path) -> None:
    """curves.csv (one row per log point / evaluation) and curves.png (losses and validation score)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    columns = list(dict.fromkeys(k for row in rows for k in row))
    with open(folder / "curves.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for key in ("train_loss", "val_loss"):
        pts = [(r["step"], r[key]) for r in rows if r.get(key) is not None]
        if pts:
            ax.plot(*zip(*pts, strict=True), marker="o" if key == "val_loss" else None, label=key)
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    # The score that picks the kept epoch (val AvgRec, after the decision rule when the run selects on
    # that); older curves have only the raw AvgRec.
    key = "score" if any(r.get("score") not in (None, "") for r in rows) else "val_avgrec"
    score_pts = [(r["step"], float(r[key])) for r in rows if r.get(key) not in (None, "")]
    if score_pts:
        name = "val score (picks the epoch)" if key == "score" else "val AvgRec"
        ax2 = ax.twinx()
        ax2.plot(*zip(*score_pts, strict=True), color="tab:green", marker="s", label=name)
        ax2.set_ylabel(name)
        ax2.legend(loc="upper right")
    ax.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(folder / "curves.png", dpi=90)
    plt.close(fig)


def save_confusion_png(table: list[list[int]], path: Path, title: str = "") -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.2, 3.8))
    ax.imshow(table, cmap="Blues")
    ax.set_xticks(range(3), LABELS)
    ax.set_yticks(range(3), LABELS)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    peak = max(max(r) for r in table) or 1
    for i, row in enumerate(table):
        for j, v in enumerate(row):
            ax.text(j, i, str(v), ha="center", va="center", color="white" if v > peak / 2 else "black")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
