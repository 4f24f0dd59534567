"""`sentimon bench labelling` on a tiny model with the shipped configuration: both policies label,
retrain and are scored on the same never-labelled test slice; the JSON, the plot and the winner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bench.labelling import entropy, orders, summary
from retraining.data import LabelledText
from tests.retrain.tiny import BASE, SLANG, texts, write_labels_csv


def test_uncertain_order_is_by_entropy_and_random_orders_are_seeded() -> None:
    pool = [LabelledText(f"k{i}", f"t{i}", "neutral") for i in range(4)]
    probs = [(0.9, 0.05, 0.05), (0.34, 0.33, 0.33), (0.6, 0.2, 0.2), (1.0, 0.0, 0.0)]
    got = orders(pool, probs, repeats=2, seed=7)
    assert [r.key for r in got["uncertain"][0]] == ["k1", "k2", "k0", "k3"]
    assert len(got["random"]) == 2 and got["random"] == orders(pool, probs, 2, 7)["random"]
    assert entropy((1 / 3, 1 / 3, 1 / 3)) == pytest.approx(1.585, abs=1e-3) and entropy((1.0, 0, 0)) == 0


def test_summary_averages_gains_per_policy_and_budget() -> None:
    runs = [
        {"policy": "uncertain", "labels": 10, "gain": 0.1},
        {"policy": "uncertain", "labels": 20, "gain": 0.3},
        {"policy": "random", "labels": 10, "gain": 0.0},
        {"policy": "random", "labels": 10, "gain": 0.2},
        {"policy": "random", "labels": 20, "gain": 0.1},
    ]
    assert summary(runs) == {
        "uncertain": {"mean_gain": 0.2, "gain_by_labels": {10: 0.1, 20: 0.3}},
        "random": {"mean_gain": 0.1, "gain_by_labels": {10: 0.1, 20: 0.1}},
    }


@pytest.mark.slow
def test_bench_labelling_json_plot_and_winner(trained_base: Path, base_data: Path, tmp_path: Path) -> None:
    import typer

    from bench.labelling import bench_labelling_command

    stream = write_labels_csv(tmp_path / "stream.csv", texts(60, SLANG, 11) + texts(30, BASE, 12))
    app = typer.Typer()
    app.command()(bench_labelling_command)
    png = tmp_path / "labelling.png"
    args = ["--json", "--data", stream, "--model", trained_base, "--base-data", base_data]
    args += ["--budgets", "6,12", "--repeats", "2"]
    result = CliRunner().invoke(app, [str(a) for a in [*args, "--threads", "1", "--png", png]])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["pool"] + out["test"] == 90 and out["test"] > 10
    assert out["tune"] == "2016dev + the labels' tune slice"  # calibrated as `retrain` calibrates
    runs = [(r["policy"], r["repeat"], r["labels"]) for r in out["runs"]]
    assert runs == [("uncertain", 0, 6), ("uncertain", 0, 12)] + [
        ("random", k, n) for k in (0, 1) for n in (6, 12)
    ]
    assert all(r["old"] == out["baseline_avgrec"] for r in out["runs"])
    assert all(r["gain"] == pytest.approx(r["new"] - r["old"], abs=1e-4) for r in out["runs"])
    assert out["winner"] == max(out["summary"], key=lambda p: out["summary"][p]["mean_gain"])
    assert png.stat().st_size > 5000 and out["png"] == str(png)
    bad = CliRunner().invoke(app, ["--data", str(tmp_path / "none.csv"), "--model", str(trained_base)])
    assert bad.exit_code == 2 and "no such file" in bad.output.lower()
