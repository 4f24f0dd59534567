"""The spike detector on hand-made window streams: fires once, resolves once, stays quiet on noise."""

from __future__ import annotations

import json
import math
import random
from datetime import UTC, datetime

from sentimon.quantify import Z90
from sentimon.schema import WindowAggregate
from stream_processor.alerting.config import AlertSettings
from stream_processor.alerting.detector import FIRING, NORMAL, Detector, DetectorState, Event, Shift
from stream_processor.alerting.inputs import observation

# The sampling standard error a window reports is its spread over windows (on a steady topic's real
# text, `sentimon bench alerts` sees the two agree); the detector's thresholds are tuned on that scale.
SE_MARGIN = 1.0


def windows(shares: list[float], n: int | list[int] = 100, seed: int = 1, noise: float = 0.02):
    """(minute, n, n x share, se) per window: the given true shares plus seeded Gaussian noise of
    `noise` per 100 posts, and the standard error the window's interval would give."""
    rng = random.Random(seed)
    sizes = n if isinstance(n, list) else [n] * len(shares)
    for minute, (share, size) in enumerate(zip(shares, sizes, strict=True)):
        spread = noise * math.sqrt(100 / size)
        observed = min(max(share + rng.gauss(0, spread), 0.0), 1.0)
        yield minute, size, observed * size, SE_MARGIN * spread


def run(detector: Detector, stream) -> list[Event]:
    events: list[Event] = []
    for minute, n, sum_neg, se in stream:
        events += detector.observe(minute, n, sum_neg, se)
    return events


def kinds(events: list[Event]) -> list[str]:
    return [e.kind for e in events]


def test_a_spike_fires_once_and_resolves_once() -> None:
    shares = [0.20] * 120 + [0.45] * 30 + [0.20] * 60
    events = run(Detector(AlertSettings()), windows(shares))
    assert kinds(events) == ["pending", "fired", "resolved"]
    pending, fired, resolved = events
    assert pending.minute == 120 and pending.onset_minute == 120
    assert fired.minute in (121, 122), "a +25 point rise at 100 posts/min fires within 2 windows"
    assert abs(fired.baseline - 0.20) < 0.01 and fired.rise > 0.15 and fired.volume == 100
    assert fired.severity == "major"
    assert 150 < resolved.minute <= 155 and resolved.reason == "recovered"


def test_steady_noise_raises_at_most_one_alert_a_day() -> None:
    for seed in range(3):
        events = run(Detector(AlertSettings()), windows([0.25] * 1440, seed=seed, noise=0.04))
        assert kinds(events).count("fired") <= 1, seed


def test_the_window_standard_error_is_read_off_its_corrected_estimate() -> None:
    """A hand-built window of a model without correction (identity: the corrected vector of a post
    is its predicted class): 30 of 100 posts negative, so the share is 0.3 and its standard error
    the sample one, sqrt(p (1 - p) / (n - 1))."""
    window = WindowAggregate(1, datetime(2026, 1, 5, tzinfo=UTC), n=100, n_neg=30, n_neu=50, n_pos=20)
    window.acc_neg, window.acc_neu, window.acc_pos, window.acc_sq = 30.0, 50.0, 20.0, 30.0
    n, sum_neg, se, shift = observation(window)
    assert n == 100 and math.isclose(sum_neg, 30.0)
    assert math.isclose(se, math.sqrt(0.3 * 0.7 / 99), rel_tol=1e-9)
    assert shift == Shift(mix=(0.3, 0.5, 0.2), var=(0.0, 0.0, 0.0))
    lone = observation(WindowAggregate(1, window.window_start, n=1, acc_neg=1.0, acc_sq=1.0))
    assert math.isclose(lone[2], 0.5), "one post: the sampling error of a single share is 0.5"
    assert Z90 * lone[2] < 1
    assert observation(window, "cc")[3] is None, "uncorrected counts have no correction error"


def test_the_correction_error_per_class_is_read_off_the_window_sums() -> None:
    """A window's acc_cv sums hold each post's per-class variance constants: the shift carries their
    mean, so a window scored by two model versions gets the mean of theirs."""
    window = WindowAggregate(1, datetime(2026, 1, 5, tzinfo=UTC), n=4, n_neg=2, n_neu=1, n_pos=1)
    window.acc_neg, window.acc_neu, window.acc_pos, window.acc_sq = 2.0, 1.0, 1.0, 2.0
    window.acc_cv, window.acc_cv_neu, window.acc_cv_pos = 0.4, 2.0, 1.2
    shift = observation(window)[3]
    assert shift is not None and shift.var == (0.1, 0.5, 0.3)


