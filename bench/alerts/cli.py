"""`sentimon bench alerts` (`bench/cli.py` adds `bench_alerts_command` to the group; `python -m
bench.alerts.cli alerts` runs it alone)."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(help="Alerting benchmarks.", no_args_is_help=True)


@app.callback()
def _group() -> None:
    """Keep `alerts` a sub-command even while it is the only one."""


@app.command("alerts")
def bench_alerts_command(
    json_out: bool = typer.Option(False, "--json", help="Print the scores as JSON only."),
    seed: int = typer.Option(0, help="Seed of the generated scenarios (tuned on 0-4)."),
    seeds: int = typer.Option(1, min=1, help="Score this many seeds from --seed on, as one run."),
    plot: Path | None = typer.Option(None, help="Also draw one spike scenario with its alerts to this PNG."),
    synthetic: bool = typer.Option(
        False, "--synthetic", help="Fast Beta-drawn probabilities instead of real tweets through the model."
    ),
    data: Path | None = typer.Option(None, help="Shared data folder with SemEval (default ../shared/data)."),
) -> None:
    """Replay generated topic-days, made of real labelled tweets scored by the shipped model, through
    the spike detector: precision, recall, delay, false alerts."""
    from bench.alerts.run import bench_alerts
    from bench.alerts.textpool import PoolMissing, load_pool

    try:
        pool = None if synthetic else load_pool(data, quiet=json_out)
    except PoolMissing as exc:
        typer.echo(f"bench alerts: {exc}", err=True)
        raise typer.Exit(2) from None
    bench_alerts(json_out, seed=seed, plot=plot, seeds=seeds, pool=pool, synthetic=synthetic)


if __name__ == "__main__":
    app()
