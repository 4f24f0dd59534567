"""`sentimon bench alerts`: replay generated topic-days through the detector and score its alerts.

By default the topic-days are made of real labelled tweets scored by the shipped classifier and the
detector reads the corrected estimate, as in the service (see scenarios.py); `synthetic=True` uses
the fast Beta draws instead."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.alerts.scenarios import DAY, WARMUP, Scenario, Spike, all_scenarios, build
from bench.alerts.textpool import TextPool
from stream_processor.alerting.config import AlertSettings
from stream_processor.alerting.detector import Detector


@dataclass(frozen=True, slots=True)
class Target:
    """Spikes of at least `size` (true share) at `volume` posts a window must fire within `delay`."""

    key: str
    size: float
    volume: float
    delay: int

    def __str__(self) -> str:
        return (
            f"true rise >= {self.size:.2f} at >= {self.volume:.0f} posts/window, within {self.delay} windows"
        )

    def covers(self, spike: Spike) -> bool:
        return spike.size >= self.size - 1e-9 and spike.volume >= self.volume


TARGETS = (Target("recall", 0.15, 50.0, 3), Target("recall_large", 0.25, 50.0, 2))
MAIN = TARGETS[0]


@dataclass(slots=True)
class Replay:
    """What the detector did on one scenario: windows where it fired or escalated, and its baseline."""

    fired: list[int] = field(default_factory=list)
    escalated: list[int] = field(default_factory=list)
    resolved: list[int] = field(default_factory=list)
    baseline: list[float] = field(default_factory=list)


def replay(scenario: Scenario, settings: AlertSettings) -> Replay:
    detector, out = Detector(settings), Replay()
    se = scenario.se.tolist() if scenario.se is not None else [None] * scenario.windows
    shifts = scenario.shifts or [None] * scenario.windows
    rows = zip(scenario.n.tolist(), scenario.sum_neg.tolist(), se, shifts, strict=True)
    for minute, (n, sum_neg, window_se, shift) in enumerate(rows):
        for event in detector.observe(minute, n, sum_neg, window_se, shift):
            if event.kind == "fired":
                out.fired.append(minute)
            elif event.kind == "escalated":
                out.escalated.append(minute)
            elif event.kind == "resolved":
                out.resolved.append(minute)
        out.baseline.append(detector.state.mean)
    return out


@dataclass(slots=True)
class Tally:
    true_alerts: int = 0
    false_alerts: int = 0
    duplicates: int = 0  # false alerts that were a second alert on one spike
    topic_days: float = 0.0
    delays: list[int] = field(default_factory=list)  # of the main target's hits
    # per target key: [spikes, hits, spikes whose measured rise also reached the size, their hits]
    targets: dict[str, list[int]] = field(default_factory=lambda: {t.key: [0, 0, 0, 0] for t in TARGETS})
    buckets: dict[str, list[int]] = field(default_factory=dict)  # "size@volume" -> [spikes, detected]
    misses: list[str] = field(default_factory=list)

    @property
    def target_spikes(self) -> int:
        return self.targets[MAIN.key][0]

    @property
    def target_hits(self) -> int:
        return self.targets[MAIN.key][1]


def score(scenario: Scenario, run: Replay, tally: Tally) -> None:
    """Match alerts to spikes: an alert inside a spike (or its fade) is true, any other is false,
    and a second alert on the same spike counts as false too (people were told twice). A spike that
    starts while an earlier alert is still open is detected when that alert escalates: people are
    told again, and the earlier alert still counts as false if it began outside every spike."""
    tally.topic_days += (scenario.windows - WARMUP) / DAY
    matched: dict[int, int | None] = {}
    for fired in (f for f in run.fired if f >= WARMUP):
        hit = next((i for i, s in enumerate(scenario.spikes) if s.start <= fired <= s.end + s.fade), None)
        if hit is None or hit in matched:
            tally.false_alerts += 1
            tally.duplicates += hit is not None
        else:
            matched[hit] = fired
            tally.true_alerts += 1
    for i, spike in enumerate(scenario.spikes):
        if i not in matched:
            inside = (e for e in run.escalated if spike.start <= e <= spike.end + spike.fade)
            matched[i] = next(inside, None)
        _score_spike(scenario, run, spike, matched[i], tally)


def measured_rise(scenario: Scenario, run: Replay, spike: Spike, delay: int) -> float:
    """Mean rise of the share the detector read (the corrected estimate, on real text) over its
    baseline in the windows it may use (onset to onset + delay): how big the spike looked in the
    data, not in the plan."""
    first = slice(spike.start, spike.start + delay + 1)
    shares = scenario.sum_neg[first] / scenario.n[first].clip(min=1)
    return float(shares.mean()) - run.baseline[spike.start - 1]


def _score_spike(scenario: Scenario, run: Replay, spike: Spike, fired: int | None, tally: Tally) -> None:
    delay = None if fired is None else fired - spike.start
    bucket = tally.buckets.setdefault(_bucket(spike), [0, 0])
    bucket[0] += 1
    bucket[1] += delay is not None and delay <= MAIN.delay
    for target in (t for t in TARGETS if t.covers(spike)):
        hit = delay is not None and delay <= target.delay
        measured = measured_rise(scenario, run, spike, target.delay)
        visible = measured >= target.size
        counts = tally.targets[target.key]
        counts[0], counts[1], counts[2], counts[3] = (
            counts[0] + 1, counts[1] + hit, counts[2] + visible, counts[3] + (hit and visible)
        )  # fmt: skip
        if hit and target is MAIN and delay is not None:
            tally.delays.append(delay)
        elif not hit:
            what = "missed" if delay is None else f"late by {delay} windows"
            tally.misses.append(
                f"{scenario.name} @ {spike.start}: +{spike.size:.2f} at {spike.volume:.0f}/min {what}"
                f" (target: within {target.delay}; measured rise in its first {target.delay + 1}"
                f" windows: {measured:+.3f})"
            )


def _bucket(spike: Spike) -> str:
    volume = (
        "<20"
        if spike.volume < 20
        else "20-49"
        if spike.volume < 50
        else "50-149"
        if spike.volume < 150
        else "150+"
    )
    return f"+{round(spike.size * 100)}pts @ {volume}/min"


def _ratio(hits: int, total: int) -> float:
    return round(hits / total, 4) if total else 1.0


def summary(tally: Tally, seed: int, scenarios: int, seeds: int = 1, source: str = "") -> dict[str, Any]:
    alerts = tally.true_alerts + tally.false_alerts
    recalls: dict[str, Any] = {}
    for target in TARGETS:
        spikes, hits, visible, visible_hits = tally.targets[target.key]
        recalls[target.key] = _ratio(hits, spikes)
        # recall over the target spikes that also look like one in the data the detector sees
        recalls[f"{target.key}_measured"] = _ratio(visible_hits, visible)
        recalls[f"{target.key}_spikes"] = spikes
    return {
        "precision": round(tally.true_alerts / alerts, 4) if alerts else 1.0,
        **recalls,
        "delay_windows": round(sum(tally.delays) / len(tally.delays), 3) if tally.delays else None,
        "false_alerts_per_topic_day": round(tally.false_alerts / tally.topic_days, 4),
        "source": source,
        "seed": seed,
        "seeds": seeds,
        "scenarios": scenarios,
        "topic_days": round(tally.topic_days, 2),
        "alerts": alerts,
        "false_alerts": tally.false_alerts,
        "duplicate_alerts": tally.duplicates,
        "targets": {t.key: str(t) for t in TARGETS},
        "target_spikes": tally.target_spikes,
        f"detected_within_{MAIN.delay}_by_bucket": {
            k: f"{v[1]}/{v[0]}" for k, v in sorted(tally.buckets.items())
        },
        "misses": tally.misses,
    }


def bench_alerts(
    json_out: bool,
    seed: int = 0,
    settings: AlertSettings | None = None,
    plot: Path | None = None,
    seeds: int = 1,
    pool: TextPool | None = None,
    synthetic: bool = False,
) -> dict[str, Any]:
    """Run every generated scenario of `seeds` seeds from `seed` on, print the scores (a table, or
    JSON) and return them. Scenarios are made of `pool`'s posts (default: the shipped model's pool,
    see textpool.load_pool) unless `synthetic`. Seeds 0-4 tuned the defaults; others are fresh."""
    from rich.progress import track

    settings = settings or AlertSettings()
    if not synthetic and pool is None:
        from bench.alerts.textpool import load_pool

        pool = load_pool(quiet=json_out)
    source = "synthetic (Beta)" if synthetic or pool is None else f"real text, model {pool.version}"
    plan = [item for s in range(seed, seed + seeds) for item in all_scenarios(s)]
    tally, example = Tally(), None
    for family, index, s in track(plan, description="alert scenarios", disable=json_out, transient=True):
        scenario = build(family, index, s, None if synthetic else pool)
        run = replay(scenario, settings)
        score(scenario, run, tally)
        if example is None and scenario.spikes and run.fired:
            example = (scenario, run)
    result = summary(tally, seed, len(plan), seeds, source)
    if plot and example:
        from bench.alerts.plot import plot_scenario

        result["plot"] = str(plot_scenario(*example, plot))
    if json_out:
        print(json.dumps(result, indent=2))
    else:
        _print(result)
    return result


def _print(result: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    first, count = result["seed"], result["seeds"]
    title = f"seed {first}" if count == 1 else f"seeds {first}-{first + count - 1}"
    table = Table("metric", "value", title=f"alert detector, {title}, {result['source']}")
    table.add_row("precision (alerts on a true spike)", f"{result['precision']:.3f}")
    for key, target in result["targets"].items():
        table.add_row(f"recall ({target})", f"{result[key]:.3f} of {result[key + '_spikes']}")
        table.add_row("  ... where the measured rise also reached it", f"{result[key + '_measured']:.3f}")
    table.add_row("mean detection delay (windows after onset)", str(result["delay_windows"]))
    table.add_row("false alerts per topic-day", f"{result['false_alerts_per_topic_day']:.3f}")
    for bucket, hits in result[f"detected_within_{MAIN.delay}_by_bucket"].items():
        table.add_row(f"  detected within {MAIN.delay}: {bucket}", hits)
    console = Console()
    console.print(table)
    for miss in result["misses"]:
        console.print(f"[yellow]miss[/] {miss}")
    if "plot" in result:
        console.print(f"plot: {result['plot']}")


if __name__ == "__main__":
    bench_alerts(
        "--json" in sys.argv,
        seed=int(next((a for a in sys.argv[1:] if a.isdigit()), 0)),
        synthetic="--synthetic" in sys.argv,
    )
