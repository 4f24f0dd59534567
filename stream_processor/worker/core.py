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
from stream_processor.sinks.base import SinkUnavailable

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
    max_backoff_s: float = 5.0

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
        """Catch live views up after an outage even when no new posts arrive."""
        ok = await self.in_io(self.processor.retry_live)
        if ok is not None:
            self.health.live_ok = ok
            metrics.LIVE_UP.set(1 if ok else 0)

    async def ensure_rules(self) -> None:
        """Before the first batch: wait until the rules could be read once."""
        delay = 0.5
        while self.rulebook.fingerprint is None:
            await self.reload_rules()
            if self.rulebook.fingerprint is None:
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
        t0 = time.perf_counter()
        report.live_ok = await self.in_io(self.processor.publish, totals)
        t1 = time.perf_counter()
        await self._produce(result, send_dead, send_scored)
        metrics.LIVE_SECONDS.observe(t1 - t0)
        metrics.PRODUCE_SECONDS.observe(time.perf_counter() - t1)
        metrics.observe(report, time.perf_counter() - began, self.health)

    async def _compute(self, messages: Sequence[RawMessage]) -> tuple[BatchResult, float]:
        """Classify; a failure of every message (model or machine trouble) is retried, never skipped."""
        loop = asyncio.get_running_loop()
        delay = 0.5
        while True:
            try:
                out = await loop.run_in_executor(self.cpu, self.processor.compute, messages)
                self.health.notes = []
                return out
            except Exception:
                log.exception("classifying a batch failed; retrying it")
                self.health.notes = ["classification failing"]
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.max_backoff_s)

    async def _commit(self, result: BatchResult) -> tuple[list, float]:
        """Stage and flush in the I/O thread (the store is only ever touched there); a failed flush keeps
        the batch staged, so the retries only flush."""
        delay = 0.2
        first = True
        while True:
            try:
                if first:
                    first = False
                    return await self.in_io(self.processor.commit, result)
                return await self.in_io(self.processor.commit)
            except SinkUnavailable as exc:
                if self.health.db_ok:
                    log.warning("database unavailable: pausing, the batch stays unacknowledged: %s", exc)
                self.health.db_ok = False
                metrics.DB_UP.set(0)
            except Exception:
                log.exception("database write failed; retrying the same batch")
                self.health.db_ok = False
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.max_backoff_s)

    async def _produce(self, result: BatchResult, send_dead: Send, send_scored: Send) -> None:
        """Dead letters to the DLQ and scored posts downstream; awaited, so a failure blocks the ack."""
        delay = 0.2
        while True:
            try:
                futures = [await send_dead(letter) for letter in result.dead]
                futures += [await send_scored(sp) for sp in result.scored]
                await asyncio.gather(*futures)
                break
            except Exception as exc:
                log.warning("producing to Kafka failed, retrying: %s", exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.max_backoff_s)
        for letter in result.dead:
            log_dead_letter(letter)
