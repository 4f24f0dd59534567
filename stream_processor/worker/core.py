"""What the Faust agent does with each micro-batch, in the order that makes the effects exactly-once."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from stream_processor import metrics
from stream_processor.batch import BatchResult, RawMessage
from stream_processor.embedded.runner import log_dead_letter
from stream_processor.pipeline import Processor
from stream_processor.rulebook import RuleBook

log = logging.getLogger(__name__)
Send = Callable[..., Awaitable[Any]]


@dataclass
class WorkerCore:
    """Owns the processor and two single-thread executors (model work, blocking I/O) so the event
    loop keeps heartbeating while a batch is classified or the database is waited for."""

    processor: Processor
    rulebook: RuleBook
    health: metrics.Health = field(default_factory=metrics.Health)
    cpu: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(1, "classify"))
    io: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(1, "io"))
    # Live views get their own thread: a hung Redis must never hold up the database commit.
    live: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(1, "live"))
    max_backoff_s: float = 5.0
    stopping: bool = False
    _live_backlog: list = field(default_factory=list)
    _live_task: asyncio.Future | None = None

    async def in_io(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.io, fn, *args)

    async def reload_rules(self) -> None:
        """Poll the topics table; a new matcher is used from the next batch on."""
        try:
            changed = await self.in_io(self.rulebook.refresh)
        except Exception as exc:  # the database may be away; keep the rules we have
            if self.health.db_ok:
                log.warning("could not check topic rules, keeping the current ones: %s", exc)
            self.health.db_ok = False
            return
        self.health.rules_fingerprint = str(self.rulebook.fingerprint)
        if not self.health.db_ok:
            log.info("database reachable again")
            self.health.db_ok = True
            metrics.DB_UP.set(1)
        if changed:
            self.processor.matcher = self.rulebook.matcher
            metrics.RULE_RELOADS.inc()
            metrics.TOPICS.set(len(self.rulebook.matcher.topic_ids))
            metrics.RULE_ERRORS.set(len(self.rulebook.matcher.errors))
            self.health.topics = len(self.rulebook.matcher.topic_ids)
            self.health.rule_errors = dict(self.rulebook.matcher.errors)

    async def retry_live(self) -> None:
        """Catch live views up after an outage (or refill them) even when no new posts arrive."""
        loop = asyncio.get_running_loop()
        ok = await loop.run_in_executor(self.live, self.processor.retry_live)
        if ok is not None:
            self._set_live(ok)

    def _set_live(self, ok: bool) -> None:
        self.health.live_ok = ok
        metrics.LIVE_UP.set(1 if ok else 0)

    def _check_stop(self) -> None:
        """Called by every retry loop after a failure: once stopping, give up the batch (unacknowledged,
        replayed later) instead of waiting again; a batch that goes through is finished as usual."""
        if self.stopping:
            raise asyncio.CancelledError("stopping: the batch stays unacknowledged")

    async def ensure_rules(self) -> None:
        """Before the first batch: wait until the rules could be read once."""
        delay = 0.5
        while self.rulebook.fingerprint is None:
            await self.reload_rules()
            if self.rulebook.fingerprint is None:
                self._check_stop()
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.max_backoff_s)

    async def handle(self, messages: Sequence[RawMessage], send_dead: Send, send_scored: Send) -> None:
        """compute → commit (retry until the database takes it) → live views → produce → (caller acks)."""
        began = time.perf_counter()
        computed = await self.compute(messages)
        await self.finish(computed, began, send_dead, send_scored)

    async def compute(self, messages: Sequence[RawMessage]) -> tuple[BatchResult, float]:
        """The CPU half of a batch (validate, classify, match) in the model thread; touches no sink, so the
        next batch can be computed while the previous one is still being committed."""
        await self.ensure_rules()
        return await self._compute(messages)

    async def finish(
        self, computed: tuple[BatchResult, float], began: float, send_dead: Send, send_scored: Send
    ) -> None:
        """The I/O half: commit, live views, produce. Callers run one finish at a time, in batch order."""
        result, classify_s = computed
        totals, db_s = await self._commit(result)
        report = self.processor.report(result, classify_s, db_s, totals)
        self._publish_later(totals)
        t1 = time.perf_counter()
        await self._produce(result, send_dead, send_scored)
        metrics.PRODUCE_SECONDS.observe(time.perf_counter() - t1)
        report.live_ok = self.health.live_ok  # as the live thread last saw it: it runs on its own
        metrics.observe(report, time.perf_counter() - began, self.health)

    def _publish_later(self, totals: list) -> None:
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
                ok = await loop.run_in_executor(self.live, self.processor.publish, totals)
            except Exception:
                log.exception("updating the live views failed")
                ok = False
            metrics.LIVE_SECONDS.observe(time.perf_counter() - t0)
            self._set_live(ok)

    async def _compute(self, messages: Sequence[RawMessage]) -> tuple[BatchResult, float]:
        """Classify; poisonous messages come back as dead letters, so what is raised here is the model or
        the machine failing on everything: retried, never skipped."""
        loop = asyncio.get_running_loop()
        outage = self.health.stage("classify")
        delay = 0.5
        while True:
            try:
                out = await loop.run_in_executor(self.cpu, self.processor.compute, messages)
                outage.recovered()
                return out
            except Exception as exc:
                outage.failed(exc, "failing for every message, retrying the batch")
            self._check_stop()
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.max_backoff_s)

    async def _commit(self, result: BatchResult) -> tuple[list, float]:
        """Stage and flush in the I/O thread (the store is only ever touched there). A post the database
        refuses is dead-lettered by the processor; what is raised is the database being away (or unable
        to take even a dead letter): the batch stays staged and unacknowledged and only the flush is
        retried."""
        outage = self.health.stage("commit")
        delay = 0.2
        first = True
        while True:
            try:
                if first:
                    first = False
                    out = await self.in_io(self.processor.commit, result)
                else:
                    out = await self.in_io(self.processor.commit)
                outage.recovered()
                return out
            except Exception as exc:
                outage.failed(exc, "failing, the batch stays unacknowledged")
                self.health.db_ok = False
                metrics.DB_UP.set(0)
            self._check_stop()
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.max_backoff_s)

    async def _produce(self, result: BatchResult, send_dead: Send, send_scored: Send) -> None:
        """Dead letters to the DLQ and scored posts downstream; awaited, so an outage blocks the ack. Only
        records that failed are sent again; one Kafka refuses for itself (too large) is logged, not sent
        again."""
        outage = self.health.stage("produce")
        todo = [(send_dead, (letter,)) for letter in result.dead]
        todo += [(send_scored, (sp, result.encoded.get(sp.post.key) or sp.to_json())) for sp in result.scored]
        delay = 0.2
        while todo:
            todo = await self._send_all(todo, outage)
            if todo:
                self._check_stop()
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.max_backoff_s)
        outage.recovered()
        for letter in result.dead:
            log_dead_letter(letter)

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
