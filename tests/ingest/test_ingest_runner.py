"""The runner's decisions with in-memory sources and sinks: acks, cursors, reconnects, rate limits."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from concurrent.futures import Future
from typing import Any

import pytest

from ingest.base import Event, RateLimited, SourceError, TransientError
from ingest.cursors import CursorStore
from ingest.post_producer import ProducerError, as_producer
from ingest.runner import Runner, RunOptions
from sentimon.retry import Backoff
from sentimon.schema import Post


def post(n: int) -> Post:
    return Post(source="fake", id=str(n), text=f"post number {n}")


class ScriptedSource:
    """Yields posts 1..n, cursor = post number; `fail_at` raises an error once when reaching that number."""

    name = "fake"

    def __init__(self, n: int, finite: bool = True, fail_at: dict[int, Exception] | None = None):
        self.n, self.finite = n, finite
        self.fail_at = dict(fail_at or {})
        self.cursors_given: list[Any] = []

    async def stream(self, cursor: Any) -> AsyncIterator[Event]:
        self.cursors_given.append(cursor)
        for number in range((cursor or 0) + 1, self.n + 1):
            if number in self.fail_at:
                raise self.fail_at.pop(number)
            yield Event(post=post(number), cursor=number)
        if not self.finite:
            await asyncio.Event().wait()


class HeldSink:
    """Acknowledges only the posts listed in `ack`; others stay pending (or fail when in `fail`)."""

    def __init__(self, ack: set[str] | None = None, fail: set[str] | None = None):
        self.ack, self.fail = ack, fail or set()
        self.sent: list[str] = []

    def send(self, p: Post) -> Future[None]:
        self.sent.append(p.id)
        future: Future[None] = Future()
        if p.id in self.fail:
            future.set_exception(ProducerError(f"broker refused {p.id}"))
        elif self.ack is None or p.id in self.ack:
            future.set_result(None)
        return future

    def flush(self, timeout: float | None = None) -> None:
        return None

    def close(self, timeout: float | None = None) -> None:
        return None


def run(runner: Runner, timeout: float = 10) -> Any:
    return asyncio.run(asyncio.wait_for(runner.run(), timeout))


def fast(**kwargs: Any) -> RunOptions:
    return RunOptions(checkpoint_s=0, backoff=Backoff(initial_s=0.01, max_s=0.02), **kwargs)


def test_cursor_and_keys_saved_only_up_to_the_last_acknowledged_post(store: CursorStore):
    sink = HeldSink(ack={"1", "2", "4"})
    run(Runner(ScriptedSource(4), sink, store, options=fast()))
    state = store.load()
    assert state.cursor == 2  # post 3 is still pending, so 4 cannot count yet
    assert state.recent_keys == ["fake:1", "fake:2"]


def test_restart_resumes_after_the_saved_cursor_and_resends_the_unacknowledged_tail(store: CursorStore):
    run(Runner(ScriptedSource(4), HeldSink(ack={"1", "2"}), store, options=fast()))
    source, sink = ScriptedSource(6), HeldSink()
    run(Runner(source, sink, store, options=fast()))
    assert source.cursors_given == [2]
    assert sink.sent == ["3", "4", "5", "6"]
    assert store.load().cursor == 6


def test_a_failed_delivery_stops_the_run_and_keeps_the_cursor_before_it(store: CursorStore):
    runner = Runner(ScriptedSource(3), HeldSink(fail={"2"}), store, options=fast())
    with pytest.raises(ProducerError, match="broker refused 2"):
        run(runner)
    assert store.load().cursor == 1


def test_reconnects_from_the_latest_cursor_after_a_dropped_connection():
    source = ScriptedSource(5, fail_at={3: TransientError("connection reset")})
    sink = HeldSink()
    runner = Runner(source, sink, options=fast())
    stats = run(runner)
    assert source.cursors_given == [None, 2]
    assert sink.sent == ["1", "2", "3", "4", "5"]
    assert stats.reconnects == 1


def test_a_source_that_fails_before_any_event_is_a_clear_error():
    source = ScriptedSource(3, fail_at={1: TransientError("cannot connect to 127.0.0.1:9: refused")})
    with pytest.raises(SourceError, match="cannot start: fake: cannot connect"):
        run(Runner(source, HeldSink(), options=fast()))


def test_gives_up_after_max_reconnects():
    failures = {n: TransientError(f"drop {n}") for n in (2, 3, 4)}
    source = ScriptedSource(9, fail_at=failures)
    with pytest.raises(SourceError, match="gave up after 2 reconnects: fake: drop 4"):
        run(Runner(source, HeldSink(), options=fast(max_reconnects=2)))


def test_rate_limit_waits_the_time_the_source_asked_for():
    source = ScriptedSource(3, fail_at={2: RateLimited("429", retry_after=0.3)})
    started = time.monotonic()
    stats = run(Runner(source, HeldSink(), options=fast()))
    assert time.monotonic() - started >= 0.3
    assert (stats.rate_limited, stats.sent) == (1, 3)


def test_max_posts_and_stop_end_an_endless_source():
    stats = run(Runner(ScriptedSource(50, finite=False), HeldSink(), options=fast(max_posts=7)))
    assert stats.sent == 7

    async def stop_soon() -> int:
        stop = asyncio.Event()
        runner = Runner(ScriptedSource(2, finite=False), HeldSink(), options=fast(), stop=stop)
        task = asyncio.create_task(runner.run())
        await asyncio.sleep(0.05)
        stop.set()
        return (await asyncio.wait_for(task, 5)).sent

    assert asyncio.run(stop_soon()) == 2


def test_malformed_and_filtered_events_are_counted_and_passed():
    class Mixed:
        name, finite = "mixed", True

        async def stream(self, cursor: Any) -> AsyncIterator[Event]:
            yield Event(malformed="not JSON", cursor=1)
            yield Event(filtered=True, cursor=2)
            yield Event(cursor=3)
            yield Event(post=post(4), cursor=4)

    received: list[Post] = []
    runner = Runner(Mixed(), received.append, options=fast())
    stats = run(runner)
    assert (stats.malformed, stats.filtered, stats.sent) == (1, 1, 1)
    assert [p.id for p in received] == ["4"]


def test_plain_callables_and_objects_with_send_are_sinks():
    got: list[str] = []

    class Queue:
        def send(self, p: Post) -> None:
            got.append(p.id)

    as_producer(lambda p: got.append(p.id)).send(post(1)).result(0)
    as_producer(Queue()).send(post(2)).result(0)
    assert got == ["1", "2"]
    with pytest.raises(TypeError):
        as_producer(42)
