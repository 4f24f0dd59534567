"""What the spike detector reads from a window: the corrected share people see, and its error."""

from __future__ import annotations

from sentimon.quantify import DEFAULT_METHOD, Sums, estimate


def observation(window: Sums, method: str = DEFAULT_METHOD) -> tuple[int, float, float]:
    """`Detector.observe`'s arguments for a window aggregate (or a span of them): posts, posts times
    the corrected negative share, and that share's sampling standard error. The error of the
    correction statistics is left out: it moves a window and the topic's baseline alike, so it is
    no reason to doubt a rise. The alert service and `bench alerts` both feed the detector through
    this, so alert texts carry the number the dashboard shows."""
    e = estimate(window, method)
    return e.n, e.n * e.negative, e.sampling_se
