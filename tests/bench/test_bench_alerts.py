"""`sentimon bench alerts`: scenarios of (fake) scored posts add up right, and alerts are scored."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from bench.alerts.cli import app
from bench.alerts.run import Replay, Tally, bench_alerts, replay, score
from bench.alerts.scenarios import DAY, WARMUP, Scenario, Spike, build
from bench.alerts.textpool import COLUMNS, TextPool, detector_inputs
from model.quantstats import fit_correction
from sentimon.quantify import IDENTITY, Correction
from stream_processor.alerting.config import AlertSettings

# A small, biased fake classifier: per true class, (predicted class, calibrated probabilities) of its
# posts. It calls a third of the negative posts neutral and a quarter of the positive ones negative,
# and its probabilities lean neutral, as a model calibrated on a neutral-heavy mix does.
FAKE = {
    0: [(0, (0.55, 0.35, 0.10)), (0, (0.45, 0.40, 0.15)), (1, (0.30, 0.55, 0.15))],
    1: [(1, (0.15, 0.70, 0.15)), (1, (0.10, 0.65, 0.25)), (2, (0.10, 0.40, 0.50)), (0, (0.40, 0.45, 0.15))],
    2: [(2, (0.05, 0.35, 0.60)), (2, (0.10, 0.30, 0.60)), (2, (0.05, 0.45, 0.50)), (0, (0.40, 0.35, 0.25))],
}


def _scored() -> tuple[list, list, list]:
    rows = [(pred, probs, truth) for truth, posts in FAKE.items() for pred, probs in posts]
    return [r[1] for r in rows], [r[0] for r in rows], [r[2] for r in rows]


@pytest.fixture(scope="module")
def fake_pool() -> TextPool:
    """The fake classifier's posts, corrected by statistics fitted on those same posts (so ACC is
    exact in expectation), as `load_pool` does with the real model and its shipped statistics."""
    probs, preds, truths = _scored()
    correction = Correction.from_stats(fit_correction(probs, preds, truths, source="fake"))
    return TextPool.from_scored(probs, preds, truths, correction, version="fake")


def test_a_window_adds_up_exactly_what_its_posts_contribute() -> None:
    """One post per true class, each predicted right: a window's true class counts are its
    predicted ones, so every column must be exactly counts x that post's row."""
    probs = [(0.7, 0.2, 0.1), (0.2, 0.6, 0.2), (0.1, 0.3, 0.6)]
    pool = TextPool.from_scored(probs, [0, 1, 2], [0, 1, 2], IDENTITY, version="one-each")
    rows = np.stack([b[0] for b in pool.by_class])
    n = np.array([0, 1, 7, 40, 0, 250])
    got = pool.windows(np.random.default_rng(5), n, np.linspace(0.1, 0.9, len(n)), neutral=0.5)
    for size, window in zip(n, got, strict=True):
        counts = np.array([window.n_neg, window.n_neu, window.n_pos])
        assert window.n == size == counts.sum()
        expected = counts @ rows
        assert np.allclose([getattr(window, c) for c in COLUMNS], expected), window


def test_the_detector_reads_the_corrected_share_of_a_biased_classifier(fake_pool: TextPool) -> None:
    """Real-text windows carry the classifier's bias: its mean probability (PCC) sits near the mix it
    was calibrated on, while the corrected share fed to the detector follows the true one."""
    rng = np.random.default_rng(11)
    for theta in (0.1, 0.7):
        windows = fake_pool.windows(rng, np.full(300, 200), np.full(300, theta), neutral=0.5)
        n, sum_neg, se, _ = detector_inputs(windows)
        corrected = sum_neg.sum() / n.sum()
        pcc = sum(w.sum_neg for w in windows) / n.sum()
        assert abs(corrected - theta) < 0.02, (theta, corrected)
        assert abs(pcc - theta) > 0.05, (theta, pcc)
        # the window's error: its sampling spread, plus the (here large: 11 posts) error of the statistics
        assert se.min() > 0.9 * (sum_neg / n).std()


