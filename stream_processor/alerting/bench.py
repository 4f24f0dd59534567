"""`sentimon bench alerts`: replay generated topic-days through the detector and score its alerts."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stream_processor.alerting.config import AlertSettings
from stream_processor.alerting.detector import Detector
from stream_processor.alerting.scenarios import DAY, WARMUP, Scenario, Spike, all_scenarios, build

TARGET_SIZE, TARGET_VOLUME, TARGET_DELAY = 0.15, 50.0, 2
TARGET = f"rise >= {TARGET_SIZE:.2f} at >= {TARGET_VOLUME:.0f} posts/window, within {TARGET_DELAY} windows"


@dataclass(slots=True)
class Replay:
    """What the detector did on one scenario: windows where it fired or escalated, and its baseline."""

    fired: list[int] = field(default_factory=list)
    escalated: list[int] = field(default_factory=list)
    resolved: list[int] = field(default_factory=list)
    baseline: list[float] = field(default_factory=list)


def replay(scenario: Scenario, settings: AlertSettings) -> Replay:
    detector, out = Detector(settings), Replay()
    for minute, (n, sum_neg) in enumerate(zip(scenario.n.tolist(), scenario.sum_neg.tolist(), strict=True)):
        for event in detector.observe(minute, n, sum_neg):
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
    delays: list[int] = field(default_factory=list)
    target_spikes: int = 0
    target_hits: int = 0
    visible_spikes: int = 0  # target spikes whose measured rise also reached the target size
    visible_hits: int = 0
    buckets: dict[str, list[int]] = field(default_factory=dict)  # "size@volume" -> [spikes, detected]
    misses: list[str] = field(default_factory=list)


def score(scenario: Scenario, run: Replay, tally: Tally) -> None:
    """Match alerts to spikes: an alert inside a spike (or its fade) is true, any other is false,
    and a second alert on the same spike counts as false too (people were told twice). A spike that
    starts while an earlier alert is still open is detected when that alert escalates: people are
    told again, and the earlier alert still counts as false if it began outside every spike."""
    tally.topic_days += (scenario.windows - WARMUP) / DAY
    matched: dict[int, int] = {}
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
        _score_spike(scenario.name, spike, matched[i], tally, _measured_rise(scenario, run, spike))


def _measured_rise(scenario: Scenario, run: Replay, spike: Spike) -> float:
    """Mean rise of the observed share over the detector's baseline in the windows it may use
    (onset to onset + TARGET_DELAY): how big the spike looked in the data, not in the plan."""
    first = slice(spike.start, spike.start + TARGET_DELAY + 1)
    shares = scenario.sum_neg[first] / scenario.n[first].clip(min=1)
    return float(shares.mean()) - run.baseline[spike.start - 1]


def _score_spike(name: str, spike: Spike, fired: int | None, tally: Tally, measured: float) -> None:
    delay = None if fired is None else fired - spike.start
    hit = delay is not None and delay <= TARGET_DELAY
    bucket = tally.buckets.setdefault(_bucket(spike), [0, 0])
    bucket[0] += 1
    bucket[1] += hit
    if spike.size >= TARGET_SIZE and spike.volume >= TARGET_VOLUME:
        tally.target_spikes += 1
        tally.visible_spikes += measured >= TARGET_SIZE
        tally.visible_hits += hit and measured >= TARGET_SIZE
        if hit:
            tally.target_hits += 1
            tally.delays.append(delay)
        else:
            what = "missed" if delay is None else f"late by {delay} windows"
            tally.misses.append(
                f"{name} @ {spike.start}: +{spike.size:.2f} at {spike.volume:.0f}/min {what}"
                f" (measured rise in its first {TARGET_DELAY + 1} windows: {measured:+.3f})"
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


def summary(tally: Tally, seed: int, scenarios: int, seeds: int = 1) -> dict[str, Any]:
    alerts = tally.true_alerts + tally.false_alerts
    visible = tally.visible_hits / tally.visible_spikes if tally.visible_spikes else 1.0
    return {
        "precision": round(tally.true_alerts / alerts, 4) if alerts else 1.0,
        "recall": round(tally.target_hits / tally.target_spikes, 4) if tally.target_spikes else 1.0,
        # recall over the target spikes that also look like one in the data the detector sees
        "recall_measured": round(visible, 4),
        "delay_windows": round(sum(tally.delays) / len(tally.delays), 3) if tally.delays else None,
        "false_alerts_per_topic_day": round(tally.false_alerts / tally.topic_days, 4),
        "seed": seed,
        "seeds": seeds,
        "scenarios": scenarios,
        "topic_days": round(tally.topic_days, 2),
        "alerts": alerts,
        "false_alerts": tally.false_alerts,
        "duplicate_alerts": tally.duplicates,
        "target": TARGET,
        "target_spikes": tally.target_spikes,
        "detected_within_2_by_bucket": {k: f"{v[1]}/{v[0]}" for k, v in sorted(tally.buckets.items())},
        "misses": tally.misses,
    }


def bench_alerts(
    json_out: bool,
    seed: int = 0,
    settings: AlertSettings | None = None,
    plot: Path | None = None,
    seeds: int = 1,
) -> dict[str, Any]:
    """Run every generated scenario of `seeds` seeds from `seed` on, print the scores (a table, or
    JSON) and return them. Seeds 0-4 tuned the defaults; others are fresh draws."""
    from rich.progress import track

    settings = settings or AlertSettings()
    plan = [item for s in range(seed, seed + seeds) for item in all_scenarios(s)]
    tally, example = Tally(), None
    for family, index, s in track(plan, description="alert scenarios", disable=json_out, transient=True):
        scenario = build(family, index, s)
        run = replay(scenario, settings)
        score(scenario, run, tally)
        if example is None and scenario.spikes and run.fired:
            example = (scenario, run)
    result = summary(tally, seed, len(plan), seeds)
    if plot and example:
        from stream_processor.alerting.plot import plot_scenario

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
    table = Table("metric", "value", title=f"alert detector, {title}")
    table.add_row("precision (alerts on a true spike)", f"{result['precision']:.3f}")
    table.add_row(f"recall ({result['target']})", f"{result['recall']:.3f} of {result['target_spikes']}")
    table.add_row("recall where the measured rise also reached it", f"{result['recall_measured']:.3f}")
    table.add_row("mean detection delay (windows after onset)", str(result["delay_windows"]))
    table.add_row("false alerts per topic-day", f"{result['false_alerts_per_topic_day']:.3f}")
    for bucket, hits in result["detected_within_2_by_bucket"].items():
        table.add_row(f"  detected within 2: {bucket}", hits)
    console = Console()
    console.print(table)
    for miss in result["misses"]:
        console.print(f"[yellow]miss[/] {miss}")
    if "plot" in result:
        console.print(f"plot: {result['plot']}")


if __name__ == "__main__":
    bench_alerts("--json" in sys.argv, seed=int(next((a for a in sys.argv[1:] if a.isdigit()), 0)))
