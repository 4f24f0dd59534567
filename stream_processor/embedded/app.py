"""Start the embedded default: SQLite (or the configured database), the model, a feeder, the dashboard."""

from __future__ import annotations

import importlib.util
import logging
import os
import queue
import signal
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console

from sentimon.settings import Settings
from stream_processor.classifier import PostClassifier
from stream_processor.embedded.runner import RunOptions, RunSummary
from stream_processor.sinks.memory import MemoryLiveView

log = logging.getLogger(__name__)
console = Console(stderr=True)
# The demo starts with this much history behind it, so the alert detector has its baseline and the
# scripted spike (90 s in) alerts within the first five minutes; the dashboard has trends at once.
DEMO_HISTORY_MINUTES = 45


@dataclass
class EmbeddedOptions:
    replay: Path | None = None
    speed: float = 1.0
    dashboard: bool = True
    status_every_s: float = 10.0


def run_embedded(
    settings: Settings, run: RunOptions, opts: EmbeddedOptions, classifier: PostClassifier | None = None
) -> RunSummary:
    """Blocking: process the demo or a replay until it ends, N messages, T seconds, or Ctrl-C."""
    from sentimon.storage.db import make_engine, migrate
    from stream_processor.embedded.runner import EmbeddedRunner
    from stream_processor.embedded.sources import Feeder, demo_items, replay_items
    from stream_processor.hotswap import start_hot_swap
    from stream_processor.pipeline import Processor
    from stream_processor.rulebook import RuleBook
    from stream_processor.sinks.sql import SqlStore

    migrate(settings.db_url)
    engine = make_engine(settings.db_url)
    if opts.replay is None:
        seed_demo_topics(engine)
    swap = start_hot_swap(settings, engine, classifier)  # the registry's live model, swapped when promoted
    view = MemoryLiveView()
    live: list = [view]
    refill = None
    if settings.redis_url:
        from stream_processor.sinks.refill import redis_view

        redis, refill = redis_view(settings.redis_url, engine)
        live.append(redis)
    processor = Processor(swap.classifier, SqlStore(engine), live, refill=refill)
    q: queue.Queue = queue.Queue(maxsize=max(1000, run.batch_size * 8))
    history = 0 if opts.replay or _recently_active(engine) else DEMO_HISTORY_MINUTES
    items = replay_items(opts.replay) if opts.replay else demo_items(history_minutes=history)
    feeder = Feeder(items, q, opts.speed, "replay" if opts.replay else "demo")
    rulebook = RuleBook(engine)
    span = _Span()  # the post time this run touched, for a replay's closing summary
    view.subscribe(span.add)
    run.periodic = [*run.periodic, (opts.status_every_s, lambda: print_status(view, runner, engine))]
    runner = EmbeddedRunner(processor, rulebook, q, run)
    swap.follow(runner.health)
    dashboard = start_dashboard(settings) if opts.dashboard else None
    _on_signals(runner.stop_event.set)
    feeder.start()
    try:
        summary = runner.run()
        if dashboard is not None and summary.source_done and not runner.stop_event.is_set():
            console.print("[green]replay finished[/]; the dashboard stays up until Ctrl-C")
            while not runner.stop_event.wait(1.0) and dashboard.poll() is None:
                continue
    finally:
        swap.stop()
        feeder.stop()
        stop_dashboard(dashboard)
    console.print(
        f"[green]processed {summary.received} messages[/] ({summary.inserted} new posts, "
        f"{summary.dead} dead letters) in {summary.seconds:.1f}s"
    )
    if opts.replay is not None and span.first is not None and span.last is not None:
        print_shares(engine, span.first, span.last + timedelta(minutes=1))
    engine.dispose()
    return summary


@dataclass
class _Span:
    first: datetime | None = None
    last: datetime | None = None

    def add(self, window: Any) -> None:
        at = window.window_start
        self.first = at if self.first is None else min(self.first, at)
        self.last = at if self.last is None else max(self.last, at)


def print_shares(engine: Any, start: datetime, end: datetime) -> None:
    """Per topic, what the replay's span of post time adds up to: posts and corrected shares."""
    from rich.markup import escape
    from rich.table import Table

    from sentimon.report import share_report

    with engine.connect() as conn:
        rows = share_report(conn, since=start, until=end)
    table = Table("topic", "posts", "negative (90% interval)", "neutral", "positive",
                  title=f"Per-topic shares, {start:%Y-%m-%d %H:%M} to {end:%H:%M} UTC")  # fmt: skip
    for r in rows:
        e = r.estimate
        neg = (
            "too few posts to tell"
            if e.too_few
            else f"{e.negative:.1%} ({e.negative_low:.1%}–{e.negative_high:.1%})"
        )
        table.add_row(escape(r.topic), str(e.n), neg, f"{e.neutral:.1%}", f"{e.positive:.1%}")
    console.print(table)


def _recently_active(engine: object) -> bool:
    """Whether the store already has the last hour of posts (a second demo run must not add a
    second history on top of the first)."""
    from datetime import UTC, datetime, timedelta

    from sentimon.storage import windows

    with engine.connect() as conn:  # type: ignore[attr-defined]
        now = datetime.now(UTC)
        return bool(windows.totals(conn, now - timedelta(hours=1), now + timedelta(minutes=1)))


def seed_demo_topics(engine: object) -> None:
    """Create the demo's topics if they are missing (never touches topics a user changed)."""
    from sentimon.storage import topics
    from stream_processor.embedded.demo import DEMO_TOPICS

    with engine.begin() as conn:  # type: ignore[attr-defined]
        for name, rule in DEMO_TOPICS.items():
            if topics.get_topic_by_name(conn, name) is None:
                topics.create_topic(conn, name, rule)


def print_status(view: MemoryLiveView, runner: object, engine: Any) -> None:
    """The console line: totals, then each topic's newest window by name, with its corrected share."""
    from rich.markup import escape

    from sentimon.storage import topics

    health = runner.health  # type: ignore[attr-defined]
    with engine.connect() as conn:
        names = {t.id: t.name for t in topics.list_topics(conn)}
    parts = []
    for topic_id, w in sorted(view.latest_all().items()):
        est = w.estimate()
        shown = (
            "too few posts"
            if est.too_few
            else f"{est.negative:.0%} negative ({est.negative_low:.0%}–{est.negative_high:.0%})"
        )
        parts.append(f"{escape(names.get(topic_id, f'topic {topic_id}'))}: {w.n} posts, {shown}")
    console.print(f"[dim]{health.processed} processed, {health.dead} dead letters · {' · '.join(parts)}[/]")


def start_dashboard(settings: Settings) -> subprocess.Popen | None:
    """`sentimon dashboard` beside the runner, reading the same database; skipped if not installed."""
    if importlib.util.find_spec("dashboard.cli") is None:
        console.print("[yellow]dashboard not installed; running without it[/]")
        return None
    env = {**os.environ, "SENTIMON_DATABASE_URL": settings.db_url}
    cmd = [sys.executable, "-m", "dashboard.cli", "--port", str(settings.dashboard_port)]
    return subprocess.Popen(cmd, env=env, start_new_session=True)  # its own group: Streamlit is a grandchild


def stop_dashboard(proc: subprocess.Popen | None) -> None:
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


def _on_signals(stop: object) -> None:
    def handler(signum: int, _frame: object) -> None:
        log.info("signal %s: finishing the current batch", signum)
        stop()  # type: ignore[operator]

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