def test_real_text_scenarios_are_reproducible_with_their_errors_and_drawn(
    fake_pool: TextPool, tmp_path: Path
) -> None:
    scenario = build("spikes_edge", 0, 1, fake_pool)
    again = build("spikes_edge", 0, 1, fake_pool)
    assert scenario.se is not None and (scenario.se == again.se).all() and scenario.spikes == again.spikes
    assert (scenario.se[scenario.n >= 20] > 0).all()
    big = [s for s in scenario.spikes if s.size >= 0.15]
    assert big and all(s.volume >= 45 for s in big)
    from bench.alerts.plot import plot_scenario

    png = plot_scenario(scenario, replay(scenario, AlertSettings()), tmp_path / "real.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_blind_detector_scores_zero_recall(fake_pool: TextPool) -> None:
    """The scoring is not rigged: a detector that cannot fire gets recall 0 and no false alerts."""
    never = AlertSettings(threshold=1e9)
    scores = bench_alerts(True, seed=1, settings=never, pool=fake_pool)
    assert scores["recall"] == 0.0 and scores["recall_large"] == 0.0
    assert scores["false_alerts_per_topic_day"] == 0.0 and scores["source"] == "real text, model fake"


def test_without_the_shared_data_it_says_so_and_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["alerts", "--json", "--data", str(tmp_path)])
    assert result.exit_code == 2
    assert "twitter-2016test-A.tsv not found" in result.output and "--synthetic" in result.output


def test_synthetic_json_output_has_the_four_keys_and_catches_every_target_spike() -> None:
    """The Beta draws (a perfectly calibrated classifier) are the easy case: every target spike."""
    result = CliRunner().invoke(app, ["alerts", "--json", "--seed", "0", "--synthetic"])
    assert result.exit_code == 0, result.output
    scores = json.loads(result.output)
    assert {"precision", "recall", "delay_windows", "false_alerts_per_topic_day"} <= set(scores)
    assert scores["recall"] == 1.0 and scores["recall_large"] == 1.0 and scores["target_spikes"] >= 30
    assert scores["delay_windows"] <= 3 and scores["source"] == "synthetic (Beta)"


def test_several_seeds_score_as_one_run(capsys) -> None:  # type: ignore[no-untyped-def]
    one, two = (bench_alerts(True, seed=s, synthetic=True) for s in (1, 2))
    both = bench_alerts(True, seed=1, seeds=2, synthetic=True)
    capsys.readouterr()
    assert both["seeds"] == 2 and both["scenarios"] == one["scenarios"] + two["scenarios"]
    assert both["target_spikes"] == one["target_spikes"] + two["target_spikes"]
    assert both["false_alerts"] == one["false_alerts"] + two["false_alerts"]


def test_scenarios_are_reproducible_and_the_plot_is_drawn(tmp_path: Path) -> None:
    a, b = build("spikes", 0, 3), build("spikes", 0, 3)
    assert (a.n == b.n).all() and (a.sum_neg == b.sum_neg).all() and a.spikes == b.spikes
    run = replay(a, AlertSettings())
    assert run.fired, "the default detector fires on a spike scenario"
    from bench.alerts.plot import plot_scenario

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
        (Replay(fired=[495], escalated=[503], baseline=base), 1, 1, [3]),
        (Replay(fired=[495], escalated=[504], baseline=base), 0, 1, []),
        (Replay(fired=[300], baseline=base), 0, 1, []),
    ]
    for run, hits, false, delays in cases:
        tally = Tally()
        score(_flat_day(spike), run, tally)
        assert (tally.target_hits, tally.false_alerts, tally.delays) == (hits, false, delays), run
        assert tally.target_spikes == 1 and len(tally.misses) == 1 - hits


def test_a_large_rise_must_fire_within_two_windows() -> None:
    """+30 points counts for both targets: within 3 windows for the first, within 2 for the second."""
    spike = Spike(start=500, end=540, fade=5, size=0.3, volume=60.0)
    base = [0.2] * (WARMUP + DAY)
    for fired, hits in ((502, [1, 1]), (503, [1, 0]), (504, [0, 0])):
        tally = Tally()
        score(_flat_day(spike), Replay(fired=[fired], baseline=base), tally)
        assert [tally.targets[k][1] for k in ("recall", "recall_large")] == hits, fired
        assert [tally.targets[k][0] for k in ("recall", "recall_large")] == [1, 1]
