"""Start the embedded default: SQLite (or the configured database), the model, a feeder, the runner."""

from __future__ import annotations

import logging
import queue
import signal
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from sqlalchemy import Engine

from sentimon.settings import Settings
from stream_processor.classifier import PostClassifier
from stream_processor.embedded.runner import RunSummary
from stream_processor.metrics import Health
from stream_processor.options import ProcessOptions
from stream_processor.sinks.base import AggregateSink
from stream_processor.sinks.memory import MemoryLiveView
from stream_processor.windows import WindowState

if TYPE_CHECKING:
    from stream_processor.alerting.service import AlertCycle

log = logging.getLogger(__name__)
console = Console(stderr=True)
# The demo starts with this much history behind it, so the alert detector has its baseline and the
# scripted spike (90 s in) alerts within the first five minutes; the dashboard has trends at once.
DEMO_HISTORY_MINUTES = 45


@dataclass
class EmbeddedOptions:
    replay: Path | None = None
    speed: float = 1.0
    status_every_s: float = 10.0


AlertsFor = Callable[[Engine], "AlertCycle"]  # the alert cycle over the runner's own engine


def run_embedded(
    settings: Settings, run: ProcessOptions, opts: EmbeddedOptions, classifier: PostClassifier | None = None,
    alerts: AlertsFor | None = None,
) -> RunSummary:  # fmt: skip
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
    live: list[AggregateSink] = [view]
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
    span = _Span()  # the post time this run touched, for a replay's closing summary
    view.subscribe(span.add)
    runner: EmbeddedRunner  # made below; the status line reads its health once it runs
    status = (opts.status_every_s, lambda: print_status(view, runner.health, engine))
    cycle = alerts(engine) if alerts is not None else None
    runner = EmbeddedRunner(processor, RuleBook(engine), q, replace(run, periodic=[*run.periodic, status]),
                            alerts=cycle)  # fmt: skip
    swap.follow(runner.health)
    _on_signals(runner.stop_event.set)
    feeder.start()
    try:
        summary = runner.run()
    finally:
        swap.stop()
        feeder.stop()
        if cycle is not None:
            cycle.close()
    console.print(
        f"[green]processed {summary.received} messages[/] ({summary.inserted} new posts, "
        f"{summary.dead} dead letters) in {summary.seconds:.1f}s"
    )
    if opts.replay is not None and span.first is not None and span.last is not None:
        print_shares(engine, span.first, span.last + timedelta(minutes=1))
    engine.dispose()
    summary.interrupted = runner.stop_event.is_set()
    return summary


@dataclass
class _Span:
    first: datetime | None = None
    last: datetime | None = None

    def add(self, window: WindowState) -> None:
        at = window.window_start
        self.first = at if self.first is None else min(self.first, at)
        self.last = at if self.last is None else max(self.last, at)


def print_shares(engine: Engine, start: datetime, end: datetime) -> None:
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


def _recently_active(engine: Engine) -> bool:
    """Whether the store already has the last hour of posts (a second demo run must not add a
    second history on top of the first)."""
    from datetime import UTC, datetime, timedelta

    from sentimon.storage import windows

    with engine.connect() as conn:
        now = datetime.now(UTC)
        return bool(windows.totals(conn, now - timedelta(hours=1), now + timedelta(minutes=1)))


def seed_demo_topics(engine: Engine) -> None:
    """Create the demo's topics if they are missing (never touches topics a user changed)."""
    from sentimon.storage import topics
    from stream_processor.embedded.demo import DEMO_TOPICS

    with engine.begin() as conn:
        for name, rule in DEMO_TOPICS.items():
            if topics.get_topic_by_name(conn, name) is None:
                topics.create_topic(conn, name, rule)


def print_status(view: MemoryLiveView, health: Health, engine: Engine) -> None:
    """The console line: totals, then each topic by name with its corrected share over the quarter hour
    ending at its newest window, the span the overview's tiles show (one minute alone is too few)."""
    from rich.markup import escape

    from sentimon.schema import CURRENT, WINDOW, total
    from sentimon.storage import topics

    with engine.connect() as conn:
        names = {t.id: t.name for t in topics.list_topics(conn)}
    parts = []
    for topic_id, newest in sorted(view.latest_all().items()):
        since = newest.window_start - CURRENT + WINDOW
        est = total(w for w in view.series(topic_id) if w.window_start >= since).estimate()
        shown = (
            "too few to tell"
            if est.too_few
            else f"{est.negative:.0%} negative ({est.negative_low:.0%}–{est.negative_high:.0%})"
        )
        name = escape(names.get(topic_id, f"topic {topic_id}"))
        parts.append(f"{name}: {est.n} posts in {CURRENT.seconds // 60} min, {shown}")
    line = f"[dim]{health.processed} processed, {health.dead} dead letters · {' · '.join(parts)}[/]"
    console.print(line, soft_wrap=not console.is_terminal)  # a log file gets one line, not 80 columns


def _on_signals(stop: Callable[[], object]) -> None:
    def handler(signum: int, _frame: object) -> None:
        log.info("signal %s: finishing the current batch", signum)
        stop()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
