"""The embedded runner: take micro-batches from an in-process queue and hand them to the one driver."""

from __future__ import annotations

import logging
import queue
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from stream_processor import metrics
from stream_processor.batch import RawMessage
from stream_processor.driver import Driver, Stopping
from stream_processor.embedded.sources import END
from stream_processor.options import ProcessOptions
from stream_processor.pipeline import BatchReport, Processor
from stream_processor.rulebook import RuleBook
from stream_processor.timers import Timers

if TYPE_CHECKING:
    from stream_processor.alerting.service import AlertCycle

log = logging.getLogger(__name__)


@dataclass
class RunSummary:
    received: int = 0
    inserted: int = 0
    dead: int = 0
    batches: int = 0
    seconds: float = 0.0
    source_done: bool = False
    interrupted: bool = False  # stopped by a signal rather than by the source or a bound

    def add(self, report: BatchReport) -> None:
        self.received += report.received
        self.inserted += report.inserted
        self.dead += report.dead
        self.batches += 1


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
    """Single-threaded loop: take a batch from the in-process queue and let the driver process it, until
    the source ends, `until_n` messages or `seconds` have passed, or `stop_event` is set."""

    def __init__(self, processor: Processor, rulebook: RuleBook, q: queue.Queue[RawMessage],
                 options: ProcessOptions, health: metrics.Health | None = None,
                 alerts: AlertCycle | None = None) -> None:  # fmt: skip
        health = health or metrics.Health(model_version=str(processor.classifier.version))
        self.driver = Driver(processor, rulebook, options, health, alerts)
        self.queue, self.options, self.health = q, options, health
        self.stop_event = self.driver.stop_event
        self.timers = Timers([*self.driver.periodic(), (1.0, self.driver.retry_live)])

    def run(self) -> RunSummary:
        summary = RunSummary()
        started = time.monotonic()
        try:
            self._loop(summary, started)
        except Stopping:
            log.info("stopped while waiting for a service; the batch in hand was not committed")
        summary.seconds = time.monotonic() - started
        return summary

    def _loop(self, summary: RunSummary, started: float) -> None:
        self.driver.ensure_rules()
        while not self.stop_event.is_set() and not self._finished(summary, started):
            self.timers.run_due()
            batch = take(self.queue, self.options.batch_size, self.options.latency_s)
            if batch and batch[-1] is END:
                batch.pop()
                summary.source_done = True
            if batch:
                summary.add(self.driver.process(batch))
                self.driver.after_batch()
        if summary.source_done:
            self.driver.at_end()

    def _finished(self, summary: RunSummary, started: float) -> bool:
        opts = self.options
        if opts.until_n is not None and summary.received >= opts.until_n:
            return True
        if opts.seconds is not None and time.monotonic() - started >= opts.seconds:
            return True
        return summary.source_done and self.queue.empty()
