"""What the spike detector reads from a window: the corrected share people see, and its errors."""

from __future__ import annotations

from sentimon.quantify import DEFAULT_METHOD, Sums, correction_variances, estimate
from stream_processor.alerting.detector import Shift


def observation(window: Sums, method: str = DEFAULT_METHOD) -> tuple[int, float, float, Shift | None]:
    """`Detector.observe`'s arguments for a window aggregate (or a span of them): posts, posts times
    the corrected negative share, its sampling standard error, and its class mix with the
    correction's variance per class (None for the uncorrected methods). The detector counts the
    correction's error only for the part of the mix that moved from the baseline: the rest is the
    same in the window and its baseline. The alert service and `bench alerts` both feed the
    detector through this, so alert texts carry the number the dashboard shows."""
    e = estimate(window, method)
    corrected = method in ("acc", "pacc") and e.n > 0
    shift = Shift(mix=e.shares, var=correction_variances(window, method)) if corrected else None
    return e.n, e.n * e.negative, e.sampling_se, shift
