"""A PNG of one benchmark scenario: the share the detector read, its baseline, spikes and alerts."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def plot_scenario(scenario: Any, run: Any, path: Path) -> Path:
    """Draw the share the detector read per window (grey; on real text the corrected estimate, with
    its standard error as a band), the true share (black), the baseline (blue), injected spikes
    (shaded) and fired / resolved alerts (red / green lines)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    share = np.divide(
        scenario.sum_neg, scenario.n, out=np.full(len(scenario.n), np.nan), where=scenario.n > 0
    )
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(13, 6), sharex=True, height_ratios=(3, 1))
    if scenario.se is not None:
        t = np.arange(len(share))
        low, high = share - scenario.se, share + scenario.se
        top.fill_between(t, low, high, color="0.85", lw=0, label="± standard error")
    top.plot(share, color="0.55", lw=0.6, label="negative share read (window)")
    top.plot(scenario.theta, color="black", lw=0.8, label="true share")
    top.plot(run.baseline, color="tab:blue", lw=1.2, label="detector baseline")
    for spike in scenario.spikes:
        top.axvspan(spike.start, spike.end + spike.fade, color="orange", alpha=0.25)
    for i, minute in enumerate(run.fired):
        top.axvline(minute, color="red", lw=1.2, label="alert fired" if i == 0 else None)
    for i, minute in enumerate(run.resolved):
        top.axvline(minute, color="green", lw=1.0, ls="--", label="resolved" if i == 0 else None)
    top.set_ylabel("negative share")
    top.set_title(f"{scenario.name}: injected spikes shaded")
    top.legend(loc="upper left", fontsize=8)
    bottom.plot(scenario.n, color="tab:purple", lw=0.6)
    bottom.set_ylabel("posts / window")
    bottom.set_xlabel("window (minutes)")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
