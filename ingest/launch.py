"""Starts a source from the command line: picks the producer, runs until done or signalled, reports."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Callable
from typing import Any

import orjson

from sentimon.schema import Post
from sentimon.settings import Settings

from .base import Source, SourceError
from .cursors import CursorStore
from .display import Display
from .metrics import exported
from .options import IngestOptions
from .pipeline import IngestStats, make_pipeline
from .post_producer import CallableProducer, PostProducer, ProducerError
from .runner import Runner, RunOptions

log = logging.getLogger(__name__)


def make_producer(settings: Settings, options: IngestOptions) -> PostProducer:
    """Kafka when configured; --dry-run prints posts as JSON lines instead."""
    if options.dry_run:
        return CallableProducer(_print_post)
    bootstrap = options.bootstrap or settings.kafka_bootstrap
    if not bootstrap:
        raise ProducerError(
            "no Kafka configured: set SENTIMON_KAFKA_BOOTSTRAP (or --bootstrap), start the local stack with "
            "`sentimon stack up`, or use --dry-run to print the posts"
        )
    from .producer import KafkaPostProducer, ProducerConfig

    config = ProducerConfig(bootstrap=bootstrap, topic=options.topic or settings.topic_raw)
    config.connect_timeout_s = config.block_timeout_s = options.kafka_timeout_s
    return KafkaPostProducer(config)


def _print_post(post: Post) -> None:
    sys.stdout.buffer.write(post.to_json() + b"\n")


def run_source(
    source: Source,
    settings: Settings,
    options: IngestOptions,
    cursor_key: str,
    display_for: Callable[[Source], Display],
) -> IngestStats:
    """Run one source into the configured sink; Ctrl-C or SIGTERM stops it cleanly (flush, save cursor).

    A dry run reads the saved cursor (it shows what a real run would send) but never moves it."""
    store: CursorStore = CursorStore.for_settings(settings.data_dir, options.cursor_name or cursor_key)
    if options.dry_run:
        store = store.read_only(start_over=options.from_start)
    elif options.from_start:
        store.clear()
    sink = make_producer(settings, options)
    try:
        return asyncio.run(_run(source, sink, store, options, display_for(source)))
    finally:
        sink.close(10.0)
        report_final = getattr(sink, "metrics", None)
        if report_final is not None:
            log.info("producer: %s", report_final.as_dict())


async def _run(
    source: Source,
    sink: PostProducer,
    store: CursorStore,
    options: IngestOptions,
    display: Display,
) -> IngestStats:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    runner = Runner(
        source,
        sink,
        store,
        make_pipeline(options.keywords, options.langs, forward_edits=options.edits),
        RunOptions(max_posts=options.max_posts),
        stop,
    )
    reporter = asyncio.create_task(_report_every(runner, sink, display))
    try:
        with exported(options.metrics_port, source.name, runner.stats, sink):
            return await runner.run()
    finally:
        reporter.cancel()
        display.finish(runner.stats, producer_metrics(sink))


def producer_metrics(sink: PostProducer) -> dict[str, Any]:
    metrics = getattr(sink, "metrics", None)
    return metrics.as_dict() if metrics is not None else {}


async def _report_every(runner: Runner, sink: PostProducer, display: Display) -> None:
    while True:
        await asyncio.sleep(display.every_s)
        display.update(runner.stats, producer_metrics(sink))


def describe_error(exc: BaseException) -> str:
    """The one line a person sees when ingest stops on an error."""
    if isinstance(exc, SourceError | ProducerError):
        return str(exc)
    if isinstance(exc, orjson.JSONDecodeError | ValueError):
        return f"{type(exc).__name__}: {exc}"
    return f"unexpected {type(exc).__name__}: {exc}"
