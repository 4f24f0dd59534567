"""Starts a source from the command line: picks the sink, runs until done or signalled, reports."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from sentimon.schema import Post
from sentimon.settings import Settings

from .base import Source, SourceError
from .cursors import CursorStore
from .metrics import exported
from .pipeline import IngestStats, make_pipeline
from .runner import Runner, RunOptions
from .sink import CallableSink, Sink, SinkError

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Common:
    """Options every `sentimon ingest <source>` command shares."""

    keywords: list[str] = field(default_factory=list)
    langs: list[str] = field(default_factory=list)
    max_posts: int | None = None
    from_start: bool = False
    cursor_name: str | None = None
    dry_run: bool = False
    bootstrap: str | None = None
    topic: str | None = None
    stats_every_s: float = 30.0
    kafka_timeout_s: float = 15.0
    metrics_port: int | None = None  # serve Prometheus /metrics here while running
    edits: bool = True  # send edits and deletions at the source as events (see edits.py)


def make_sink(settings: Settings, common: Common) -> Sink:
    """Kafka when configured; --dry-run prints posts as JSON lines instead."""
    if common.dry_run:
        return CallableSink(_print_post)
    bootstrap = common.bootstrap or settings.kafka_bootstrap
    if not bootstrap:
        raise SinkError(
            "no Kafka configured: set SENTIMON_KAFKA_BOOTSTRAP (or --bootstrap), start the local stack with "
            "`sentimon stack up`, or use --dry-run to print the posts"
        )
    from .producer import KafkaSink, ProducerConfig

    config = ProducerConfig(bootstrap=bootstrap, topic=common.topic or settings.topic_raw)
    config.connect_timeout_s = config.block_timeout_s = common.kafka_timeout_s
    return KafkaSink(config)


def _print_post(post: Post) -> None:
    sys.stdout.buffer.write(post.to_json() + b"\n")


def run_source(
    source: Source,
    settings: Settings,
    common: Common,
    cursor_key: str,
    report: Callable[[IngestStats, dict[str, Any]], None],
) -> IngestStats:
    """Run one source into the configured sink; Ctrl-C or SIGTERM stops it cleanly (flush, save cursor).

    A dry run reads the saved cursor (it shows what a real run would send) but never moves it."""
    store: CursorStore = CursorStore.for_settings(settings.data_dir, common.cursor_name or cursor_key)
    if common.dry_run:
        store = store.read_only(start_over=common.from_start)
    elif common.from_start:
        store.clear()
    sink = make_sink(settings, common)
    try:
        return asyncio.run(_run(source, sink, store, common, report))
    finally:
        sink.close(10.0)
        report_final = getattr(sink, "metrics", None)
        if report_final is not None:
            log.info("producer: %s", report_final.as_dict())


async def _run(
    source: Source,
    sink: Sink,
    store: CursorStore,
    common: Common,
    report: Callable[[IngestStats, dict[str, Any]], None],
) -> IngestStats:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    runner = Runner(
        source,
        sink,
        store,
        make_pipeline(common.keywords, common.langs, forward_edits=common.edits),
        RunOptions(max_posts=common.max_posts),
        stop,
    )
    reporter = asyncio.create_task(_report_every(runner, sink, common.stats_every_s, report))
    try:
        with exported(common.metrics_port, source.name, runner.stats, sink):
            return await runner.run()
    finally:
        reporter.cancel()
        report(runner.stats, producer_metrics(sink))


def producer_metrics(sink: Sink) -> dict[str, Any]:
    metrics = getattr(sink, "metrics", None)
    return metrics.as_dict() if metrics is not None else {}


async def _report_every(
    runner: Runner, sink: Sink, seconds: float, report: Callable[[IngestStats, dict[str, Any]], None]
) -> None:
    while seconds > 0:
        await asyncio.sleep(seconds)
        report(runner.stats, producer_metrics(sink))


def describe_error(exc: BaseException) -> str:
    """The one line a person sees when ingest stops on an error."""
    if isinstance(exc, SourceError | SinkError):
        return str(exc)
    if isinstance(exc, orjson.JSONDecodeError | ValueError):
        return f"{type(exc).__name__}: {exc}"
    return f"unexpected {type(exc).__name__}: {exc}"
