"""`sentimon bench alerts`: the generated scenarios are scored and the detector meets its targets."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from stream_processor.alerting.bench import bench_alerts, replay
from stream_processor.alerting.cli import app
from stream_processor.alerting.config import AlertSettings
from stream_processor.alerting.scenarios import build


def test_json_output_has_the_four_keys_and_meets_the_targets_on_the_tuning_seed() -> None:
    result = CliRunner().invoke(app, ["alerts", "--json", "--seed", "0"])
    assert result.exit_code == 0, result.output
    scores = json.loads(result.output)
    assert {"precision", "recall", "delay_windows", "false_alerts_per_topic_day"} <= set(scores)
    assert scores["recall"] == 1.0 and scores["target_spikes"] >= 30
    assert scores["delay_windows"] <= 2 and scores["false_alerts_per_topic_day"] <= 1
    assert scores["precision"] >= 0.8


def test_a_blind_detector_scores_zero_recall() -> None:
    """The scoring is not rigged: a detector that cannot fire gets recall 0 and no false alerts."""
    never = AlertSettings(threshold=1e9)
    scores = bench_alerts(True, seed=1, settings=never)
    assert scores["recall"] == 0.0 and scores["false_alerts_per_topic_day"] == 0.0


def test_scenarios_are_reproducible_and_the_plot_is_drawn(tmp_path: Path) -> None:
    a, b = build("spikes", 0, 3), build("spikes", 0, 3)
    assert (a.n == b.n).all() and (a.sum_neg == b.sum_neg).all() and a.spikes == b.spikes
    run = replay(a, AlertSettings())
    assert run.fired, "the default detector fires on a spike scenario"
    from stream_processor.alerting.plot import plot_scenario

    png = plot_scenario(a, run, tmp_path / "scenario.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
