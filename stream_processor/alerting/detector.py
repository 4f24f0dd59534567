"""The per-topic negative-spike detector: pure state machine over 1-minute window aggregates.

Input: each window's corrected negative share, its sampling error and its class mix with the
correction's variance per class (`inputs.observation`: the estimate people see). Baseline: an EWMA
of that share (and of the mix) with a robust spread (an EW mean absolute deviation of Huber-clipped
residuals, scaled per post so one baseline serves busy and quiet minutes). Each window gets a robust
z-score against the larger of the learned spread and the error of its rise over the baseline: its
sampling error, plus the correction statistics' error for the part of the class mix that moved (the
window and its baseline are corrected by the same statistics, so the rest of that error is common
to both and cancels in the rise). A small, noisy window counts for little. Evidence: over the current run
of elevated windows (not back at the baseline), the best recent stretch of at least
`confirm_windows` windows is scored by Stouffer's combined z (sum of capped z / sqrt(length)) and
its mean rise; it fires when both pass their thresholds, so a spike must last (the pending period)
and matter in points as well as in statistics. Hysteresis: recovery needs `recover_windows` windows
back near the baseline; a cooldown follows, which only a clearly bigger rise (the last alert's
level plus `cooldown_break`) may break, so one noise alert cannot hide a real spike right after it.
Imports only the standard library and the settings.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from stream_processor.alerting.config import SEVERITIES, AlertSettings

KIND = "negative_spike"
NORMAL, PENDING, FIRING = "normal", "pending", "firing"
MAD_TO_SIGMA = math.sqrt(math.pi / 2)  # mean absolute deviation → standard deviation (normal data)
HUBER_C = 3.0  # residuals are clipped at this many spreads before they move the baseline
CLIP_AFTER = 5  # windows of history before clipping starts


@dataclass(slots=True)
class DetectorState:
    """Everything the detector remembers about one topic; plain numbers so it serialises as JSON."""

    last_minute: int | None = None  # minute index (epoch seconds // 60) of the last window seen
    count: int = 0  # windows that went into the baseline
    mean: float = 0.0  # baseline negative share
    dev: float = 0.0  # EW mean |residual| * sqrt(posts): the per-post spread
    volume: float = 0.0  # EW posts per window (quiet minutes count as 0)
    run: list[list[float]] = field(default_factory=list)  # [z, rise] of the elevated run, newest last
    run_len: int = 0  # length of the whole elevated run (run keeps only the last scan_windows)
    evidence: float = 0.0  # best combined z of the run at the last window
    phase: str = NORMAL
    streak: int = 0  # breaching windows in a row (pending) or recovered ones (firing)
    quiet: int = 0  # windows in a row without enough posts
    cooldown: int = 0  # windows left before a new alert may open
    firing_len: int = 0
    onset_minute: int | None = None
    severity: str | None = None
    recent: list[float] = field(default_factory=list)  # rises of the last 3 windows while firing
    last_level: float = 0.0  # highest mean rise of the last alert (what a cooldown holds back)
    armed: bool = True  # False after a resolve by hand, until a window is back at the baseline
    mix: list[float] = field(default_factory=list)  # baseline corrected class mix (when windows give one)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> DetectorState:
        """Rebuild from saved JSON; unknown keys (an older or newer version) are ignored."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in (data or {}).items() if k in known})


@dataclass(frozen=True, slots=True)
class Event:
    """Something the alert service must act on: pending, fired, escalated, resolved or cancelled."""

    kind: str
    minute: int
    onset_minute: int | None
    share: float | None
    baseline: float
    rise: float | None
    z: float | None
    score: float
    volume: int
    baseline_volume: float
    severity: str | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Shift:
    """A window's corrected class mix (negative, neutral, positive) and, per true class, the variance
    the correction statistics' error adds to the negative share per unit of that class's share
    squared (`sentimon.quantify.Correction.acc_cv`, averaged over the window's posts)."""

    mix: tuple[float, float, float]
    var: tuple[float, float, float]


@dataclass(frozen=True, slots=True)
class _Obs:
    minute: int
    n: int
    share: float
    rise: float
    z: float
    se: float | None
    shift: Shift | None = None


