"""The spike detector on hand-made window streams: fires once, resolves once, stays quiet on noise."""

from __future__ import annotations

import json
import math
import random
from datetime import UTC, datetime

from sentimon.quantify import Z90
from sentimon.schema import WindowAggregate
from stream_processor.alerting.config import AlertSettings
from stream_processor.alerting.detector import FIRING, NORMAL, Detector, DetectorState, Event
from stream_processor.alerting.inputs import observation

# The standard error of a corrected share (from its interval) is about this much above its spread
# over windows: it also carries the error of the correction statistics (`sentimon bench alerts`
# measured 1 / 0.79 on real text). The detector's thresholds are tuned on that scale.
SE_MARGIN = 1.25


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
    n, sum_neg, se = observation(window)
    assert n == 100 and math.isclose(sum_neg, 30.0)
    assert math.isclose(se, math.sqrt(0.3 * 0.7 / 99), rel_tol=1e-9)
    lone = observation(WindowAggregate(1, window.window_start, n=1, acc_neg=1.0, acc_sq=1.0))
    assert math.isclose(lone[2], 0.5), "one post: share 1, its interval clipped at 1; the wider half counts"
    assert Z90 * lone[2] < 1


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
