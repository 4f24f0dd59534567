"""Topic-days for the alert benchmark: noisy baselines, drifts, cycles, glitches and spikes.

Each family sets a window's post rate and its TRUE negative share theta; the true share wanders
(AR(1) noise) around the topic's base, so shares are overdispersed as in life. Each window draws its
volume from a Poisson rate, then its posts:
- real text (the default): true class counts from theta and the topic's neutral / positive split,
  posts drawn from real labelled tweets scored by the shipped classifier (`textpool.py`), and the
  detector fed the corrected estimate and its standard error, as in the service;
- synthetic (`--synthetic`, fast): each post's negative probability from Beta(theta*kappa,
  (1-theta)*kappa), whose mean is theta, i.e. a perfectly calibrated classifier under prior shift.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from bench.alerts.textpool import TextPool
    from stream_processor.alerting.detector import Shift

DAY = 1440
WARMUP = 120  # windows before scoring starts (the service rebuilds a baseline from history)
SPIKE_SIZES = (0.08, 0.12, 0.15, 0.20, 0.30, 0.40)
SPIKE_RATES = (30.0, 50.0, 80.0, 150.0, 400.0)


@dataclass(frozen=True, slots=True)
class Spike:
    """A true rise of the negative share: it starts abruptly, holds, then fades out."""

    start: int
    end: int  # last window of the plateau
    fade: int  # windows of the linear fade after the plateau
    size: float
    volume: float  # mean posts per window over its first three windows (measured)


@dataclass(slots=True)
class Scenario:
    name: str
    family: str
    n: np.ndarray
    sum_neg: np.ndarray
    theta: np.ndarray
    spikes: list[Spike] = field(default_factory=list)
    se: np.ndarray | None = None  # sampling standard error of each window's share (real text), else None
    shifts: list[Shift | None] | None = None  # each window's class mix and correction variance (real text)

    @property
    def windows(self) -> int:
        return len(self.n)


def _ar_noise(rng: np.random.Generator, length: int, sigma: float, phi: float = 0.9) -> np.ndarray:
    eps = rng.normal(0.0, sigma * np.sqrt(1 - phi**2), length)
    out = np.empty(length)
    level = rng.normal(0.0, sigma)
    for i in range(length):
        level = phi * level + eps[i]
        out[i] = level
    return out


def _draw(rng: np.random.Generator, rate: np.ndarray, theta: np.ndarray, kappa: float) -> tuple:
    """Volumes and summed negative probabilities per window."""
    n = rng.poisson(np.maximum(rate, 0.0))
    theta = np.clip(theta, 0.01, 0.95)
    per_post = np.repeat(theta, n)
    probs = rng.beta(per_post * kappa, (1 - per_post) * kappa) if len(per_post) else per_post
    sums = np.bincount(np.repeat(np.arange(len(n)), n), weights=probs, minlength=len(n))
    return n, sums, theta


def _base(rng: np.random.Generator, length: int, rate: float, cycle: bool) -> tuple:
    t = np.arange(length)
    theta = rng.uniform(0.10, 0.40) + _ar_noise(rng, length, rng.uniform(0.005, 0.02))
    rates = np.full(length, rate)
    if cycle:
        phase = rng.uniform(0, 2 * np.pi)
        rates = rate * (1 + rng.uniform(0.5, 0.8) * np.sin(2 * np.pi * t / DAY + phase))
        theta = theta + rng.uniform(0.02, 0.05) * np.sin(2 * np.pi * t / DAY + phase + np.pi / 3)
    return theta, rates


def generate(family: str, rng: np.random.Generator, index: int, pool: TextPool | None = None) -> Scenario:
    """One topic-day (plus warm-up) of the given family; made of the pool's posts when given."""
    length = WARMUP + DAY
    kappa = rng.uniform(1.0, 3.0)
    rate = {"low_volume": rng.uniform(2, 25), "spikes_edge": 55.0}.get(family, float(rng.choice(SPIKE_RATES)))
    theta, rates = _base(rng, length, rate, cycle=family in ("daily_cycle", "low_volume", "spikes_cycle"))
    spikes_plan: list[tuple[int, int, int, float, float]] = []
    if family == "drift":
        start, span = int(rng.integers(WARMUP, DAY // 2)), int(rng.integers(360, 720))
        ramp = np.clip((np.arange(length) - start) / span, 0, 1)
        theta = theta + rng.choice([-1, 1]) * rng.uniform(0.06, 0.12) * ramp
    elif family == "glitches":
        for at in rng.choice(np.arange(WARMUP, length), size=6, replace=False):
            theta[at] += rng.uniform(0.06, 0.12)
    elif family.startswith("spikes"):
        spikes_plan = _plan_spikes(rng, length, edge=family == "spikes_edge")
        for start, end, fade, size, surge in spikes_plan:
            shape = np.zeros(length)
            shape[start : end + 1] = 1.0
            shape[end + 1 : end + 1 + fade] = np.linspace(1, 0, fade + 2)[1:-1]
            theta = theta + size * shape
            rates = rates * (1 + (surge - 1) * shape)
    se, shifts = None, None
    if pool is None:
        n, sums, theta = _draw(rng, rates, theta, kappa)
    else:
        n, sums, se, shifts, theta = _draw_texts(rng, pool, rates, theta)
    spikes = [Spike(s, e, f, size, float(n[s : s + 3].mean())) for s, e, f, size, _ in spikes_plan]
    return Scenario(f"{family}-{index}", family, n, sums, theta, spikes, se, shifts)


def _draw_texts(rng: np.random.Generator, pool: TextPool, rate: np.ndarray, theta: np.ndarray) -> tuple:
    """Volumes, n x corrected negative share, its sampling error and class-mix shift per window,
    from real posts."""
    from bench.alerts.textpool import detector_inputs

    theta = np.clip(theta, 0.01, 0.95)
    neutral = rng.uniform(0.35, 0.75)  # the topic's neutral share of its non-negative posts
    windows = pool.windows(rng, rng.poisson(np.maximum(rate, 0.0)), theta, neutral)
    return (*detector_inputs(windows), theta)


def _plan_spikes(
    rng: np.random.Generator, length: int, edge: bool
) -> list[tuple[int, int, int, float, float]]:
    """Three spikes a day, far enough apart that each is judged on its own; `edge` ones sit right at
    the target (+15 points at about 50 posts a window, no extra volume), the hardest case it names."""
    plans, slot = [], (length - WARMUP) // 3
    for k in range(3):
        start = WARMUP + k * slot + int(rng.integers(60, slot - 200))
        duration, fade = int(rng.integers(8, 90)), int(rng.integers(3, 20))
        surge = 1.0 if edge else float(rng.choice([1.0, 1.0, rng.uniform(1.2, 2.5)]))
        size = 0.15 if edge else float(rng.choice(SPIKE_SIZES))
        plans.append((start, start + duration - 1, fade, size, surge))
    return plans


FAMILIES = {
    "steady": 6,
    "drift": 4,
    "daily_cycle": 4,
    "low_volume": 4,
    "glitches": 2,
    "spikes": 6,
    "spikes_cycle": 6,
    "spikes_edge": 8,
}


def all_scenarios(seed: int) -> list[tuple[str, int, int]]:
    """The (family, index, seed) of every topic-day in one benchmark run."""
    return [(fam, i, seed) for fam, count in FAMILIES.items() for i in range(count)]


def build(family: str, index: int, seed: int, pool: TextPool | None = None) -> Scenario:
    """Each scenario has its own random stream, so adding one never changes the others."""
    rng = np.random.default_rng([seed, list(FAMILIES).index(family), index])
    scenario = generate(family, rng, index, pool)
    scenario.name = f"{family}-{index}/seed{seed}"
    return scenario
