"""One processing step shared by the Faust worker and the embedded runner: compute, commit, publish."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from stream_processor.batch import (
    DLQ_RAW_LIMIT,
    BatchResult,
    DeadLetter,
    RawMessage,
    guess_key,
    process_batch,
)
from stream_processor.classifier import Classifier
from stream_processor.matcher import TopicMatcher
from stream_processor.sinks.base import Batch, Sink, SinkUnavailable
from stream_processor.windows import WindowState

log = logging.getLogger(__name__)


@dataclass(slots=True)
class BatchReport:
    """What one batch did, for metrics and logs."""

    received: int = 0
    valid: int = 0
    dead: int = 0
    inserted: int = 0
    duplicates: int = 0
    classify_s: float = 0.0
    db_s: float = 0.0
    live_ok: bool = True
    windows: list[WindowState] = field(default_factory=list)


@dataclass
class Processor:
    """Holds the model, the current topic rules and the sinks. Rules can be swapped between batches.

    The order is the delivery guarantee: `commit` (the store's one transaction) must succeed before
    the caller acknowledges the messages; live views are fed afterwards and may lag, never lead.
    """

    classifier: Classifier
    store: Sink
    live: Sequence[Sink] = ()
    matcher: TopicMatcher = field(default_factory=TopicMatcher)
    live_down: set[str] = field(default_factory=set)
    live_retry_s: float = 2.0
    _retry_at: dict[str, float] = field(default_factory=dict)

    def compute(self, messages: Sequence[RawMessage]) -> tuple[BatchResult, float]:
        """CPU work only (validate, classify once, match): safe to run in a worker thread.

        If the batch fails, each message is retried alone so that one poisonous post becomes a dead
        letter instead of blocking its partition; if every message fails the fault is systemic (the
        model, the machine) and the error is raised for the caller to retry later.
        """
        started = time.perf_counter()
        try:
            result = process_batch(messages, self.classifier, self.matcher)
        except Exception as exc:
            if len(messages) == 1:
                raise
            log.warning("batch of %d failed (%s); retrying message by message", len(messages), exc)
            result = self._one_by_one(messages)
        return result, time.perf_counter() - started

    def _one_by_one(self, messages: Sequence[RawMessage]) -> BatchResult:
        merged = BatchResult(received=len(messages))
        failures: list[Exception] = []
        for message in messages:
            try:
                part = process_batch([message], self.classifier, self.matcher)
            except Exception as exc:
                failures.append(exc)
                reason = f"processing failed: {type(exc).__name__}: {exc}"[:500]
                merged.dead.append(DeadLetter(reason, (message.value or b"")[:DLQ_RAW_LIMIT], message.origin,
                                              guess_key(message.value or b""), message.key))  # fmt: skip
                continue
            known = set(merged.origins)
            merged.scored += [sp for sp in part.scored if sp.post.key not in known]
            merged.duplicates += part.duplicates + sum(sp.post.key in known for sp in part.scored)
            merged.origins.update(part.origins)
            merged.dead += part.dead
        if len(failures) == len(messages):
            raise failures[0]
        return merged

    def stage(self, result: BatchResult) -> None:
        self.store.add(Batch(scored=result.scored, dead=result.dead))

    def commit(self, result: BatchResult | None = None) -> tuple[list[WindowState], float]:
        """Stage `result` (when given) and flush the store; raises SinkUnavailable (staged batch kept) so
        the caller can wait and retry."""
        started = time.perf_counter()
        if result is not None:
            self.stage(result)
        totals = self.store.flush()
        return totals, time.perf_counter() - started

    def publish(self, totals: list[WindowState]) -> bool:
        """Feed the live views; one that is down keeps its staged totals and catches up on a later call."""
        ok = True
        for view in self.live:
            view.add(Batch(windows=totals))
            if time.monotonic() < self._retry_at.get(view.name, 0.0):
                ok = False  # down a moment ago: stage only, so a dead host cannot slow every batch
                continue
            try:
                view.flush()
            except SinkUnavailable as exc:
                ok = False
                if view.name not in self.live_down:
                    log.warning("live view %s is down, processing continues: %s", view.name, exc)
                self.live_down.add(view.name)
                self._retry_at[view.name] = time.monotonic() + self.live_retry_s
                continue
            if view.name in self.live_down:
                log.info("live view %s is back, caught up", view.name)
                self.live_down.discard(view.name)
        return ok

    def retry_live(self) -> bool | None:
        """Between batches: push what live views still hold from an outage. None when nothing waits."""
        if not any(view.pending() for view in self.live):
            return None
        return self.publish([])

    def report(
        self, result: BatchResult, classify_s: float, db_s: float, totals: list[WindowState]
    ) -> BatchReport:
        return BatchReport(
            received=result.received,
            valid=len(result.scored),
            dead=len(result.dead),
            inserted=int(getattr(self.store, "last_inserted", len(result.scored))),
            duplicates=int(getattr(self.store, "last_duplicates", 0)) + result.duplicates,
            classify_s=classify_s,
            db_s=db_s,
            windows=totals,
        )
