"""The bench's picture: negative-share error against true prevalence, per method, one panel per size."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from sentimon.quantify import ALL_METHODS, DEFAULT_METHOD

COLOUR = {m: f"C{i}" for i, m in enumerate(ALL_METHODS)}


def plot_errors(
    rows: pd.DataFrame, inside: pd.DataFrame, prior_negative: float, band: float, out: Path
) -> Path:
    """Mean absolute error of the negative share at each grid point (the default method bold); ACC/PACC
    with in-domain statistics dashed; the calibration set's negative share ± band shaded."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = sorted(rows["size"].unique())
    fig, axes = plt.subplots(1, len(sizes), figsize=(5 * len(sizes), 4.8), sharey=True, squeeze=False)
    main = _curves(rows)
    diag = _curves(inside)
    for ax, size in zip(axes[0], sizes, strict=True):
        ax.axvspan(prior_negative - band, prior_negative + band, color="0.9", label="calibration mix ± 0.1")
        for method, curve in main.get(size, {}).items():
            width = 2.5 if method == DEFAULT_METHOD else 1.2
            ax.plot(*curve, marker="o", ms=3, lw=width, color=COLOUR[method], label=method)
        for method, curve in diag.get(size, {}).items():
            label = f"{method}, statistics fitted in-domain (diagnostic)"
            ax.plot(*curve, ls="--", lw=1, color=COLOUR[method], label=label)
        ax.set_title(f"samples of {size} posts")
        ax.set_xlabel("true negative share (grid point)")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("negative-share MAE")
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=4, fontsize=8, frameon=False)
    fig.suptitle("twitter-2016test-A, artificial-prevalence protocol (correction statistics: dev+devtest)")
    fig.tight_layout(rect=(0, 0.12, 1, 1))
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def _curves(rows: pd.DataFrame) -> dict[Any, dict[str, tuple[list[float], list[float]]]]:
    """{size: {method: (grid points, MAE)}} in ALL_METHODS order."""
    out: dict[Any, dict[str, tuple[list[float], list[float]]]] = {}
    if not len(rows):
        return out
    table = rows.groupby(["size", "method", "grid"])["ae_negative"].mean()
    for size in sorted(rows["size"].unique()):
        for method in ALL_METHODS:
            if (size, method) in table:
                curve = table[size, method]
                out.setdefault(size, {})[method] = (list(curve.index), list(curve.values))
    return out
