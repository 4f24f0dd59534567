"""The one driver of the processing step, in the order that makes the effects exactly-once.

Both runners use it: the Faust worker calls its blocking steps from its executor threads (and adds
only the overlap of batches and the produce to Kafka), the embedded runner calls `process` from its
loop. Rules, classify, commit, live views, health, retries, periodic tasks and metrics live here.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from sentimon.retry import Policy
from stream_processor import metrics
from stream_processor.batch import BatchResult, DeadLetter, RawMessage
from stream_processor.logs import message_fields
from stream_processor.options import ProcessOptions
from stream_processor.outage import Outage
from stream_processor.pipeline import BatchReport, Processor
from stream_processor.rulebook import RuleBook
from stream_processor.timers import Periodic
from stream_processor.windows import WindowState

if TYPE_CHECKING:
    from stream_processor.alerting.service import AlertCycle

log = logging.getLogger(__name__)
T = TypeVar("T")
Computed = tuple[BatchResult, float]
Committed = tuple[list[WindowState], float]


class Stopping(Exception):
    """Raised from a retry's wait once the process is stopping: the batch stays unacknowledged (and is
    replayed after a restart, where keyed rows make it count once)."""


@dataclass
class Driver:
    """Drives `processor` one batch at a time. Every blocking step waits for a service that is away
    (the model failing on everything, the database) with the options' retry policy, and gives up
    only when `stop()` was called."""

    processor: Processor
    rulebook: RuleBook
    options: ProcessOptions = field(default_factory=ProcessOptions)
    health: metrics.Health = field(default_factory=metrics.Health)
    alerts: AlertCycle | None = None
    stop_event: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        metrics.bind(self.health)

    def stop(self) -> None:
        self.stop_event.set()

    @property
    def stopping(self) -> bool:
        return self.stop_event.is_set()

    def periodic(self) -> list[Periodic]:
        """What runs beside the batches: rule reloads, the caller's tasks and the alert cycle. (Live-view
        catch-up, `retry_live`, runs on its own: the worker gives it the live views' thread.)"""
        alerts = self.alerts.periodic() if self.alerts is not None else []
        return [(self.options.rules_poll_s, self.reload_rules), *self.options.periodic, *alerts]

    # Rules.

    def reload_rules(self) -> None:
        """Poll the topics table; a new matcher is used from the next batch on. The database being away
        keeps the rules we have."""
        try:
            changed = self.rulebook.refresh()
        except Exception as exc:
            if self.health.db_ok:
                log.warning("could not check topic rules, keeping the current ones: %s", exc)
            self._set_db(False)
            return
        self.health.rules_fingerprint = str(self.rulebook.fingerprint)
        if not self.health.db_ok:
            log.info("database reachable again")
            self._set_db(True)
        if changed:
            matcher = self.rulebook.matcher
            self.processor.matcher = matcher
            metrics.RULE_RELOADS.inc()
            metrics.TOPICS.set(len(matcher.topic_ids))
            metrics.RULE_ERRORS.set(len(matcher.errors))
            self.health.topics = len(matcher.topic_ids)
            self.health.rule_errors = dict(matcher.errors)

    def ensure_rules(self) -> None:
        """Before the first batch: wait until the rules could be read once."""
        if self.rulebook.fingerprint is not None:
            return

        def attempt(_: int) -> None:
            self.reload_rules()
            if self.rulebook.fingerprint is None:
                raise RuntimeError("the topic rules could not be read yet")

        self.options.rules_retry.retry_forever(attempt, lambda _: None, self._sleep)

    # One batch.

    def process(self, batch: Sequence[RawMessage]) -> BatchReport:
        """The whole step in this thread: compute → commit → live views → log dead letters → metrics."""
        began = time.perf_counter()
        self.health.taken()
        self.ensure_rules()
        result, classify_s = self.compute(batch)
        totals, db_s = self.commit(result)
        report = self.processor.report(result, classify_s, db_s, totals)
        report.live_ok = self.publish(totals)
        self.log_dead(result)
        self.observe(report, began)
        self.health.acked()
        return report

    def compute(self, messages: Sequence[RawMessage]) -> Computed:
        """Validate, classify, match (touches no sink). Poisonous messages come back as dead letters, so
        what is raised is the model or the machine failing on everything: retried, never skipped."""
        outage = self.health.stage("classify")
        return self._until_done(
            lambda _: self.processor.compute(messages),
            self.options.classify_retry,
            lambda exc: outage.failed(exc, "failing for every message, retrying the batch"),
            outage,
        )

    def commit(self, result: BatchResult) -> Committed:
        """Stage and flush the store's one transaction. A post the database refuses is dead-lettered by
        the processor; what is raised is the database being away (or unable to take even a dead
        letter): the batch stays staged and unacknowledged and only the flush is tried again."""
        outage = self.health.stage("commit")

        def failed(exc: BaseException) -> None:
            outage.failed(exc, "failing, the batch stays unacknowledged")
            self._set_db(False)

        return self._until_done(
            lambda n: self.processor.commit(result if n == 1 else None),
            self.options.commit_retry,
            failed,
            outage,
        )

    def publish(self, totals: list[WindowState]) -> bool:
        """Feed the live views after the commit (they may lag, never lead); False while one is down."""
        ok = self.processor.publish(totals)
        self.set_live(ok)
        return ok

    def retry_live(self) -> None:
        """Catch live views up after an outage (or refill them) even when no new posts arrive."""
        ok = self.processor.retry_live()
        if ok is not None:
            self.set_live(ok)

    def after_batch(self) -> None:
        """Event-time alerts (a replay) judge the windows this batch closed."""
        if self.alerts is not None:
            self.alerts.after_batch()

    def at_end(self) -> None:
        """The source is done: event-time alerts close the last window."""
        if self.alerts is not None:
            self.alerts.at_end()

    def observe(self, report: BatchReport, began: float) -> None:
        metrics.observe(report, time.perf_counter() - began, self.health)

    def set_live(self, ok: bool) -> None:
        self.health.live_ok = ok
        metrics.LIVE_UP.set(1 if ok else 0)

    @staticmethod
    def log_dead(result: BatchResult) -> None:
        for letter in result.dead:
            log_dead_letter(letter)

    # Waiting.

    def _until_done(
        self,
        attempt: Callable[[int], T],
        policy: Policy,
        failed: Callable[[BaseException], None],
        outage: Outage,
    ) -> T:
        out = policy.retry_forever(attempt, failed, self._sleep)
        outage.recovered()
        return out

    def _sleep(self, seconds: float) -> None:
        """Wait before trying again; once stopping, give the batch up instead of waiting (a batch that
        goes through is finished as usual)."""
        if self.stop_event.wait(seconds):
            raise Stopping("stopping: the batch stays unacknowledged")

    def _set_db(self, ok: bool) -> None:
        self.health.db_ok = ok
        metrics.DB_UP.set(1 if ok else 0)


def log_dead_letter(letter: DeadLetter) -> None:
    """The one log line per bad message: where it came from, which post (if known) and why."""
    fields = message_fields(letter.origin, letter.post_key)
    log.warning("dead letter: %s (%s)", letter.reason, letter.origin or "origin unknown", extra=fields)
