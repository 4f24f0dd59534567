"""Prometheus metrics and the health state every runner updates after each batch."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field, fields
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

from stream_processor.outage import Outage
from stream_processor.pipeline import BatchReport

POSTS_IN = Counter("sentimon_posts_in_total", "Messages taken from the input queue")
POSTS_SCORED = Counter("sentimon_posts_scored_total", "Posts classified and newly stored")
POSTS_DUPLICATE = Counter("sentimon_posts_duplicate_total", "Posts skipped because already stored")
POSTS_DLQ = Counter("sentimon_posts_dlq_total", "Messages sent to the dead-letter queue")
BATCH_SIZE = Histogram(
    "sentimon_batch_size", "Messages per batch", buckets=(1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500)
)
BATCH_SECONDS = Histogram("sentimon_batch_seconds", "From taking a batch to acknowledging it")
CLASSIFY_SECONDS = Histogram("sentimon_classify_seconds", "Validate, classify and match one batch")
DB_SECONDS = Histogram("sentimon_db_seconds", "The database transaction of one batch")
LIVE_SECONDS = Histogram("sentimon_live_seconds", "Writing one batch's windows to the live views")
PRODUCE_SECONDS = Histogram("sentimon_produce_seconds", "Producing one batch's scored posts and dead letters")
LAG = Gauge("sentimon_consumer_lag", "Messages behind the end of the partition", ["partition"])
DB_UP = Gauge("sentimon_db_up", "1 when the last database flush worked")
LIVE_UP = Gauge("sentimon_live_view_up", "1 when the last live-view flush worked")
TOPICS = Gauge("sentimon_topics_active", "Topics whose rules are being matched")
RULE_RELOADS = Counter("sentimon_rule_reloads_total", "Times the topic rules were reloaded")
RULE_ERRORS = Gauge("sentimon_rule_errors", "Active topics whose rule does not parse")
OLDEST_UNACKED = Gauge("sentimon_oldest_unacked_seconds", "Age of the oldest batch not yet acknowledged")


@dataclass
class Health:
    """What /health reports: ok while batches flow and the database answers; "stalled" once a batch has
    been taken and not acknowledged for `stall_after_s`, with the stages that retry and since when."""

    started_at: float = field(default_factory=time.time)
    model_version: str | None = None
    db_ok: bool = True
    live_ok: bool = True
    last_batch_at: float | None = None
    processed: int = 0
    dead: int = 0
    topics: int = 0
    rules_fingerprint: str | None = None
    rule_errors: dict[int, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    stall_after_s: float = 60.0
    lag: int = 0
    outages: dict[str, Outage] = field(default_factory=dict)
    _unacked: deque[float] = field(default_factory=deque)

    def stage(self, name: str) -> Outage:
        """The retry state of one stage, created on first use."""
        return self.outages.setdefault(name, Outage(name))

    def taken(self) -> None:
        """A batch was taken from the input; `acked` is called once it is acknowledged (FIFO)."""
        self._unacked.append(time.time())

    def acked(self) -> None:
        if self._unacked:
            self._unacked.popleft()

    def oldest_unacked_s(self) -> float:
        return time.time() - self._unacked[0] if self._unacked else 0.0

    def idle_s(self) -> float:
        return time.time() - (self.last_batch_at or self.started_at)

    @property
    def stalled(self) -> bool:
        """A batch waits too long, or posts wait (lag) and no batch completed for that long."""
        waiting = self.lag > 0 and self.idle_s() > self.stall_after_s
        return waiting or self.oldest_unacked_s() > self.stall_after_s

    @property
    def status(self) -> str:
        if self.stalled:
            return "stalled"
        return "ok" if self.db_ok else "degraded"

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def as_dict(self) -> dict[str, Any]:
        plain = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("outages", "_unacked")}
        retrying = [o.as_dict() for o in self.outages.values() if o.active]
        body = {"status": self.status, **plain, "oldest_unacked_s": round(self.oldest_unacked_s(), 1)}
        body["retrying"] = retrying
        if self.stalled:
            stuck_s = max(self.oldest_unacked_s(), self.idle_s() if self.lag else 0.0)
            body["reason"] = f"no batch acknowledged for {stuck_s:.0f}s, lag {self.lag}" + "".join(
                f"; {o['stage']} retrying since {o['for_s']:.0f}s ago ({o['error']})" for o in retrying
            )
        return body


def bind(health: Health) -> None:
    """Let the oldest-unacknowledged gauge read this runner's health at scrape time."""
    OLDEST_UNACKED.set_function(health.oldest_unacked_s)


def observe(report: BatchReport, total_s: float, health: Health) -> None:
    """Count one committed batch."""
    POSTS_IN.inc(report.received)
    POSTS_SCORED.inc(report.inserted)
    POSTS_DUPLICATE.inc(report.duplicates)
    POSTS_DLQ.inc(report.dead)
    BATCH_SIZE.observe(report.received)
    BATCH_SECONDS.observe(total_s)
    CLASSIFY_SECONDS.observe(report.classify_s)
    DB_SECONDS.observe(report.db_s)
    DB_UP.set(1)
    LIVE_UP.set(1 if report.live_ok else 0)
    health.db_ok, health.live_ok = True, report.live_ok
    health.last_batch_at = time.time()
    health.processed += report.received
    health.dead += report.dead


def exposition() -> tuple[bytes, str]:
    """The metrics page body and its content type."""
    return generate_latest(), CONTENT_TYPE_LATEST
