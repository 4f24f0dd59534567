"""What the labels bought, on the dashboard: the Models page's before/after chart, confusion and
trend per retrained version, and the Labelling page's count to the next retraining and last gain."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from conftest import Dashboard, go, shot, sign_in
from dashboard_seed import model_folder
from playwright.sync_api import Page, expect

from dashboard import model_charts
from sentimon.storage.models import register_version

pytestmark = pytest.mark.browser


def evaluation(held_old: float, held_new: float, n_held: int = 40) -> dict:
    def side(avgrec: float, n: int) -> dict:
        diag = round(n * avgrec)
        rest = n - diag
        third = diag // 3
        confusion = [[third + diag % 3, rest, 0], [0, third, 0], [0, 0, third]]
        return {"avgrec": avgrec, "f1pn": avgrec - 0.05, "acc": avgrec + 0.02, "n": n, "confusion": confusion}

    return {
        "held-back labels": {"n": n_held, "old": side(held_old, n_held), "new": side(held_new, n_held)},
        "validation": {"n": 90, "old": side(0.66, 90), "new": side(0.67, 90)},
    }


def test_before_after_figure_puts_parent_and_new_side_by_side_per_set() -> None:
    fig = model_charts.before_after_figure(evaluation(0.535, 0.557))
    bars = [(t.name, t.xaxis, tuple(round(y, 3) for y in t.y)) for t in fig.data]
    assert bars == [
        ("parent", "x", (0.535, 0.485, 0.555)),
        ("this version", "x", (0.557, 0.507, 0.577)),
        ("parent", "x2", (0.66, 0.61, 0.68)),
        ("this version", "x2", (0.67, 0.62, 0.69)),
    ]
    assert [a.text for a in fig.layout.annotations] == ["held-back labels (n=40)", "validation (n=90)"]
    empty_held = evaluation(0.5, 0.6, n_held=0)
    assert model_charts.judged_sets(empty_held) == ["validation"]
    assert len(model_charts.before_after_figure(empty_held).data) == 2


def test_trend_follows_new_and_parent_avgrec_over_versions() -> None:
    points = [("v1", None, evaluation(0.50, 0.55)), ("v2", None, evaluation(0.55, 0.60))]
    traces = {t.name: list(t.y) for t in model_charts.trend_figure(points).data}
    assert traces["held-back labels: new"] == [0.55, 0.60]
    assert traces["held-back labels: parent"] == [0.50, 0.55]
    assert traces["validation: new"] == [0.67, 0.67]


def test_models_and_labelling_pages_show_what_the_labels_bought(
    page: Page, dashboard: Dashboard, tmp_path: Path
) -> None:
    tag = uuid.uuid4().hex[:6]
    first, second = f"retrained-{tag}-1", f"retrained-{tag}-2"
    with dashboard.engine.begin() as conn:
        for version, (old, new), labels in ((first, (0.50, 0.55), 120), (second, (0.55, 0.61), 80)):
            metrics = {"kind": "retrain", "avg_recall": 0.67, "new_labels": labels,
                       "evaluation": evaluation(old, new)}  # fmt: skip
            register_version(conn, version, str(model_folder(tmp_path / version, version)), metrics)
    sign_in(page, dashboard.url, name="Eve")
    go(page, dashboard.url, "Models")
    expect(page.get_by_role("heading", name="What the labels bought")).to_be_visible()
    latest = page.get_by_text(f"{second} (candidate) · 80 new labels")
    expect(latest).to_be_visible()
    expect(
        page.get_by_text("held-back labels 0.550 → 0.610 (+0.060) · validation 0.660 → 0.670")
    ).to_be_visible()
    expect(page.locator(f".st-key-bought_{second} .js-plotly-plot")).to_be_visible(timeout=30_000)
    expect(page.locator(".st-key-models_trend .js-plotly-plot")).to_be_visible(timeout=30_000)
    expect(
        page.get_by_text("Confusion on held-back labels (rows: gold; columns: predicted)").first
    ).to_be_visible()
    expect(page.get_by_role("cell", name="18 → 16").first).to_be_visible()
    shot(page, "models-labels-bought")
    go(page, dashboard.url, "Labelling")
    expect(page.get_by_text("of 200")).to_be_visible()
    expect(
        page.get_by_text(f"The last retraining ({second}, candidate) learnt from 80 new labels")
    ).to_be_visible()
    shot(page, "labelling-next-retraining")
