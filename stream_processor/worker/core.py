"""What the Faust agent does with each micro-batch: the driver's steps off the event loop, the produce."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sentimon.retry import Backoff
from stream_processor import metrics
from stream_processor.batch import BatchResult, RawMessage
from stream_processor.driver import Computed, Driver, Stopping
from stream_processor.pipeline import Processor
from stream_processor.windows import WindowState

log = logging.getLogger(__name__)
Send = Callable[..., Awaitable[Any]]
T = TypeVar("T")


@dataclass
class WorkerCore:
    """The Faust side of the one driver: its blocking steps run in single-thread executors (model work,
    database I/O, live views) so the event loop keeps heartbeating, and the next batch is computed
    while the previous one is committed; the produce to Kafka is the one step of its own."""

    driver: Driver
    cpu: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(1, "classify"))
    io: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(1, "io"))
    # Live views get their own thread: a hung Redis must never hold up the database commit.
    live: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(1, "live"))
    _live_backlog: list[WindowState] = field(default_factory=list)
    _live_task: asyncio.Future[None] | None = None

    @property
    def health(self) -> metrics.Health:
        return self.driver.health

    @property
    def processor(self) -> Processor:
        return self.driver.processor

    def stop(self) -> None:
        """From now on every retry gives its batch up (unacknowledged, replayed later)."""
        self.driver.stop()

    @property
    def stopping(self) -> bool:
        return self.driver.stopping

    async def in_io(self, fn: Callable[..., T], *args: Any) -> T:
        return await self._run(self.io, fn, *args)

    async def _run(self, pool: ThreadPoolExecutor, fn: Callable[..., T], *args: Any) -> T:
        try:
            return await asyncio.get_running_loop().run_in_executor(pool, fn, *args)
        except Stopping as exc:
            raise asyncio.CancelledError(str(exc)) from exc

    async def reload_rules(self) -> None:
        await self.in_io(self.driver.reload_rules)

    async def retry_live(self) -> None:
        await self._run(self.live, self.driver.retry_live)

    async def handle(self, messages: Sequence[RawMessage], send_dead: Send, send_scored: Send) -> None:
        """compute → commit (retry until the database takes it) → live views → produce → (caller acks)."""
        began = time.perf_counter()
        computed = await self.compute(messages)
        await self.finish(computed, began, send_dead, send_scored)

    async def compute(self, messages: Sequence[RawMessage]) -> Computed:
        """The CPU half of a batch (validate, classify, match) in the model thread; touches no sink, so the
        next batch can be computed while the previous one is still being committed."""
        await self.in_io(self.driver.ensure_rules)
        return await self._run(self.cpu, self.driver.compute, messages)

    async def finish(self, computed: Computed, began: float, send_dead: Send, send_scored: Send) -> None:
        """The I/O half: commit, live views, produce. Callers run one finish at a time, in batch order."""
        result, classify_s = computed
        totals, db_s = await self.in_io(self.driver.commit, result)
        report = self.processor.report(result, classify_s, db_s, totals)
        self._publish_later(totals)
        t1 = time.perf_counter()
        await self._produce(result, send_dead, send_scored)
        metrics.PRODUCE_SECONDS.observe(time.perf_counter() - t1)
        report.live_ok = self.health.live_ok  # as the live thread last saw it: it runs on its own
        self.driver.observe(report, began)

    def _publish_later(self, totals: list[WindowState]) -> None:
        """Hand the totals to the live thread and go on; while it is busy (a slow Redis) the totals of
        later batches wait in one backlog and leave together, so nothing piles up."""
        self._live_backlog.extend(totals)
        if self._live_task is None or self._live_task.done():
            self._live_task = asyncio.ensure_future(self._drain_live())

    async def _drain_live(self) -> None:
        loop = asyncio.get_running_loop()
        while self._live_backlog:
            totals, self._live_backlog = self._live_backlog, []
            t0 = time.perf_counter()
            try:
                await loop.run_in_executor(self.live, self.driver.publish, totals)
            except Exception:
                log.exception("updating the live views failed")
                self.driver.set_live(False)
            metrics.LIVE_SECONDS.observe(time.perf_counter() - t0)

    async def _wait_to_resend(self, delay: float) -> None:
        if self.stopping:
            raise asyncio.CancelledError("stopping: the batch stays unacknowledged")
        await asyncio.sleep(delay)

    async def _produce(self, result: BatchResult, send_dead: Send, send_scored: Send) -> None:
        """Dead letters to the DLQ, scored posts and deletions downstream; awaited, so an outage blocks
        the ack. Only records that failed are sent again; one Kafka refuses for itself (too large) is
        logged, not sent again."""
        outage = self.health.stage("produce")
        todo: list[tuple[Send, tuple[Any, ...]]] = [(send_dead, (letter,)) for letter in result.dead]
        todo += [
            (send_scored, (sp.post.key, result.encoded.get(sp.post.event_key) or sp.to_json()))
            for sp in result.scored
        ]
        # A deletion goes downstream too, as the Post it arrived as (metadata.event = "delete", same key),
        # so a consumer of posts.scored can drop what it holds of the post.
        todo += [(send_scored, (gone.post.key, gone.to_json())) for gone in result.deletes]
        policy = self.driver.options.produce_retry
        delays = Backoff(policy.initial_s, policy.max_s, policy.jitter)
        while todo:
            todo = await self._send_all(todo, outage)
            if todo:
                await self._wait_to_resend(delays.next_delay())
        outage.recovered()
        self.driver.log_dead(result)

    async def _send_all(self, todo: list, outage: Any) -> list:
        """Send every record; return those to send again (an outage), dropping those Kafka refuses."""
        futures: list[Any] = []
        for send, args in todo:
            try:
                futures.append(await send(*args))
            except Exception as exc:
                futures.append(exc)
        pending = [f for f in futures if not isinstance(f, BaseException)]
        done = iter(await asyncio.gather(*pending, return_exceptions=True))
        outcomes = [f if isinstance(f, BaseException) else next(done) for f in futures]
        again = []
        for item, outcome in zip(todo, outcomes, strict=True):
            if not isinstance(outcome, Exception):
                continue
            if is_refused_record(outcome):
                log.error("Kafka refused a record, not retried: %s: %s", type(outcome).__name__, outcome)
            else:
                outage.failed(outcome, "failing, retrying the records not acknowledged")
                again.append(item)
        return again


def is_refused_record(exc: BaseException) -> bool:
    """A record Kafka will never take (too large, invalid), as opposed to Kafka being away."""
    from aiokafka import errors

    refused = (errors.MessageSizeTooLargeError, errors.RecordTooLargeError, errors.CorruptRecordException,
               errors.InvalidTopicError, TypeError, ValueError)  # fmt: skip
    return isinstance(exc, refused)
