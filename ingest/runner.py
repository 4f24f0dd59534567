"""Runs one source into one sink: filters, dedupes, reconnects with backoff, persists the cursor."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from sentimon.retry import Backoff

from .base import Event, RateLimited, Source, SourceError, StreamIdle, TransientError
from .cursors import CursorState, CursorStore
from .edits import dedupe_key
from .pipeline import IngestStats, Pipeline, make_pipeline
from .post_producer import PostProducer, ProducerError, as_producer

log = logging.getLogger(__name__)
RECENT_KEYS_KEPT = 2_000


@dataclass(slots=True)
class RunOptions:
    """How long to run and how often to save progress. Tests use max_posts instead of sleeping."""

    max_posts: int | None = None
    checkpoint_s: float = 1.0
    backoff: Backoff = field(default_factory=Backoff)
    max_reconnects: int | None = None
    fail_fast: bool = True  # a first connection that fails is an error, later drops are retried
    flush_timeout_s: float = 30.0


class _Acks:
    """Delivery futures in send order, each with the cursor reached after it.

    The committed cursor only moves past a post once it and every earlier post is acknowledged,
    so a restart neither skips a post (no loss) nor replays more than the unacknowledged tail.
    Only acknowledged keys are persisted for de-duplication, so a replayed tail is never dropped.
    """

    def __init__(self, cursor: Any, acked_keys: list[str]):
        self.committed = cursor
        self.acked_keys: deque[str] = deque(acked_keys, maxlen=RECENT_KEYS_KEPT)
        self._queue: deque[tuple[Future[None] | None, Any, str | None]] = deque()

    def push(self, future: Future[None] | None, cursor: Any, key: str | None = None) -> None:
        if future is None and self._queue and self._queue[-1][0] is None:
            self._queue[-1] = (None, cursor, None)  # position-only steps collapse into one
        else:
            self._queue.append((future, cursor, key))

    def advance(self) -> None:
        """Move the committed cursor over the acknowledged prefix; raise if a delivery failed."""
        while self._queue:
            future, cursor, key = self._queue[0]
            if future is not None:
                if not future.done():
                    return
                exc = future.exception()
                if exc is not None:
                    raise exc if isinstance(exc, ProducerError) else ProducerError(str(exc))
                if key is not None:
                    self.acked_keys.append(key)
            self._queue.popleft()
            if cursor is not None:
                self.committed = cursor

    def state(self) -> CursorState:
        return CursorState(cursor=self.committed, recent_keys=list(self.acked_keys))

    def __len__(self) -> int:
        return len(self._queue)


class Runner:
    """One source, one sink, one cursor file."""

    def __init__(
        self,
        source: Source,
        sink: Any,
        store: CursorStore | None = None,
        pipeline: Pipeline | None = None,
        options: RunOptions | None = None,
        stop: asyncio.Event | None = None,
    ):
        self.source = source
        self.sink: PostProducer = as_producer(sink)
        self.store = store
        self.options = options or RunOptions()
        self.stop = stop or asyncio.Event()
        self.stats = IngestStats()
        state = store.load() if store else CursorState()
        self.pipeline = pipeline or make_pipeline()
        for key in state.recent_keys:
            self.pipeline.deduper.add(key)
        self.cursor: Any = state.cursor
        self._acks = _Acks(state.cursor, state.recent_keys)
        self._last_checkpoint = time.monotonic()
        self._got_event = False

    async def run(self) -> IngestStats:
        """Run until the source ends (files), `stop` is set, or max_posts were sent.

        Raises ProducerError when a post could not be delivered; the saved cursor stays before it.
        """
        try:
            await self._loop_until_stopped()
        except BaseException:
            self._final_checkpoint(raise_errors=False)
            raise
        self._final_checkpoint(raise_errors=True)
        return self.stats

    async def _loop_until_stopped(self) -> None:
        """Run the loop, cancelling it when `stop` is set (a source may be waiting on a quiet socket)."""
        loop = asyncio.create_task(self._loop())
        stopped = asyncio.create_task(self.stop.wait())
        try:
            await asyncio.wait({loop, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
            if not loop.done():
                loop.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await loop
        if not loop.cancelled():
            loop.result()  # re-raise what stopped the loop

    async def _loop(self) -> None:
        while not self._done():
            try:
                await self._consume_once()
                if self.source.finite:
                    return
                raise TransientError("the source closed the stream")
            except SourceError:
                raise
            except (TransientError, OSError, TimeoutError) as exc:
                if self._done():
                    return
                self._check_give_up(exc)
                delay = self._delay_for(exc)
                self.stats.reconnects += 1
                log.warning("%s; reconnecting in %.1fs", self._describe(exc), delay)
                await self._sleep(delay)

    def _check_give_up(self, exc: BaseException) -> None:
        """A source that never answered is most likely misconfigured: say so instead of retrying forever."""
        opts = self.options
        if opts.fail_fast and not self._got_event and not isinstance(exc, RateLimited | StreamIdle):
            raise SourceError(f"cannot start: {self._describe(exc)}") from exc
        if opts.max_reconnects is not None and self.stats.reconnects >= opts.max_reconnects:
            raise SourceError(
                f"gave up after {opts.max_reconnects} reconnects: {self._describe(exc)}"
            ) from exc

    def _describe(self, exc: BaseException) -> str:
        reason = str(exc) or type(exc).__name__
        prefix = self.source.name.split(":")[0]
        return reason if reason.startswith(prefix) else f"{self.source.name}: {reason}"

    def _delay_for(self, exc: BaseException) -> float:
        if isinstance(exc, RateLimited):
            self.stats.rate_limited += 1
            return max(exc.retry_after, 0.0)
        return self.options.backoff.next_delay()

    async def _consume_once(self) -> None:
        stream = self.source.stream(self.cursor)
        try:
            async for event in stream:
                self._got_event = True
                self._handle(event)
                self.options.backoff.reset()
                if self._done():
                    return
                await self._maybe_checkpoint()
        finally:
            # Every source's stream() is an async generator; the contract promises only AsyncIterator.
            await stream.aclose()  # type: ignore[attr-defined]

    def _handle(self, event: Event) -> None:
        future: Future[None] | None = None
        key = None
        if event.malformed is not None:
            self.stats.malformed += 1
            log.warning("%s: skipped a malformed payload: %s", self.source.name, event.malformed)
        elif event.filtered or event.repost:
            self.stats.received += 1
            if event.repost:
                self.stats.reposts += 1
            else:
                self.stats.filtered += 1
        elif event.post is not None and self.pipeline.admit(event.post, self.stats):
            future = self.sink.send(event.post)
            key = dedupe_key(event.post)
            self.stats.sent += 1
        if event.cursor is not None:
            self.cursor = event.cursor
        self._acks.push(future, event.cursor, key)

    def _done(self) -> bool:
        limit = self.options.max_posts
        return self.stop.is_set() or (limit is not None and self.stats.sent >= limit)

    async def _maybe_checkpoint(self) -> None:
        if time.monotonic() - self._last_checkpoint >= self.options.checkpoint_s:
            self._checkpoint()
        await asyncio.sleep(0)  # let other tasks (signal handlers, servers in tests) run

    def _checkpoint(self) -> None:
        self._last_checkpoint = time.monotonic()
        try:
            self._acks.advance()
        finally:
            if self.store is not None:
                self.store.save(self._acks.state())

    def _final_checkpoint(self, raise_errors: bool) -> None:
        """Flush the sink, then save the position of everything acknowledged."""
        error: ProducerError | None = None
        try:
            self.sink.flush(self.options.flush_timeout_s)
        except ProducerError as exc:
            error = exc
        try:
            self._checkpoint()  # saves the acknowledged prefix even when the flush failed
        except ProducerError as exc:
            error = error or exc
        if error is not None:
            log.error("%s: cursor kept before the first undelivered post: %s", self.source.name, error)
            if raise_errors:
                raise error

    async def _sleep(self, seconds: float) -> None:
        """Sleep, but wake at once when asked to stop."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stop.wait(), timeout=seconds)