# Per true class, the negative share's variance from the correction statistics per unit share^2:
# about the shipped model's (the true-neutral column is the one collections disagree on most).
VAR = (0.01, 0.07, 0.001)


def _mixed(n: int, mixes: list[tuple[float, float, float]], seed: int = 2):
    """Windows of n posts with the given corrected class mixes (negative first), sampling noise on
    the negative share, and the correction variances VAR."""
    rng = random.Random(seed)
    se = math.sqrt(0.2 * 0.8 / n)
    for minute, mix in enumerate(mixes):
        neg = min(max(mix[0] + rng.gauss(0, se), 0.0), 1.0)
        yield minute, n, neg * n, se, Shift(mix=(neg, mix[1], mix[2]), var=VAR)


def test_a_busy_topics_rise_is_judged_on_its_sampling_error_not_the_whole_correction() -> None:
    """400 posts a minute, half of them neutral: the statistics' error alone puts +-22 points on
    each window's share. But the window and its baseline are corrected by the same statistics, so a
    +15 point rise that leaves the rest of the mix in proportion is plain to see, and fires. Judged
    on the whole interval, it would not."""
    mixes = [(0.2, 0.5, 0.3)] * 120 + [(0.35, 0.4063, 0.2437)] * 10
    fired = [e for e in run_shifts(Detector(AlertSettings()), _mixed(400, mixes)) if e.kind == "fired"]
    assert len(fired) == 1 and fired[0].minute in (121, 122)
    whole = math.sqrt(sum(m * m * v for m, v in zip(mixes[0], VAR, strict=True)))
    assert Z90 * whole > 0.2
    full = ((m, n, s, math.hypot(se, whole)) for m, n, s, se, _ in _mixed(400, mixes))
    assert "fired" not in kinds(run(Detector(AlertSettings()), full))


def test_a_moved_class_mix_is_held_back_by_the_correction_error() -> None:
    """The negative reading rises 12 points only because neutral posts turned positive, a mix the
    statistics are unsure about: its error covers the rise, and nothing fires. Fed the sampling
    error alone, the same windows alert."""
    mixes = [(0.2, 0.6, 0.2)] * 120 + [(0.32, 0.1, 0.58)] * 10
    assert "fired" not in kinds(run_shifts(Detector(AlertSettings()), _mixed(400, mixes)))
    sampling_only = ((m, n, s, se) for m, n, s, se, _ in _mixed(400, mixes))
    assert "fired" in kinds(run(Detector(AlertSettings()), sampling_only))


def run_shifts(detector: Detector, stream) -> list[Event]:
    events: list[Event] = []
    for minute, n, sum_neg, se, shift in stream:
        events += detector.observe(minute, n, sum_neg, se, shift)
    return events


def test_a_single_noisy_small_window_cannot_fire() -> None:
    """A window of 25 posts reads 0.95 against a 0.2 baseline, but its own standard error says it
    could be anything: it opens nothing, and a mildly elevated window after it does not carry it to
    an alert. Without its error the same two windows fire."""
    base = list(windows([0.2] * 100))
    small, mild = (100, 25, 0.95 * 25, 1.0), (101, 100, 0.24 * 100, 0.02)
    noisy = Detector(AlertSettings())
    run(noisy, base)
    assert noisy.observe(*small) == [] and noisy.state.phase == NORMAL
    assert "fired" not in kinds(noisy.observe(*mild))
    blind = Detector(AlertSettings())
    run(blind, base)
    assert kinds(blind.observe(*small[:3])) == ["pending"]
    assert kinds(blind.observe(*mild[:3])) == ["fired"]


def test_no_alert_below_min_volume() -> None:
    shares = [0.2] * 120 + [0.6] * 30 + [0.2] * 30
    sizes = [100] * 120 + [15] * 30 + [100] * 30
    events = run(Detector(AlertSettings(min_volume=20)), windows(shares, n=sizes))
    assert kinds(events) == []


def test_a_quiet_topic_learns_its_baseline_and_catches_a_loud_spike() -> None:
    """Minutes below min_volume are no evidence of a spike, but they do teach the baseline: a topic
    that has always been quiet is not still warming up when its first busy, angry minute comes."""
    shares = [0.2] * 200 + [0.5] * 10 + [0.2] * 20
    sizes = [8] * 200 + [60] * 30
    events = run(Detector(AlertSettings(min_volume=20)), windows(shares, n=sizes))
    fired = [e for e in events if e.kind == "fired"]
    assert len(fired) == 1 and fired[0].minute in (201, 202)
    assert abs(fired[0].baseline - 0.2) < 0.03


def test_a_one_window_blip_goes_pending_then_is_cancelled() -> None:
    shares = [0.2] * 100 + [0.6] + [0.2] * 20
    events = run(Detector(AlertSettings()), windows(shares))
    assert kinds(events) == ["pending", "cancelled"]


