"""CLI entry for alerting: `sentimon bench alerts` (the lead registers `bench_alerts_command`)."""

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
    plot: Path = typer.Option(None, help="Also draw one spike scenario with its alerts to this PNG."),
) -> None:
    """Replay generated topic-days through the spike detector: precision, recall, delay, false alerts."""
    from stream_processor.alerting.bench import bench_alerts

    bench_alerts(json_out, seed=seed, plot=plot, seeds=seeds)


if __name__ == "__main__":
    app()
