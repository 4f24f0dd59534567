"""`sentimon bench quantify`: prior-shift-corrected shares against the truth, every estimator side by side.

Two benchmarks the model never trained on: the artificial-prevalence protocol (APP) on
twitter-2016test-A (samples of 50, 200 and 1,000 posts at negative shares 0.05–0.85) and SemEval
Task 4D topic quantification on twitter-2016test-BD (KLD over its 100 topics, as the task scored
it). The correction statistics are the shipped ones (fitted on the collections the card names);
nothing is fitted on the benchmark, except in the `in_domain` diagnostic, which never changes what
ships. The `transfer` diagnostic holds out each of those collections in turn.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd
import quapy as qp

from bench.data import Scored, load_scored
from bench.protocol import CLASSES, GRID, SIZES, Estimators, app_rows
from model.quantstats import fit_correction
from sentimon.quantify import ALL_METHODS, DEFAULT_METHOD, Correction

IN_DOMAIN_METHODS = ("acc", "pacc")
TRANSFER_METHODS = ("cc", "acc", "pacc")
PRIOR_BAND = 0.1  # the "training mix ± 0.1": inside it, CC and PCC are hard to beat
IN_DOMAIN_NOTE = (
    "diagnostic only: ACC/PACC with correction statistics cross-fitted on the benchmark itself "
    "(2 stratified folds: fit on one half, sample from the other, swap); the gap to the main figures "
    "is the shift between dev+devtest and the test collection, not the estimator"
)


def by_size(rows: pd.DataFrame, column: str) -> dict[str, dict[str, float]]:
    """{method: {"50": mean, "200": ..., "1000": ...}} of one error column."""
    table = rows.groupby(["method", "size"])[column].mean()
    return {m: {str(s): round(float(v), 5) for s, v in table[m].items()} for m in _methods(rows)}


def by_prevalence(rows: pd.DataFrame) -> dict[str, dict[str, dict[str, float]]]:
    """{method: {size: {grid point: negative-share MAE}}}."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for key, value in rows.groupby(["method", "size", "grid"])["ae_negative"].mean().items():
        method, size, point = cast(tuple[str, int, float], key)  # a three-level group key
        out.setdefault(method, {}).setdefault(str(size), {})[f"{point:.2f}"] = round(float(value), 5)
    return {m: out[m] for m in _methods(rows)}


def _methods(rows: pd.DataFrame) -> list[str]:
    present = set(rows["method"])
    return [m for m in ALL_METHODS if m in present]


def app_figures(rows: pd.DataFrame) -> dict[str, Any]:
    return {
        "mae_negative": by_size(rows, "ae_negative"),
        "mae_by_prevalence": by_prevalence(rows),
        "ae_three_classes": by_size(rows, "ae"),
        "kld": by_size(rows, "kld"),
        # share of samples whose 90% interval held the true negative share: 0.9 is honest
        "interval_coverage": by_size(rows[rows["covered"].notna()], "covered"),
    }


def in_domain_rows(
    scored: Scored, repeats: int, seed: int, sizes: Sequence[int], grid: Sequence[float]
) -> pd.DataFrame:
    """APP rows of ACC/PACC with statistics cross-fitted on two stratified halves of the benchmark."""
    data = qp.data.LabelledCollection(np.arange(len(scored.labels)), scored.labels, classes=list(CLASSES))
    first, second = data.split_stratified(0.5, random_state=seed)
    frames = []
    for fit, test in ((first, second), (second, first)):
        part = scored.subset(fit.instances)
        stats = fit_correction(part.probs, part.preds, part.labels, source="benchmark half (diagnostic)")
        held_out = scored.subset(test.instances)
        est = Estimators(held_out, Correction.from_stats(stats), IN_DOMAIN_METHODS)
        frames.append(pd.DataFrame(app_rows(held_out, est, sizes, grid, repeats, seed)))
    return pd.concat(frames, ignore_index=True)


TRANSFER_NOTE = (
    "diagnostic only: each collection the shipped statistics were fitted on, held out in turn and "
    "sampled as the benchmark is, corrected by statistics fitted on the others (as calibrate fits "
    "them): how far statistics carry from one collection to the next, which a live stream is"
)


def transfer_figures(
    collections: dict[str, Scored], repeats: int, seed: int, sizes: Sequence[int], grid: Sequence[float]
) -> dict[str, Any]:
    """Leave-one-collection-out APP: per held-out collection and on average, the negative-share MAE
    and interval coverage of CC, ACC and PACC with statistics from the other collections."""
    by_collection: dict[str, Any] = {}
    frames = []
    for name, held_out in collections.items():
        others = [(other, part) for other, part in collections.items() if other != name]
        stats = fit_correction(
            np.concatenate([part.probs for _, part in others]),
            np.concatenate([part.preds for _, part in others]),
            np.concatenate([part.labels for _, part in others]),
            source=f"all but {name} (diagnostic)",
            groups=np.concatenate([[other] * len(part.labels) for other, part in others]),
        )
        est = Estimators(held_out, Correction.from_stats(stats), TRANSFER_METHODS)
        rows = pd.DataFrame(app_rows(held_out, est, sizes, grid, repeats, seed))
        by_collection[name] = by_size(rows, "ae_negative")
        frames.append(rows)
    everything = pd.concat(frames, ignore_index=True)
    return {
        "note": TRANSFER_NOTE,
        "collections": list(collections),
        "mae_negative": by_size(everything, "ae_negative"),
        "interval_coverage": by_size(everything[everything["covered"].notna()], "covered"),
        "mae_negative_by_collection": by_collection,
    }


