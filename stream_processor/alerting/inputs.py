"""What the spike detector reads from a window: the corrected share people see, and its error."""

from __future__ import annotations

from sentimon.quantify import DEFAULT_METHOD, Z90, Sums, estimate


def observation(window: Sums, method: str = DEFAULT_METHOD) -> tuple[int, float, float]:
    """`Detector.observe`'s arguments for a window aggregate (or a span of them): posts, posts times
    the corrected negative share, and that share's standard error from its 90% interval (the larger
    half: the interval is clipped to [0, 1]). The interval's correction term counts too: it grows
    with the window's share of the classes whose statistics vary most between collections, so a
    window whose mix, not its negativity, moved the corrected share is held back (on `bench alerts`
    it cut false alerts from 3.1 to 0.19 a topic-day against the sampling error alone). The alert
    service and `bench alerts` both feed the detector through this, so alert texts carry the
    number the dashboard shows."""
    e = estimate(window, method)
    se = max(e.negative_high - e.negative, e.negative - e.negative_low) / Z90
    return e.n, e.n * e.negative, se
