"""`sentimon run` (embedded default) and `sentimon worker` (Faust on Kafka); heavy imports stay inside."""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

if TYPE_CHECKING:
    from sentimon.settings import Settings

app = typer.Typer(help="Stream processing: the embedded runner and the Faust worker.", no_args_is_help=True)
console = Console(stderr=True)


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
    from functools import partial

    from sentimon.settings import get_settings
    from stream_processor import logs
    from stream_processor.alerting.service import AlertCycle
    from stream_processor.embedded.app import EmbeddedOptions, run_embedded
    from stream_processor.options import ProcessOptions

    logs.configure(loglevel, json=json_logs)
    settings = get_settings()
    options = ProcessOptions.from_settings(
        settings, batch_size=batch_size, latency_s=latency_ms / 1000 if latency_ms else None,
        until_n=until_n, seconds=seconds,
    )  # fmt: skip
    # A replay is judged on its own clock: every window, in order, to the last one.
    alerts = partial(AlertCycle.of, settings, event_time=replay is not None)
    shown = start_dashboard(settings) if dashboard else None
    try:
        summary = run_embedded(settings, options, EmbeddedOptions(replay=replay, speed=speed), alerts=alerts)
        if shown is not None and summary.source_done and not summary.interrupted:
            console.print("[green]replay finished[/]; the dashboard stays up until Ctrl-C")
            _wait_for_signal_or_exit(shown)
    finally:
        stop_dashboard(shown)


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
    from stream_processor.options import ProcessOptions
    from stream_processor.worker.main import run_worker

    settings = get_settings()
    options = ProcessOptions.from_settings(
        settings, batch_size=batch_size, latency_s=latency_ms / 1000 if latency_ms else None,
        web_port=web_port, session_timeout_s=session_timeout, rules_poll_s=rules_poll,
        commit_interval_s=commit_interval, stall_after_s=stall_after, stop_timeout_s=stop_timeout,
        heal_every_s=heal_every,
    )  # fmt: skip
    run_worker(settings, options, loglevel=loglevel, json_logs=json_logs)


def start_dashboard(settings: Settings) -> subprocess.Popen[bytes] | None:
    """`sentimon dashboard` beside the runner, reading the same database; skipped if not installed."""
    if importlib.util.find_spec("dashboard.cli") is None:
        console.print("[yellow]dashboard not installed; running without it[/]")
        return None
    env = {**os.environ, "SENTIMON_DATABASE_URL": settings.db_url}
    cmd = [sys.executable, "-m", "dashboard.cli", "--port", str(settings.dashboard_port)]
    return subprocess.Popen(cmd, env=env, start_new_session=True)  # its own group: Streamlit is a grandchild


def stop_dashboard(proc: subprocess.Popen[bytes] | None) -> None:
    """Stop the dashboard's whole process group (the CLI and the Streamlit server it started)."""
    if proc is None:
        return
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def _wait_for_signal_or_exit(proc: subprocess.Popen[bytes]) -> None:
    """Until SIGTERM/SIGINT, or the dashboard ends by itself."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.wait(1.0) and proc.poll() is None:
        continue


if __name__ == "__main__":
    app()