def test_missing_windows_neither_fire_nor_crash_and_a_silent_topic_resolves() -> None:
    detector = Detector(AlertSettings(stale_windows=10))
    events = run(detector, windows([0.2] * 100 + [0.5] * 5))
    assert kinds(events) == ["pending", "fired"]
    # the topic goes silent: no windows at all for 20 minutes
    assert kinds(detector.advance(114)) == ["resolved"]
    assert detector.state.phase == NORMAL
    # a late window for a minute already passed is ignored
    assert detector.observe(110, 100, 50.0, 0.02) == [] and detector.state.last_minute == 114


def test_state_survives_a_json_round_trip_mid_episode() -> None:
    stream = list(windows([0.2] * 100 + [0.5] * 20 + [0.2] * 30))
    whole = run(Detector(AlertSettings()), stream)
    first = Detector(AlertSettings())
    events = run(first, stream[:110])
    assert first.state.phase == FIRING
    saved = json.loads(json.dumps(first.state.to_dict()))
    second = Detector(AlertSettings(), DetectorState.from_dict({**saved, "unknown_future_field": 1}))
    events += run(second, stream[110:])
    assert kinds(events) == kinds(whole) and [e.minute for e in events] == [e.minute for e in whole]


def test_volume_surge_option_requires_more_posts() -> None:
    shares = [0.2] * 100 + [0.5] * 20 + [0.2] * 40
    flat = run(Detector(AlertSettings(volume_surge=1.5)), windows(shares))
    assert "fired" not in kinds(flat)
    surging = run(Detector(AlertSettings(volume_surge=1.5)), windows(shares, n=[100] * 100 + [200] * 60))
    assert "fired" in kinds(surging)


def test_severity_escalates_while_firing() -> None:
    shares = [0.2] * 100 + [0.30] * 5 + [0.6] * 10 + [0.2] * 20
    events = run(Detector(AlertSettings()), windows(shares, n=200))
    assert kinds(events)[:2] == ["pending", "fired"] and events[1].severity == "minor"
    escalations = [e.severity for e in events if e.kind == "escalated"]
    assert escalations in (["major", "critical"], ["critical"])


def test_cooldown_holds_back_a_second_alert() -> None:
    spike = [0.5] * 10
    shares = [0.2] * 100 + spike + [0.2] * 10 + spike + [0.2] * 40 + spike + [0.2] * 10
    events = run(Detector(AlertSettings(cooldown_windows=30)), windows(shares))
    fired = [e.minute for e in events if e.kind == "fired"]
    assert len(fired) == 2 and fired[0] < 112 and fired[1] > 170


def test_a_clearly_bigger_spike_breaks_the_cooldown() -> None:
    """A small alert must not hide a much worse one that follows it within the cooldown."""
    shares = [0.2] * 100 + [0.32] * 6 + [0.2] * 6 + [0.6] * 10 + [0.2] * 20
    events = run(Detector(AlertSettings(cooldown_windows=30)), windows(shares))
    fired = [e for e in events if e.kind == "fired"]
    assert len(fired) == 2 and fired[0].minute < 106 and 112 <= fired[1].minute <= 114 and fired[1].rise > 0.3
    assert fired[1].severity == "critical"


def test_a_lasting_rise_becomes_the_new_baseline() -> None:
    shares = [0.2] * 100 + [0.5] * 200
    events = run(Detector(AlertSettings(max_firing_windows=60)), windows(shares))
    assert kinds(events) == ["pending", "fired", "resolved"]
    assert events[-1].reason == "new baseline"


def test_reset_after_a_manual_resolve_starts_a_cooldown() -> None:
    detector = Detector(AlertSettings(cooldown_windows=5))
    run(detector, windows([0.2] * 100 + [0.5] * 3))
    assert detector.state.phase == FIRING
    detector.reset(cooldown=True)
    assert detector.state.phase == NORMAL and detector.state.cooldown == 5


def test_a_rise_resolved_by_hand_stays_quiet_until_the_share_comes_back() -> None:
    """Someone resolved the alert mid-spike: the same rise must not re-alert once the cooldown
    ends, but a fresh rise after the share came back down does."""
    stream = list(windows([0.2] * 100 + [0.5] * 60 + [0.2] * 20 + [0.5] * 10, seed=3))
    detector = Detector(AlertSettings(cooldown_windows=5))
    assert "fired" in kinds(run(detector, stream[:105]))
    detector.reset(cooldown=True, by_hand=True)
    assert kinds(run(detector, stream[105:160])) == []
    later = run(detector, stream[160:])
    assert [e.kind for e in later if e.kind == "fired"] == ["fired"] and later[-1].minute >= 180
