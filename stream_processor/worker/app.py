"""Build the Faust app: the raw-posts agent, the driver's periodic tasks as timers, /health and /metrics."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, cast

import faust

from sentimon.settings import Settings
from stream_processor import metrics
from stream_processor.batch import DeadLetter, RawMessage
from stream_processor.options import ProcessOptions
from stream_processor.worker.core import WorkerCore

log = logging.getLogger(__name__)


def create_app(settings: Settings, core: WorkerCore, options: ProcessOptions) -> faust.App:
    """A Faust app whose single agent hands micro-batches to `core` and acks only afterwards."""
    Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
    app = faust.App(
        settings.consumer_group,
        broker=[f"kafka://{b.strip()}" for b in (settings.kafka_bootstrap or "").split(",") if b.strip()],
        store="memory://",
        datadir=str(Path(settings.data_dir) / "faust"),
        key_serializer="raw",
        value_serializer="raw",
        topic_partitions=settings.partitions,
        topic_disable_leader=True,
        topic_allow_declare=False,
        consumer_auto_offset_reset="earliest",
        broker_commit_interval=options.commit_interval_s,
        broker_session_timeout=options.session_timeout_s,
        broker_heartbeat_interval=min(3.0, options.session_timeout_s / 4),
        broker_request_timeout=max(90.0, options.session_timeout_s * 2),
        producer_acks=-1,
        # A batch's scored posts leave in a few requests per partition instead of one request each.
        producer_linger_ms=10,
        producer_max_batch_size=512 * 1024,
        producer_max_request_size=2 * 1024 * 1024,
        web_enabled=True,
        web_port=options.web_port,
        web_in_thread=False,
    )
    raw = app.topic(settings.topic_raw, key_type=bytes, value_type=bytes)
    dlq = app.topic(settings.topic_dlq, key_type=bytes, value_type=bytes)
    scored = app.topic(settings.topic_scored, key_type=bytes, value_type=bytes)

    async def send_dead(letter: DeadLetter) -> Any:
        headers = {
            "reason": letter.reason.encode(),
            "origin": (letter.origin or "").encode(),
            "post_id": (letter.post_key or "").encode(),
        }
        return await dlq.send(key=letter.key, value=letter.raw, headers=headers, force=True)

    async def send_scored(key: str, value: bytes) -> Any:
        # Straight to the producer: Faust's topic/channel layer cost as much as the produce itself.
        return await app.producer.send(scored.get_topic_name(), key.encode(), value, None, None, None)

    _add_agent(app, raw, core, options, send_dead, send_scored)

    @app.timer(interval=1.0)
    async def retry_live() -> None:
        await core.retry_live()

    @app.timer(interval=2.0)
    async def observe_lag() -> None:
        await _lag_now(app, core)

    for seconds, callback in core.driver.periodic():  # rule reloads, the alert cycle, …
        _add_periodic(app, core, seconds, callback)

    @app.page("/health")
    async def health(web: Any, request: Any) -> Any:
        body = core.health.as_dict()
        body["uptime_s"] = round(time.time() - core.health.started_at, 1)
        return web.json(body, status=200 if body["status"] == "ok" else 503)

    @app.page("/metrics")
    async def metrics_page(web: Any, request: Any) -> Any:
        body, content_type = metrics.exposition()
        return web.bytes(body, content_type=content_type.split(";")[0])

    return app


def _add_agent(
    app: faust.App, raw: Any, core: WorkerCore, options: ProcessOptions, send_dead: Any, send_scored: Any
) -> None:
    """The raw-posts agent. noack_take: Faust must not ack (and later commit) an offset before our
    transaction commits. Two stages: batch k+1 is classified while batch k is committed, produced and
    acked; finishes run one at a time in batch order, so acks (and offset commits) stay in order."""

    @app.agent(raw, concurrency=1)
    async def process(stream: faust.StreamT) -> None:
        pending: asyncio.Future | None = None

        async def finish(events: Sequence[Any], computed: Any, began: float) -> None:
            await core.finish(computed, began, send_dead, send_scored)
            for event in events:
                await stream.ack(event)
            core.health.acked()
            _observe_lag(app, events)

        try:
            # An agent is handed a faust.Stream; faust's StreamT interface omits noack_take.
            batches = cast(faust.Stream, stream).noack_take(options.batch_size, within=options.latency_s)
            async for events in batches:
                began = time.perf_counter()
                core.health.taken()
                computed = await core.compute([_raw(e) for e in events])
                if pending is not None:
                    await pending
                pending = asyncio.ensure_future(finish(events, computed, began))
            if pending is not None:
                await pending
        finally:
            if pending is not None and not pending.done():
                pending.cancel()  # unacknowledged: replayed after a restart, and deduplicated then


def _raw(event: Any) -> RawMessage:
    msg = event.message
    return RawMessage(event.value, f"{msg.topic}/{msg.partition}/{msg.offset}", event.key)


def _observe_lag(app: faust.App, events: Sequence[Any]) -> None:
    last: dict[Any, int] = {}
    for event in events:
        last[event.message.tp] = max(last.get(event.message.tp, -1), event.message.offset)
    for tp, offset in last.items():
        try:
            behind = max(0, app.consumer.highwater(tp) - offset - 1)
            metrics.LAG.labels(partition=str(tp.partition)).set(behind)
        except Exception:  # highwater is unknown until the first fetch response
            continue


async def _lag_now(app: faust.App, core: WorkerCore) -> None:
    """Lag of every assigned partition (from the fetch position) even while no batch completes, so
    /health can tell a worker that waits for posts from one that is stuck with posts waiting."""
    total = 0
    try:
        for tp in app.consumer.assignment():
            position = await app.consumer.position(tp)
            highwater = app.consumer.highwater(tp)
            if position is None or highwater is None:
                continue
            behind = max(0, highwater - position)
            metrics.LAG.labels(partition=str(tp.partition)).set(behind)
            total += behind
    except Exception:  # not assigned yet, or Kafka away: keep the last figure
        return
    core.health.lag = total


def _add_periodic(app: faust.App, core: WorkerCore, seconds: float, callback: Callable[[], object]) -> None:
    name = getattr(callback, "__name__", "periodic")

    async def run() -> None:
        try:
            await core.in_io(callback)
        except Exception:
            log.exception("periodic task %s failed", name)

    app.timer(interval=seconds, name=f"periodic-{name}")(run)
