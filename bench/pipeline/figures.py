"""Numbers from timestamps: sustained rates, latency percentiles, per-second series (pure, no I/O)."""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0–100) by linear interpolation; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def sustained_rate(done_at: Sequence[float], lo: float = 0.1, hi: float = 0.9) -> float:
    """Items per second between the lo and hi fractions of completions: the steady middle of a run,
    without the first batch's start-up or the last partial batch (every stage is measured this way)."""
    if len(done_at) < 2:
        return 0.0
    ordered = sorted(done_at)
    i, j = int(lo * (len(ordered) - 1)), int(hi * (len(ordered) - 1))
    span = ordered[j] - ordered[i]
    if span <= 0:  # all in one instant (one batch): fall back to the whole run
        span = ordered[-1] - ordered[0]
        return len(ordered) / span if span > 0 else math.inf
    return (j - i) / span


def overall_rate(started: float, done_at: Sequence[float]) -> float:
    """Items per second from `started` until the last completion (start-up included)."""
    if not done_at:
        return 0.0
    span = max(done_at) - started
    return len(done_at) / span if span > 0 else math.inf


def per_second(times: Sequence[float], t0: float, step: float = 1.0) -> tuple[list[float], list[float]]:
    """(bucket starts relative to t0, items per second in each bucket), empty buckets included."""
    if not times:
        return [], []
    last = int((max(times) - t0) // step)
    counts = [0] * (last + 1)
    for t in times:
        b = int((t - t0) // step)
        if 0 <= b <= last:
            counts[b] += 1
    return [b * step for b in range(last + 1)], [c / step for c in counts]


def latency_summary(latencies: Sequence[float]) -> dict[str, float]:
    """p50/p95/p99/max in seconds, rounded to the millisecond."""
    out = {f"p{q}_latency_s": percentile(latencies, q) for q in (50, 95, 99)}
    out["max_latency_s"] = max(latencies) if latencies else math.nan
    return {k: round(v, 3) for k, v in out.items()}


def ratio(a: float, b: float) -> float:
    return round(a / b, 3) if b and math.isfinite(b) else math.nan
