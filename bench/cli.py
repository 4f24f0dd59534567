"""`sentimon bench …`: every benchmark's command in one group (the root CLI adds it as `bench`);
heavy imports stay inside the commands."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from bench.alerts.cli import bench_alerts_command
from bench.labelling import bench_labelling_command
from bench.pipeline.cli import bench_pipeline_command

app = typer.Typer(help="Benchmarks that print figures against a reference measured in the same run.")
app.command("labelling")(bench_labelling_command)
app.command("alerts")(bench_alerts_command)
app.command("pipeline")(bench_pipeline_command)


@app.command("quantify")
def bench_quantify_command(
    json_out: bool = typer.Option(False, "--json", help="One JSON object on stdout (progress on stderr)."),
    samples: int = typer.Option(50, min=1, help="Samples per grid point and sample size."),
    seed: int = typer.Option(0, help="Seed of the sampling protocol."),
    plot: Path | None = typer.Option(
        None, help="Where to draw the error curves (default <data dir>/bench/quantify.png)."
    ),
    benchmark: Path | None = typer.Option(
        None, help="Labelled SemEval 4A file (default twitter-2016test-A)."
    ),
    topics: Path | None = typer.Option(
        None, help="SemEval 4B/D file with topics (default twitter-2016test-BD)."
    ),
) -> None:
    """Per-topic shares against the truth: CC, PCC, ACC, PACC and EMQ on artificial-prevalence samples
    of twitter-2016test-A and on the topics of twitter-2016test-BD, with the shipped model as served."""
    from rich.console import Console

    from bench.data import BENCHMARK_PATH, TOPICS_PATH
    from bench.plots import plot_errors
    from bench.quantify import PRIOR_BAND, run_bench
    from bench.report import print_report
    from model.data import DataError
    from model.inference import load
    from sentimon.settings import get_settings

    data_dir = Path(get_settings().data_dir)
    try:
        figures, rows, inside = run_bench(
            load(), benchmark or BENCHMARK_PATH, topics or TOPICS_PATH, data_dir / "cache", samples, seed
        )
    except (DataError, ValueError) as exc:
        Console(stderr=True).print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc
    prior = figures["meta"]["calibration_prior"][0]
    out = plot_errors(rows, inside, prior, PRIOR_BAND, plot or data_dir / "bench" / "quantify.png")
    figures["meta"]["plot"] = str(out)
    if json_out:
        typer.echo(json.dumps(figures))
    else:
        print_report(figures, Console(), str(out))


@app.command("classify")
def bench_classify(
    json_out: bool = typer.Option(False, "--json", help="One JSON object on stdout."),
    n: int = typer.Option(20_000, help="How many tweets to classify."),
) -> None:
    """Tweets per second of the serving model (the registry's live version, else the configured or
    shipped one) against VADER on the same texts."""
    from bench.classify import bench_classify as run
    from retraining.serving import choose

    choice = choose()
    typer.echo(f"model: {choice.path} ({choice.why})", err=True)
    run(json_out=json_out, n=n, model_path=str(choice.path))
