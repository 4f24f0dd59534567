"""The embedded runner: take micro-batches from an in-process queue and drive the same processor."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from stream_processor import metrics
from stream_processor.batch import BatchResult, DeadLetter, RawMessage
from stream_processor.embedded.sources import END
from stream_processor.logs import message_fields
from stream_processor.pipeline import Processor
from stream_processor.rulebook import RuleBook
from stream_processor.timers import Periodic, Timers

log = logging.getLogger(__name__)


@dataclass
class RunOptions:
    batch_size: int = 256
    latency_s: float = 0.2
    until_n: int | None = None
    seconds: float | None = None
    rules_poll_s: float = 2.0
    periodic: list[Periodic] = field(default_factory=list)
    after_batch: Callable[[], object] | None = None  # e.g. event-time alerts in a replay
    at_end: Callable[[], object] | None = None  # once, when the source is done


@dataclass
class RunSummary:
    received: int = 0
    inserted: int = 0
    dead: int = 0
    batches: int = 0
    seconds: float = 0.0
    source_done: bool = False


def take(q: queue.Queue[RawMessage], size: int, latency_s: float, idle_s: float = 0.25) -> list[RawMessage]:
    """Up to `size` messages, waiting at most `latency_s` after the first one arrives."""
    try:
        items = [q.get(timeout=idle_s)]
    except queue.Empty:
        return []
    deadline = time.monotonic() + latency_s
    while len(items) < size and items[-1] is not END:
        remaining = deadline - time.monotonic()
        try:
            items.append(q.get(timeout=remaining) if remaining > 0 else q.get_nowait())
        except queue.Empty:
            break
    return items


class EmbeddedRunner:
    """Single-threaded loop: batch → compute → commit (retrying while the database is away) → publish."""

    def __init__(self, processor: Processor, rulebook: RuleBook, q: queue.Queue[RawMessage],
                 options: RunOptions, health: metrics.Health | None = None) -> None:  # fmt: skip
        self.processor, self.rulebook, self.queue, self.options = processor, rulebook, q, options
        self.health = health or metrics.Health(model_version=str(processor.classifier.version))
        metrics.bind(self.health)
        self.stop_event = threading.Event()
        self.timers = Timers(
            [(options.rules_poll_s, self.reload_rules), (1.0, self.retry_live), *options.periodic]
        )

    def reload_rules(self) -> None:
        changed = self.rulebook.refresh()
        self.health.rules_fingerprint = str(self.rulebook.fingerprint)
        if changed:
            self.processor.matcher = self.rulebook.matcher
            metrics.RULE_RELOADS.inc()
            metrics.TOPICS.set(len(self.rulebook.matcher.topic_ids))
            self.health.topics = len(self.rulebook.matcher.topic_ids)
            self.health.rule_errors = dict(self.rulebook.matcher.errors)

    def retry_live(self) -> None:
        ok = self.processor.retry_live()
        if ok is not None:
            self.health.live_ok = ok

    def run(self) -> RunSummary:
        summary = RunSummary()
        started = time.monotonic()
        self.reload_rules()
        while not self.stop_event.is_set() and not self._finished(summary, started):
            self.timers.run_due()
            batch = take(self.queue, self.options.batch_size, self.options.latency_s)
            if batch and batch[-1] is END:
                batch.pop()
                summary.source_done = True
            if batch:
                self._process(batch, summary)
                if self.options.after_batch is not None:
                    self.options.after_batch()
        if summary.source_done and self.options.at_end is not None:
            self.options.at_end()
        summary.seconds = time.monotonic() - started
        return summary

    def _finished(self, summary: RunSummary, started: float) -> bool:
        opts = self.options
        if opts.until_n is not None and summary.received >= opts.until_n:
            return True
        if opts.seconds is not None and time.monotonic() - started >= opts.seconds:
            return True
        return summary.source_done and self.queue.empty()

    def _process(self, batch: list[RawMessage], summary: RunSummary) -> None:
        began = time.perf_counter()
        self.health.taken()
        result, classify_s = self._compute(batch)
        self.processor.stage(result)
        totals, db_s = self._commit()
        report = self.processor.report(result, classify_s, db_s, totals)
        report.live_ok = self.processor.publish(totals)
        for letter in result.dead:
            log_dead_letter(letter)
        metrics.observe(report, time.perf_counter() - began, self.health)
        self.health.acked()
        summary.received += report.received
        summary.inserted += report.inserted
        summary.dead += report.dead
        summary.batches += 1

    def _compute(self, batch: list[RawMessage]) -> tuple[BatchResult, float]:
        """Poisonous posts come back as dead letters; what is raised is the model failing on everything."""
        outage = self.health.stage("classify")
        delay = 0.5
        while True:
            try:
                out = self.processor.compute(batch)
                outage.recovered()
                return out
            except Exception as exc:
                outage.failed(exc, "failing for every message, retrying the batch")
                if self.stop_event.wait(delay):
                    raise
                delay = min(delay * 2, 10.0)

    def _commit(self) -> tuple[list, float]:
        """A post the database refuses is dead-lettered by the processor; what is raised is the database
        being away (or unable to take even a dead letter): wait and flush again."""
        outage = self.health.stage("commit")
        delay = 0.5
        while True:
            try:
                out = self.processor.commit()
                outage.recovered()
                return out
            except Exception as exc:
                self.health.db_ok = False
                metrics.DB_UP.set(0)
                outage.failed(exc, "failing, the batch waits")
                if self.stop_event.wait(delay):
                    raise
                delay = min(delay * 2, 10.0)


def log_dead_letter(letter: DeadLetter) -> None:
    """The one log line per bad message: where it came from, which post (if known) and why."""
    fields = message_fields(letter.origin, letter.post_key)
    log.warning("dead letter: %s (%s)", letter.reason, letter.origin or "origin unknown", extra=fields)
