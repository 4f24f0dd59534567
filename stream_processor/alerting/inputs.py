"""What the spike detector reads from a window: the corrected share people see, and its errors."""

from __future__ import annotations

from sentimon.quantify import DEFAULT_METHOD, Sums, estimate
from stream_processor.alerting.detector import Shift


def observation(window: Sums, method: str = DEFAULT_METHOD) -> tuple[int, float, float, Shift | None]:
    """`Detector.observe`'s arguments for a window aggregate (or a span of them): posts, posts times
    the corrected negative share, its sampling standard error, and its class mix with the
    correction's variance per class (None for the uncorrected methods). The detector counts the
    correction's error only for the part of the mix that moved from the baseline: the rest is the
    same in the window and its baseline. The alert service and `bench alerts` both feed the
    detector through this, so alert texts carry the number the dashboard shows."""
    e = estimate(window, method)
    shift = None
    if method in ("acc", "pacc") and e.n > 0:
        var = tuple(getattr(window, f"{method}_cv{part}") / e.n for part in ("", "_neu", "_pos"))
        shift = Shift(mix=e.shares, var=(var[0], var[1], var[2]))
    return e.n, e.n * e.negative, e.sampling_se, shift
