"""`bench quantify`: the protocol draws what it says, Task 4D is scored as the task scored it, and the
command prints every figure from a cached scoring of the files by the served model."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

pytest.importorskip("quapy")

from bench.data import Scored, read_topics
from bench.protocol import GRID, SIZES, Estimators, NegativeGridAPP
from bench.quantify import topic_figures, transfer_figures
from sentimon.quantify import ALL_METHODS, DEFAULT_METHOD, IDENTITY


def collection(n_per_class: int = 40):
    from quapy.data import LabelledCollection

    labels = np.repeat([0, 1, 2], n_per_class)
    return LabelledCollection(np.arange(len(labels)), labels, classes=[0, 1, 2])


def test_the_protocol_hits_each_negative_share_and_splits_the_rest_at_random() -> None:
    data = collection()
    drawn = list(NegativeGridAPP(data, 200, grid=(0.05, 0.45, 0.85), repeats=6, random_state=3)())
    assert [point for point, _ in drawn] == [0.05] * 6 + [0.45] * 6 + [0.85] * 6
    for point, index in drawn:
        labels = data.labels[index]
        assert len(index) == 200 and (labels == 0).sum() == round(200 * point)
    neutral = {int((data.labels[i] == 1).sum()) for p, i in drawn if p == 0.45}
    assert len(neutral) > 3  # the non-negative rest is split differently from sample to sample
    again = list(NegativeGridAPP(data, 200, grid=(0.05, 0.45, 0.85), repeats=6, random_state=3)())
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(drawn, again, strict=True))
    assert GRID[0] == 0.05 and GRID[-1] == 0.85 and len(GRID) == 17 and SIZES == (50, 200, 1000)


def test_topic_kld_uses_the_task_smoothing_on_the_two_class_restriction() -> None:
    # Topic "a": 4 posts, 2 negative; every post predicted negative, so CC says 3-class (1, 0, 0).
    # Topic "b": 2 posts, both positive; one predicted neutral, one positive: CC (0, .5, .5) → (0, 1).
    probs = np.full((6, 3), 1 / 3)
    preds = np.array([0, 0, 0, 0, 1, 2])
    labels = np.array([0, 0, 2, 2, 2, 2])
    scored = Scored(probs, preds, labels, np.array(["a"] * 4 + ["b"] * 2))
    figures = topic_figures(scored, IDENTITY)

    def kld(p: list[float], q: list[float], eps: float) -> float:
        ps = [(x + eps) / (1 + 2 * eps) for x in p]
        qs = [(x + eps) / (1 + 2 * eps) for x in q]
        return sum(a * math.log(a / b) for a, b in zip(ps, qs, strict=True))

    expected = (kld([0.5, 0.5], [1.0, 0.0], 1 / 8) + kld([0.0, 1.0], [0.0, 1.0], 1 / 4)) / 2
    assert figures["kld_topics"]["cc"] == pytest.approx(expected, abs=1e-5)
    assert figures["mae_topics"]["cc"] == pytest.approx(0.25, abs=1e-5)
    assert figures["kld_topics"]["pcc"] == pytest.approx((0 + kld([0, 1], [0.5, 0.5], 1 / 4)) / 2, abs=1e-5)


def test_window_sums_answer_like_the_posts_they_hold() -> None:
    """A sample's sums are the sums of its posts' rows: counts and probabilities add up as stored."""
    rng = np.random.default_rng(0)
    probs = rng.dirichlet([1, 1, 1], 30)
    scored = Scored(probs, probs.argmax(1), rng.integers(0, 3, 30))
    index = np.array([0, 3, 3, 7, 29])
    sums = Estimators(scored, IDENTITY).sums(index)
    assert sums.n == 5 and sums.n_neg + sums.n_neu + sums.n_pos == 5
    assert sums.sum_neg == pytest.approx(probs[index, 0].sum())
    assert sums.acc_neg == pytest.approx(sums.n_neg) and sums.sq_neg == pytest.approx(
        (probs[index, 0] ** 2).sum()
    )


def write_files(folder: Path) -> tuple[Path, Path]:
    """A tiny labelled 4A file and a two-topic 4D file, with clear cue words."""
    words = {
        0: ["awful", "hate it", "worst ever"],
        1: ["meeting at noon", "report today"],
        2: ["love it", "great"],
    }
    rows = [f"{1000 + i}\t{('negative', 'neutral', 'positive')[y]}\t{words[y][i % len(words[y])]} #{i}\n"
            for i, y in enumerate(np.repeat([0, 1, 2], 30))]  # fmt: skip
    a = folder / "a.tsv"
    a.write_text("".join(rows))
    mix = {"acme": [("negative", 8), ("positive", 4)], "zeta": [("positive", 10), ("negative", 2)]}
    pairs = [(topic, label) for topic, parts in mix.items() for label, k in parts for _ in range(k)]
    cue = {"negative": "awful", "positive": "great"}
    topics = [f"{2000 + i}\t{t}\t{lab}\t{t} is {cue[lab]}\n" for i, (t, lab) in enumerate(pairs)]
    bd = folder / "bd.tsv"
    bd.write_text("".join(topics))
    return a, bd


def _confused(rng: np.random.Generator, neutral_as_negative: float, per_class: int = 400) -> Scored:
    """Posts predicted right 80% of the time, but true neutrals called negative at the given rate."""
    labels = np.repeat([0, 1, 2], per_class)
    preds = np.where(rng.random(len(labels)) < 0.8, labels, rng.integers(0, 3, len(labels)))
    neutral = np.flatnonzero(labels == 1)
    preds[neutral[rng.random(len(neutral)) < neutral_as_negative]] = 0
    return Scored(np.eye(3)[preds] * 0.8 + 0.2 / 3, preds, labels)


def test_transfer_holds_each_collection_out_and_finds_the_one_unlike_the_others() -> None:
    """Statistics fitted on collections a and b carry to c, which errs like them; not to d, whose
    neutrals are called negative four times as often: its held-out error is the largest."""
    rng = np.random.default_rng(5)
    rates = {"a": 0.1, "b": 0.1, "c": 0.1, "d": 0.4}
    collections = {name: _confused(rng, rate) for name, rate in rates.items()}
    figures = transfer_figures(collections, repeats=3, seed=1, sizes=(200,), grid=(0.1, 0.5))
    held = figures["mae_negative_by_collection"]
    assert figures["collections"] == ["a", "b", "c", "d"] and set(held) == set(collections)
    assert set(figures["mae_negative"]) == {"cc", "acc", "pacc"}
    assert max(held, key=lambda name: held[name]["acc"]["200"]) == "d"
    assert held["d"]["acc"]["200"] > held["c"]["acc"]["200"] + 0.03
    assert all(0 <= v <= 1 for c in figures["interval_coverage"].values() for v in c.values())


def test_read_topics_parses_the_4d_layout(tmp_path: Path) -> None:
    _, bd = write_files(tmp_path)
    texts, labels, topics = read_topics(bd)
    assert len(texts) == 24 and topics[0] == "acme" and labels[:9] == [0] * 8 + [2]
    assert texts[0] == "acme is awful"


@pytest.fixture
def model_with_stats(model_path: Path, tmp_path: Path) -> Path:
    """The test model, with correction statistics (fitted here when it carries none)."""
    from model.inference import load

    if load(model_path).quantification:
        return model_path
    from model.recalibrate import refit_quantification
    from tests.retrain.tiny import BASE, texts

    folder = tmp_path / "model"
    shutil.copytree(model_path, folder)
    rows = texts(90, BASE, seed=5)
    refit_quantification(
        folder, [t for t, _ in rows], [("negative", "neutral", "positive").index(y) for _, y in rows], "test"
    )
    return folder


@pytest.mark.slow
def test_bench_quantify_json_has_every_figure_and_reuses_its_cache(
    model_with_stats: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sentimon.cli import app
    from sentimon.settings import get_settings

    a, bd = write_files(tmp_path)
    monkeypatch.setenv("SENTIMON_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("SENTIMON_MODEL_PATH", str(model_with_stats))
    get_settings.cache_clear()
    args = ["bench", "quantify", "--json", "--samples", "1", "--benchmark", str(a), "--topics", str(bd)]
    try:
        first = CliRunner().invoke(app, args)
        assert first.exit_code == 0, first.output
        caches = sorted((tmp_path / "var" / "cache").glob("quantify-*.npz"))
        assert len(caches) == 2
        stamps = [p.stat().st_mtime_ns for p in caches]
        second = CliRunner().invoke(app, args)
    finally:
        get_settings.cache_clear()
    assert second.exit_code == 0, second.output
    assert [p.stat().st_mtime_ns for p in caches] == stamps  # scored once, then read back
    figures = json.loads(first.stdout)
    assert json.loads(second.stdout)["mae_negative"] == figures["mae_negative"]
    assert figures["default_method"] == DEFAULT_METHOD
    sizes = {"50", "200", "1000"}
    for key in ("mae_negative", "ae_three_classes", "kld"):
        assert set(figures[key]) == set(ALL_METHODS) and all(set(v) == sizes for v in figures[key].values())
    assert all(len(figures["mae_by_prevalence"][m]["200"]) == 17 for m in ALL_METHODS)
    assert set(figures["kld_topics"]) == set(ALL_METHODS) and figures["meta"]["topic_count"] == 2
    assert set(figures["in_domain"]["mae_negative"]) == {"acc", "pacc"}
    transfer = figures["transfer"]
    assert "skipped" in transfer or set(transfer["mae_negative"]) == {"cc", "acc", "pacc"}
    coverage = figures["interval_coverage"]  # every method with an interval; EMQ has none
    assert set(coverage) == set(ALL_METHODS) - {"emq"}
    assert all(0 <= v <= 1 for c in coverage.values() for v in c.values())
    assert Path(figures["meta"]["plot"]) == tmp_path / "var" / "bench" / "quantify.png"
    assert (tmp_path / "var" / "bench" / "quantify.png").stat().st_size > 10_000
