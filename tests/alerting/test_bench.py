"""`sentimon bench alerts`: the generated scenarios are scored and the detector meets its targets."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from stream_processor.alerting.bench import Replay, Tally, bench_alerts, replay, score
from stream_processor.alerting.cli import app
from stream_processor.alerting.config import AlertSettings
from stream_processor.alerting.scenarios import DAY, WARMUP, Scenario, Spike, build


def test_json_output_has_the_four_keys_and_meets_the_targets_on_the_tuning_seed() -> None:
    result = CliRunner().invoke(app, ["alerts", "--json", "--seed", "0"])
    assert result.exit_code == 0, result.output
    scores = json.loads(result.output)
    assert {"precision", "recall", "delay_windows", "false_alerts_per_topic_day"} <= set(scores)
    assert scores["recall"] == 1.0 and scores["target_spikes"] >= 30
    assert scores["recall_measured"] == 1.0
    assert scores["delay_windows"] <= 2 and scores["false_alerts_per_topic_day"] <= 1
    assert scores["precision"] >= 0.8


def test_a_blind_detector_scores_zero_recall() -> None:
    """The scoring is not rigged: a detector that cannot fire gets recall 0 and no false alerts."""
    never = AlertSettings(threshold=1e9)
    scores = bench_alerts(True, seed=1, settings=never)
    assert scores["recall"] == 0.0 and scores["false_alerts_per_topic_day"] == 0.0


def test_several_seeds_score_as_one_run(capsys) -> None:  # type: ignore[no-untyped-def]
    one, two = (bench_alerts(True, seed=s) for s in (1, 2))
    both = bench_alerts(True, seed=1, seeds=2)
    capsys.readouterr()
    assert both["seeds"] == 2 and both["scenarios"] == one["scenarios"] + two["scenarios"]
    assert both["target_spikes"] == one["target_spikes"] + two["target_spikes"]
    assert both["false_alerts"] == one["false_alerts"] + two["false_alerts"]


def test_scenarios_are_reproducible_and_the_plot_is_drawn(tmp_path: Path) -> None:
    a, b = build("spikes", 0, 3), build("spikes", 0, 3)
    assert (a.n == b.n).all() and (a.sum_neg == b.sum_neg).all() and a.spikes == b.spikes
    run = replay(a, AlertSettings())
    assert run.fired, "the default detector fires on a spike scenario"
    from stream_processor.alerting.plot import plot_scenario

    png = plot_scenario(a, run, tmp_path / "scenario.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _flat_day(spike: Spike) -> Scenario:
    n = np.full(WARMUP + DAY, 60)
    return Scenario("hand-made", "spikes", n, n * 0.2, np.full(len(n), 0.2), [spike])


def test_scoring_counts_alerts_and_escalations_by_hand() -> None:
    """Hand-checked cases: an alert inside the spike is a hit; one before it is false, and then only
    an escalation inside the spike can still detect it (late escalations are misses)."""
    spike = Spike(start=500, end=540, fade=5, size=0.2, volume=60.0)
    base = [0.2] * (WARMUP + DAY)
    cases = [
        (Replay(fired=[501], baseline=base), 1, 0, [1]),
        (Replay(fired=[501, 520], baseline=base), 1, 1, [1]),  # told twice: the second is false
        (Replay(fired=[495], escalated=[502], baseline=base), 1, 1, [2]),
        (Replay(fired=[495], escalated=[504], baseline=base), 0, 1, []),
        (Replay(fired=[300], baseline=base), 0, 1, []),
    ]
    for run, hits, false, delays in cases:
        tally = Tally()
        score(_flat_day(spike), run, tally)
        assert (tally.target_hits, tally.false_alerts, tally.delays) == (hits, false, delays), run
        assert tally.target_spikes == 1 and len(tally.misses) == 1 - hits
