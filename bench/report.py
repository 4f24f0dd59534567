"""The bench's table view: the figures of the JSON object, printed with rich."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table


def _by_size(title: str, figures: dict[str, dict[str, float]], default: str) -> Table:
    sizes = list(next(iter(figures.values())))
    table = Table("method", *[f"n={s}" for s in sizes], title=title)
    for method, values in figures.items():
        name = f"[bold]{method}[/] (default)" if method == default else method
        table.add_row(name, *[f"{values[s]:.4f}" for s in sizes])
    return table


def _by_prevalence(curves: dict[str, dict[str, dict[str, float]]], size: str) -> Table:
    methods = list(curves)
    table = Table("true neg.", *methods, title=f"negative-share MAE by prevalence, samples of {size}")
    for point in curves[methods[0]][size]:
        table.add_row(point, *[f"{curves[m][size][point]:.4f}" for m in methods])
    return table


def print_report(figures: dict[str, Any], console: Console, plot: str | None = None) -> None:
    default = figures["default_method"]
    meta = figures["meta"]
    console.print(
        f"[bold]bench quantify[/] · model {meta['model']}"
        f" · correction statistics: {meta['correction_source']}"
        f"\n{meta['samples_per_point']} samples per grid point and size, seed {meta['seed']};"
        f" benchmark {meta['benchmark_posts']} posts,"
        f" {meta['topic_count']} topics ({meta['topic_posts']} posts)"
    )
    console.print(_by_size("negative-share MAE (APP)", figures["mae_negative"], default))
    console.print(_by_size("mean absolute error, three classes (APP)", figures["ae_three_classes"], default))
    console.print(_by_size("KLD (APP, eps = 1/2n)", figures["kld"], default))
    coverage = figures["interval_coverage"]
    console.print(_by_size("90% interval coverage (APP; 0.90 is honest)", coverage, default))
    for size in next(iter(figures["mae_by_prevalence"].values())):
        console.print(_by_prevalence(figures["mae_by_prevalence"], size))
    topics = Table("method", "KLD over topics", "negative-share MAE over topics", title="Task 4D (topics)")
    for method, kld in figures["kld_topics"].items():
        topics.add_row(method, f"{kld:.4f}", f"{figures['mae_topics'][method]:.4f}")
    console.print(topics)
    inside = figures["in_domain"]
    console.print(_by_size("in_domain (diagnostic): negative-share MAE", inside["mae_negative"], default))
    coverage = inside["interval_coverage"]
    console.print(_by_size("in_domain (diagnostic): 90% interval coverage", coverage, default))
    console.print(f"[dim]{inside['note']}[/]")
    transfer = figures.get("transfer", {})
    if "skipped" in transfer:
        console.print(f"[dim]transfer diagnostic skipped: {transfer['skipped']}[/]")
    elif transfer:
        mae, coverage = transfer["mae_negative"], transfer["interval_coverage"]
        console.print(_by_size("transfer (diagnostic): negative-share MAE", mae, default))
        console.print(_by_size("transfer (diagnostic): 90% interval coverage", coverage, default))
        title = "transfer: negative-share MAE, n = 50 / 200 / 1000"
        held = Table("held-out collection", *mae, title=title)
        for name, methods in transfer["mae_negative_by_collection"].items():
            held.add_row(name, *[" / ".join(f"{v:.3f}" for v in methods[m].values()) for m in methods])
        console.print(held)
        console.print(f"[dim]{transfer['note']}[/]")
    t = figures["targets"]
    console.print(
        f"targets for {t['method']}: MAE@1000 ≤ 0.03 {_mark(t['mae_1000_at_most_0.03'])}, "
        f"MAE@200 ≤ 0.06 {_mark(t['mae_200_at_most_0.06'])}, beats CC and PCC outside the calibration "
        f"mix ± 0.1 {_mark(t['beats_cc_and_pcc_outside_prior_band'])} ({len(t['not_better_at'])} exceptions)"
    )
    if plot:
        console.print(f"plot: {plot}")


def _mark(ok: bool) -> str:
    return "[green]yes[/]" if ok else "[red]no[/]"
