"""One processing step shared by the Faust worker and the embedded runner: compute, commit, publish."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sentimon.retry import ServiceUnavailable
from stream_processor.batch import (
    DLQ_RAW_LIMIT,
    BatchResult,
    DeadLetter,
    RawMessage,
    dead_letter_reason,
    guess_key,
    process_batch,
)
from stream_processor.classifier import PostClassifier
from stream_processor.isolate import StoreCommit
from stream_processor.matcher import TopicMatcher
from stream_processor.outage import Outage
from stream_processor.sinks.base import AggregateSink, Batch, Store
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

    classifier: PostClassifier
    store: Store
    live: Sequence[AggregateSink] = ()
    matcher: TopicMatcher = field(default_factory=TopicMatcher)
    live_down: set[str] = field(default_factory=set)
    live_retry_s: float = 2.0
    refill: Callable[[bool], object] | None = None  # refill(force): rewrite live views from the store
    _refill_forced: bool = False
    _retry_at: dict[str, float] = field(default_factory=dict)
    _outages: dict[str, Outage] = field(default_factory=dict)
    _commit: StoreCommit = field(init=False)

    def __post_init__(self) -> None:
        self._commit = StoreCommit(self.store)

    def compute(self, messages: Sequence[RawMessage]) -> tuple[BatchResult, float]:
        """CPU work only (validate, classify once, match, encode): safe to run in a worker thread.

        If the batch fails, each message is retried alone so that one poisonous post becomes a dead
        letter instead of blocking its partition — even alone in its batch. Only when every message
        fails and the model also fails on a plain probe text is the fault systemic (the model, the
        machine): then the error is raised for the caller to retry later.
        """
        started = time.perf_counter()
        try:
            result = process_batch(messages, self.classifier, self.matcher)
        except Exception as exc:
            log.warning("batch of %d failed (%s); retrying message by message", len(messages), exc)
            result = self._one_by_one(messages)
        _encode(result)
        return result, time.perf_counter() - started

    def _one_by_one(self, messages: Sequence[RawMessage]) -> BatchResult:
        merged = BatchResult(received=len(messages))
        failures: list[Exception] = []
        for message in messages:
            try:
                part = process_batch([message], self.classifier, self.matcher)
            except Exception as exc:
                failures.append(exc)
                reason = dead_letter_reason("processing failed", exc)
                merged.dead.append(DeadLetter(reason, (message.value or b"")[:DLQ_RAW_LIMIT], message.origin,
                                              guess_key(message.value or b""), message.key))  # fmt: skip
                continue
            known = set(merged.origins)
            merged.scored += [sp for sp in part.scored if sp.post.event_key not in known]
            merged.deletes += [d for d in part.deletes if d.post.event_key not in known]
            merged.duplicates += part.duplicates + sum(sp.post.event_key in known for sp in part.scored)
            merged.origins.update(part.origins)
            merged.raws.update(part.raws)
            merged.dead += part.dead
        if len(failures) == len(messages) and not self._model_works():
            raise failures[0]
        return merged

    def _model_works(self) -> bool:
        """Does the model classify a plain text? If so, the messages that failed are to blame."""
        try:
            process_batch([RawMessage(_PROBE)], self.classifier, self.matcher)
        except Exception:
            return False
        return True

    def stage(self, result: BatchResult) -> None:
        self._commit.stage(result)

    def commit(self, result: BatchResult | None = None) -> tuple[list[WindowState], float]:
        """Stage `result` (when given) and flush the store. A post the store refuses is moved from
        `result.scored` to `result.dead`; ServiceUnavailable (or a store that cannot even take a dead
        letter) is raised with what is left staged, so the caller can wait and call again."""
        started = time.perf_counter()
        if result is not None:
            self.stage(result)
        totals = self._commit.flush()
        return totals, time.perf_counter() - started

    def publish(self, totals: list[WindowState]) -> bool:
        """Feed the live views; one that is down keeps its staged totals and catches up on a later call."""
        ok = True
        for view in self.live:
            view.add(Batch(windows=totals))
            if time.monotonic() < self._retry_at.get(view.name, 0.0):
                ok = False  # down a moment ago: stage only, so a dead host cannot slow every batch
                continue
            outage = self._outages.setdefault(view.name, Outage(f"live view {view.name}"))
            try:
                view.flush()
            except ServiceUnavailable as exc:
                ok = False
                outage.failed(exc, "is down, processing continues")
                self.live_down.add(view.name)
                self._retry_at[view.name] = time.monotonic() + self.live_retry_s
                continue
            except Exception as exc:  # not an outage: these totals cannot be written; the refill repairs
                log.error("live view %s refused an update, dropped: %r", view.name, exc)
                view.discard()
                self._refill_forced = True
                continue
            if outage.active:  # back after an outage: what it missed beyond its staged totals is refilled
                self._refill_forced = True
            outage.recovered()
            self.live_down.discard(view.name)
        return ok

    def retry_live(self) -> bool | None:
        """Between batches: refill a live view that came back empty, push what live views still hold
        from an outage. None when nothing waits."""
        self._refill()
        if not self.live_down and not any(view.pending() for view in self.live):
            return None
        return self.publish([])

    def _refill(self) -> None:
        if self.refill is None:
            return
        outage = self._outages.setdefault("refill", Outage("live view refill"))
        try:
            self.refill(self._refill_forced)
            self._refill_forced = False
        except ServiceUnavailable:
            return  # the view is away: publish reports that, and the refill runs once it is back
        except Exception as exc:
            outage.failed(exc, "failing, retrying")
            return
        outage.recovered()

    def report(
        self, result: BatchResult, classify_s: float, db_s: float, totals: list[WindowState]
    ) -> BatchReport:
        return BatchReport(
            received=result.received,
            valid=len(result.scored),
            dead=len(result.dead),
            inserted=self._commit.inserted,
            duplicates=self._commit.duplicates + result.duplicates,
            classify_s=classify_s,
            db_s=db_s,
            windows=totals,
        )


_PROBE = b'{"source": "probe", "id": "probe", "text": "a plain probe text"}'


def _encode(result: BatchResult) -> None:
    """Encode each scored post for the output topic now, in the CPU thread: one that cannot be encoded
    becomes a dead letter before it is stored, so the produce step never meets it."""
    for sp in list(result.scored):
        key, post_key = sp.post.event_key, sp.post.key
        try:
            result.encoded[key] = sp.to_json()
        except Exception as exc:
            reason = dead_letter_reason("cannot encode the scored post", exc)
            raw, origin = result.raws.get(key, b""), result.origins.get(key)
            result.dead.append(DeadLetter(reason, raw, origin, post_key, post_key.encode()))
            result.scored = [s for s in result.scored if s.post.event_key != key]
