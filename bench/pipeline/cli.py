"""The typer command `sentimon bench pipeline` (added to the group in `bench/cli.py`)."""

from __future__ import annotations

from pathlib import Path

import typer


def bench_pipeline_command(
    json_out: bool = typer.Option(False, "--json", help="One JSON object on stdout (progress on stderr)."),
    n: int = typer.Option(20_000, "--n", help="How many posts to send through each pass."),
    rate: float | None = typer.Option(
        None, "--rate", help="Posts per second to produce (default: as fast as possible)."
    ),
    workers: int = typer.Option(1, "--workers", help="Faust worker processes sharing the partitions."),
    threads: int = typer.Option(
        1, "--threads", help="Torch threads per worker (and for the classifier alone)."
    ),
    batch_size: int | None = typer.Option(
        None, "--batch-size", help="Worker micro-batch size (default: settings)."
    ),
    latency_ms: int | None = typer.Option(
        None, "--latency-ms", help="Micro-batch latency bound (default: settings)."
    ),
    out_dir: Path | None = typer.Option(
        None, "--out", help="Folder for the plot, JSON and logs (default var/bench/…)."
    ),
    profile: bool = typer.Option(
        False, "--profile", help="Record worker 0 with py-spy (raw stacks in --out)."
    ),
    start_stack: bool = typer.Option(
        True, "--start-stack/--no-start-stack", help="Start the local stack if down."
    ),
    keep: bool = typer.Option(False, "--keep", help="Keep the bench database and topics afterwards."),
) -> None:
    """Throughput, ingest-to-aggregate latency, lag and worker memory on the real stack, next to the
    broker alone and the classifier alone on the same posts in the same run."""
    from bench.pipeline.run import bench_pipeline

    bench_pipeline(
        json_out,
        n=n,
        rate=rate,
        workers=workers,
        threads=threads,
        batch_size=batch_size,
        latency_ms=latency_ms,
        out_dir=out_dir,
        profile=profile,
        start_stack=start_stack,
        keep=keep,
    )


def main() -> None:
    """`python -m bench.pipeline.cli …`: the same command without the root CLI."""
    app = typer.Typer()
    app.command()(bench_pipeline_command)
    app()


if __name__ == "__main__":
    main()
