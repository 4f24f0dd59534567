"""`sentimon run` (embedded default) and `sentimon worker` (Faust on Kafka); heavy imports stay inside."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(help="Stream processing: the embedded runner and the Faust worker.", no_args_is_help=True)


@app.command("run")
def run(
    replay: Path = typer.Option(
        None, "--replay", exists=True, dir_okay=False, help="JSON-lines file of posts."
    ),
    speed: float = typer.Option(1.0, help="Time factor for the replay or demo (0: as fast as possible)."),
    until_n: int = typer.Option(None, "--until-n", help="Stop after this many messages."),
    seconds: float = typer.Option(None, help="Stop after this many seconds."),
    dashboard: bool = typer.Option(True, "--dashboard/--no-dashboard", help="Serve the dashboard beside it."),
    batch_size: int = typer.Option(None, help="Micro-batch size (default: settings.batch_size)."),
    latency_ms: int = typer.Option(None, help="Micro-batch latency bound (default: settings)."),
    json_logs: bool = typer.Option(False, "--json-logs/--plain-logs", help="Log JSON lines."),
    loglevel: str = typer.Option("info", help="Log level."),
) -> None:
    """Run everything in one process: demo posts (or --replay) → model → SQLite → dashboard."""
    from sentimon.settings import get_settings
    from stream_processor import logs
    from stream_processor.embedded.app import EmbeddedOptions, run_embedded
    from stream_processor.embedded.runner import RunOptions
    from stream_processor.hooks import periodic_tasks

    logs.configure(loglevel, json=json_logs)
    settings = get_settings()
    options = RunOptions(
        batch_size=batch_size or settings.batch_size,
        latency_s=(latency_ms or settings.batch_latency_ms) / 1000,
        until_n=until_n,
        seconds=seconds,
        periodic=periodic_tasks(settings),
    )
    if replay is not None:  # judge alerts on the replay's own clock, every window, to the last one
        from stream_processor.alerting.service import EventTimeAlerts

        alerts = EventTimeAlerts(settings)
        options.periodic = [
            task for task in options.periodic if getattr(task[1], "__name__", "") != "alert_cycle"
        ]
        options.after_batch, options.at_end = alerts.after_batch, alerts.at_end
    run_embedded(settings, options, EmbeddedOptions(replay=replay, speed=speed, dashboard=dashboard))


@app.command("worker")
def worker(
    batch_size: int = typer.Option(None, help="Micro-batch size (default: settings.batch_size)."),
    latency_ms: int = typer.Option(None, help="Micro-batch latency bound (default: settings)."),
    web_port: int = typer.Option(None, help="Port of /health and /metrics (default: settings.metrics_port)."),
    session_timeout: float = typer.Option(30.0, help="Kafka group session timeout in seconds."),
    rules_poll: float = typer.Option(2.0, help="Seconds between checks for changed topic rules."),
    commit_interval: float = typer.Option(0.5, help="Seconds between Kafka offset commits."),
    stall_after: float = typer.Option(60.0, help="/health says 'stalled' once a batch waits this long."),
    stop_timeout: float = typer.Option(10.0, help="After SIGTERM, exit within this many seconds."),
    heal_every: float = typer.Option(2.0, help="Seconds between checks that Redis agrees with Postgres."),
    json_logs: bool = typer.Option(True, "--json-logs/--plain-logs", help="Log JSON lines."),
    loglevel: str = typer.Option("info", help="Log level."),
) -> None:
    """Consume posts.raw from Kafka, score and aggregate into Postgres and Redis (exactly-once counts)."""
    from sentimon.settings import get_settings
    from stream_processor.hooks import periodic_tasks
    from stream_processor.worker.main import run_worker
    from stream_processor.worker.options import WorkerOptions

    settings = get_settings()
    options = WorkerOptions(
        batch_size=batch_size or settings.batch_size,
        latency_s=(latency_ms or settings.batch_latency_ms) / 1000,
        web_port=web_port or settings.metrics_port,
        session_timeout_s=session_timeout,
        rules_poll_s=rules_poll,
        commit_interval_s=commit_interval,
        stall_after_s=stall_after,
        stop_timeout_s=stop_timeout,
        heal_every_s=heal_every,
        periodic=periodic_tasks(settings),
    )
    run_worker(settings, options, loglevel=loglevel, json_logs=json_logs)


if __name__ == "__main__":
    app()