def topic_figures(scored: Scored, correction: Correction) -> dict[str, dict[str, float]]:
    """Task 4D: per topic the negative vs positive share of each method's 3-class estimate, scored by
    KLD with the task's smoothing (eps = 1 / (2 |topic|)), averaged over topics; and the negative
    share's mean absolute error over topics."""
    assert scored.topics is not None
    est = Estimators(scored, correction)
    kld: dict[str, list[float]] = {m: [] for m in est.methods}
    mae: dict[str, list[float]] = {m: [] for m in est.methods}
    for topic in np.unique(scored.topics):
        index = np.flatnonzero(scored.topics == topic)
        neg = float((scored.labels[index] == 0).mean())
        truth = np.array([neg, 1 - neg])
        for method, hat in est.shares(index).items():
            binary = np.array([hat[0], hat[2]])
            binary = binary / binary.sum() if binary.sum() > 0 else np.array([0.5, 0.5])
            kld[method].append(float(qp.error.kld(truth, binary, eps=1 / (2 * len(index)))))
            mae[method].append(abs(float(binary[0]) - neg))
    return {
        "kld_topics": {m: round(float(np.mean(v)), 5) for m, v in kld.items()},
        "mae_topics": {m: round(float(np.mean(v)), 5) for m, v in mae.items()},
    }


def targets(figures: dict[str, Any], prior_negative: float, method: str = DEFAULT_METHOD) -> dict[str, Any]:
    """The issue's targets for the default method: MAE ≤ 0.03 at 1,000 and ≤ 0.06 at 200, and below CC
    and PCC at every grid point farther than PRIOR_BAND from the calibration set's negative share."""
    mae = figures["mae_negative"][method]
    curves = figures["mae_by_prevalence"]
    losses = [
        {"size": s, "grid": g, "vs": other}
        for s, points in curves[method].items()
        for g, v in points.items()
        if abs(float(g) - prior_negative) > PRIOR_BAND + 1e-9
        for other in ("cc", "pcc")
        if v >= curves[other][s][g]
    ]
    return {
        "method": method,
        "mae_1000_at_most_0.03": mae.get("1000", 1.0) <= 0.03,
        "mae_200_at_most_0.06": mae.get("200", 1.0) <= 0.06,
        "beats_cc_and_pcc_outside_prior_band": not losses,
        "not_better_at": losses,
    }


def run_bench(
    clf: Any,
    benchmark: Path,
    topics: Path,
    cache_dir: Path,
    repeats: int = 50,
    seed: int = 0,
    sizes: Sequence[int] = SIZES,
    grid: Sequence[float] = GRID,
) -> tuple[dict[str, Any], pd.DataFrame, pd.DataFrame]:
    """Every figure of the bench (the JSON object), and the per-sample rows of the main and the
    in-domain runs (for the plot)."""
    if not clf.quantification:
        raise ValueError(f"{clf.version} has no correction statistics; run `sentimon model calibrate` first")
    correction = Correction.from_stats(clf.quantification)
    scored = load_scored(benchmark, clf, cache_dir)
    total = len(sizes) * len(grid) * repeats
    rows = pd.DataFrame(
        _tracked(app_rows(scored, Estimators(scored, correction), sizes, grid, repeats, seed),
                 total * len(ALL_METHODS), "APP samples, every estimator")
    )  # fmt: skip
    inside = in_domain_rows(scored, repeats, seed, sizes, grid)
    tagged = load_scored(topics, clf, cache_dir, with_topics=True)
    figures: dict[str, Any] = {"default_method": DEFAULT_METHOD, **app_figures(rows)}
    figures |= topic_figures(tagged, correction)
    figures["in_domain"] = {"note": IN_DOMAIN_NOTE, **app_figures(inside)}
    files = [Path(benchmark).parent / f"{name}.tsv" for name in clf.quantification.get("collections") or {}]
    missing = [f.name for f in files if not f.is_file()]
    if len(files) < 3 or missing:  # with two, each would be corrected by one other: too little
        why = f"missing {', '.join(missing)}" if missing else "the statistics name fewer than 3 collections"
        figures["transfer"] = {"note": TRANSFER_NOTE, "skipped": why}
    else:
        scored_by_name = {f.stem: load_scored(f, clf, cache_dir) for f in files}
        figures["transfer"] = transfer_figures(scored_by_name, max(5, repeats // 5), seed, sizes, grid)
    figures["targets"] = targets(figures, correction.prior[0])
    assert tagged.topics is not None, "loaded with_topics=True"
    figures["meta"] = {
        "model": clf.version,
        "correction_source": clf.quantification.get("source", ""),
        "calibration_prior": [round(p, 4) for p in correction.prior],
        "benchmark": str(benchmark), "benchmark_posts": len(scored.labels),
        "topics": str(topics), "topic_posts": len(tagged.labels),
        "topic_count": len(np.unique(tagged.topics)),
        "samples_per_point": repeats, "seed": seed,
        "sizes": list(sizes), "grid": list(grid),
    }  # fmt: skip
    return figures, rows, inside


def _tracked(rows: Any, total: int, label: str) -> list[dict[str, Any]]:
    """Collect the rows with a progress bar on stderr (stdout may be carrying JSON)."""
    from rich.console import Console
    from rich.progress import Progress

    out = []
    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=total)
        for row in rows:
            out.append(row)
            bar.advance(task)
    return out