class Detector:
    """Feed windows in time order with observe(); call advance() to let quiet minutes pass."""

    def __init__(self, settings: AlertSettings, state: DetectorState | None = None):
        self.settings = settings
        self.state = state or DetectorState()

    def observe(
        self, minute: int, n: int, sum_neg: float, se: float | None = None, shift: Shift | None = None
    ) -> list[Event]:
        """One closed window: posts, posts x negative share, and if known the share's sampling
        standard error and its class mix with the correction's variance (see `inputs.observation`).
        Windows at or before the last one seen are ignored (late or repeated)."""
        s = self.state
        if s.last_minute is not None and minute <= s.last_minute:
            return []
        events = self._skip(minute - s.last_minute - 1, minute) if s.last_minute is not None else []
        s.last_minute = minute
        if n < self.settings.min_volume or n <= 0:
            if n > 0 and s.phase == NORMAL and not s.run:  # too few posts to judge, enough to learn
                se = self._error(se, shift)
                self._learn(min(max(sum_neg / n, 0.0), 1.0), n, se, weight=n / self.settings.min_volume)
                self._learn_mix(shift, weight=n / self.settings.min_volume)
            return events + self._quiet(1, minute, n)
        s.quiet = 0
        share = min(max(sum_neg / n, 0.0), 1.0)
        se = self._error(se, shift)
        if s.count < self.settings.warmup_windows:
            self._learn(share, n, se)
            self._learn_mix(shift)
            return events
        obs = _Obs(minute, n, share, share - s.mean, (share - s.mean) / self._sigma(n, se), se, shift)
        if s.phase == FIRING:
            return events + self._while_firing(obs)
        return events + self._while_watching(obs)

    def advance(self, through_minute: int) -> list[Event]:
        """Account for minutes up to through_minute that had no window at all."""
        s = self.state
        if s.last_minute is None or through_minute <= s.last_minute:
            return []
        events = self._skip(through_minute - s.last_minute, through_minute)
        s.last_minute = through_minute
        return events

    def reset(self, cooldown: bool = True, by_hand: bool = False) -> None:
        """Forget the current episode; keep the baseline. After a resolve by hand the same rise must
        not alert again: only a clearly bigger one, or a new one after the share came back down."""
        s = self.state
        s.armed = s.armed and not by_hand
        s.phase, s.streak, s.run, s.run_len, s.evidence = NORMAL, 0, [], 0, 0.0
        s.firing_len, s.onset_minute, s.severity, s.recent = 0, None, None, []
        s.cooldown = self.settings.cooldown_windows if cooldown else 0

    # --- internals ------------------------------------------------------------------------------

    def _skip(self, k: int, minute: int) -> list[Event]:
        return self._quiet(k, minute, 0) if k > 0 else []

    def _quiet(self, k: int, minute: int, n: int) -> list[Event]:
        """k windows without enough posts: no evidence either way, but time passes."""
        s, cfg = self.state, self.settings
        if s.phase != FIRING:
            s.volume = s.volume * (1 - cfg.alpha) ** k + (cfg.alpha * n if n else 0.0)
        s.cooldown = max(0, s.cooldown - k)
        s.quiet += k
        if s.phase == PENDING:
            return [self._cancel(None, "not enough posts")]
        s.run, s.run_len = [], 0
        if s.quiet >= cfg.stale_windows and s.phase == FIRING:
            return [self._resolve(minute, None, "no data")]
        return []

    def _while_watching(self, o: _Obs) -> list[Event]:
        s, cfg = self.state, self.settings
        s.cooldown = max(0, s.cooldown - 1)
        if not self._elevated(o):
            s.run, s.run_len, s.evidence, s.armed = [], 0, 0.0, True
            if s.phase == PENDING:
                return [self._cancel(o, "rise did not last")]
            self._learn(o.share, o.n, o.se)
            self._learn_mix(o.shift)
            return []
        s.run = [*s.run[-(cfg.scan_windows - 1) :], [min(o.z, cfg.z_cap), o.rise]]
        s.run_len += 1
        fire, s.evidence, level = self._judge()
        surge = cfg.volume_surge is None or o.n >= cfg.volume_surge * max(s.volume, 1.0)
        opens = o.z >= cfg.z_enter and o.rise >= cfg.min_rise
        held = (s.cooldown > 0 or not s.armed) and level < s.last_level + cfg.cooldown_break
        events: list[Event] = []
        if s.phase == NORMAL and (opens or fire) and surge and not held:
            s.phase, s.onset_minute = PENDING, o.minute - s.run_len + 1
            s.severity = cfg.severity(max(level, o.rise))
            events.append(self._event("pending", o.minute, o))
        if s.phase == PENDING and fire and surge:
            s.phase, s.streak, s.firing_len, s.recent = FIRING, 0, 0, [o.rise]
            s.severity, s.last_level = cfg.severity(level), level
            events.append(self._event("fired", o.minute, o))
        elif s.phase == NORMAL:  # mildly elevated, or a rise dealt with by hand: part of normal life,
            self._learn(o.share, o.n, o.se, spread=s.armed)  # but a known rise must not widen the spread
            self._learn_mix(o.shift)
        return events

    def _elevated(self, o: _Obs) -> bool:
        """Not back at the baseline: the hysteresis band shared by pending and firing."""
        return o.z > self.settings.recover_z and o.rise > self.settings.recover_rise

    def _judge(self) -> tuple[bool, float, float]:
        """(fire?, best combined z, its mean rise) over the stretches ending now that are at least
        confirm_windows long: fire when one has combined z >= threshold and mean rise >= min_rise."""
        cfg, run = self.settings, self.state.run
        best_z, best_rise, fire = 0.0, 0.0, False
        total_z = total_rise = 0.0
        for length, (z, rise) in enumerate(reversed(run), start=1):
            total_z, total_rise = total_z + z, total_rise + rise
            if length < cfg.confirm_windows:
                continue
            combined, mean_rise = total_z / math.sqrt(length), total_rise / length
            passes = combined >= cfg.threshold and mean_rise >= cfg.min_rise
            if (passes and not fire) or (passes == fire and combined > best_z):
                best_z, best_rise, fire = combined, mean_rise, fire or passes
        return fire, best_z, best_rise

    def _cancel(self, o: _Obs | None, reason: str) -> Event:
        s = self.state
        s.phase, s.streak = NORMAL, 0
        event = self._event("cancelled", o.minute if o else s.last_minute or 0, o, reason=reason)
        s.onset_minute, s.severity = None, None
        return event

    def _while_firing(self, o: _Obs) -> list[Event]:
        s, cfg = self.state, self.settings
        s.firing_len += 1
        s.recent = [*s.recent[-2:], o.rise]
        level = sum(s.recent) / len(s.recent)
        s.last_level = max(s.last_level, level)
        recovered = o.z <= cfg.recover_z or o.rise <= cfg.recover_rise
        s.streak = s.streak + 1 if recovered else 0
        if s.streak >= cfg.recover_windows:
            return [self._resolve(o.minute, o, "recovered")]
        if s.firing_len >= cfg.max_firing_windows:
            s.mean = min(max(s.mean + level, 0.0), 1.0)  # the rise is the new normal
            return [self._resolve(o.minute, o, "new baseline")]
        severity = cfg.severity(level)
        if s.severity and SEVERITIES.index(severity) > SEVERITIES.index(s.severity):
            s.severity = severity
            return [self._event("escalated", o.minute, o)]
        return []

    def _resolve(self, minute: int, o: _Obs | None, reason: str) -> Event:
        event = self._event("resolved", minute, o, reason=reason)
        self.reset(cooldown=True)
        return event

    def _error(self, sampling: float | None, shift: Shift | None) -> float | None:
        """Standard error of the window's rise over the baseline: sampling, plus the correction's
        error for the classes whose share moved (all of the window's mix before a baseline mix exists)."""
        if shift is None:
            return sampling
        base = self.state.mix or (0.0, 0.0, 0.0)
        moved = sum((m - b) ** 2 * v for m, b, v in zip(shift.mix, base, shift.var, strict=True))
        return math.sqrt((sampling or 0.0) ** 2 + moved)

    def _learn_mix(self, shift: Shift | None, weight: float = 1.0) -> None:
        """Move the baseline class mix toward a normal window's, at the baseline share's pace."""
        s = self.state
        if shift is None:
            return
        if not s.mix:
            s.mix = list(shift.mix)
            return
        alpha = max(self.settings.alpha, 1.0 / s.count if s.count else 1.0) * weight
        s.mix = [b + alpha * (m - b) for b, m in zip(s.mix, shift.mix, strict=True)]

    def _sigma(self, n: int, se: float | None) -> float:
        """The spread a window of n posts is judged against: learned, or its own error if larger."""
        learned = MAD_TO_SIGMA * self.state.dev / math.sqrt(n)
        return max(self.settings.sigma_floor, learned, se or 0.0)

    def _learn(
        self, share: float, n: int, se: float | None, spread: bool = True, weight: float = 1.0
    ) -> None:
        """Move the baseline toward a normal window (Huber-clipped once there is some history)."""
        s, cfg = self.state, self.settings
        alpha = max(cfg.alpha, 1.0 / (s.count + 1)) * (weight if s.count else 1.0)
        residual = share - s.mean
        if s.count >= CLIP_AFTER:
            limit = HUBER_C * self._sigma(n, se)
            residual = min(max(residual, -limit), limit)
        if s.count and spread:
            s.dev += alpha * (abs(residual) * math.sqrt(n) - s.dev)
        s.mean += alpha * residual
        if weight == 1.0:  # quiet windows count toward the volume in _quiet
            s.volume += alpha * (n - s.volume) if s.count else n - s.volume
        s.count += 1

    def _event(self, kind: str, minute: int, o: _Obs | None, reason: str | None = None) -> Event:
        s = self.state
        return Event(
            kind=kind, minute=minute, onset_minute=s.onset_minute, share=o.share if o else None,
            baseline=s.mean, rise=o.rise if o else None, z=o.z if o else None, score=s.evidence,
            volume=o.n if o else 0, baseline_volume=s.volume, severity=s.severity, reason=reason,
        )  # fmt: skip
