"""Queries on alerts, their deliveries and the detector's saved state: the one home for alert SQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    and_,
    cast,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    text,
    update,
)

from sentimon.schema import WindowAggregate, as_utc
from sentimon.storage.db import inserted_id, record, utc
from sentimon.storage.tables import (
    alert_deliveries,
    alert_detector_state,
    alerts,
    posts,
    topic_windows,
    topics,
)

PENDING, FIRING, ACKNOWLEDGED = "pending", "firing", "acknowledged"
SILENCED, RESOLVED = "silenced", "resolved"
STATES = (PENDING, FIRING, ACKNOWLEDGED, SILENCED, RESOLVED)
OPEN_STATES = (PENDING, FIRING, ACKNOWLEDGED, SILENCED)
# Delivery statuses: queued (to send), sent, failed (retried by later cycles until attempts run out).
QUEUED, SENT, FAILED = "queued", "sent", "failed"
_PG_LOCK_KEY = 0x53454E54  # "SENT": one alert cycle at a time across every worker on a Postgres database
_local_locks: dict[str, threading.Lock] = {}


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert on one topic, as the dashboard and the sinks see it."""

    id: int
    topic_id: int
    topic_name: str
    kind: str
    state: str
    severity: str
    window_start: datetime
    opened_at: datetime
    fired_at: datetime | None = None
    resolved_at: datetime | None = None
    share_now: float | None = None
    baseline: float | None = None
    volume: int | None = None
    explanation: dict[str, Any] = field(default_factory=dict)
    acked_by: str | None = None
    acked_at: datetime | None = None
    resolved_by: str | None = None
    notified_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Delivery:
    """One attempt-tracked delivery of one alert event to one sink and target."""

    id: int
    alert_id: int
    event: str | None
    sink: str
    target: str | None
    status: str
    attempts: int
    last_error: str | None
    at: datetime


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def _alert_query() -> Any:
    return select(alerts, topics.c.name.label("topic_name")).join(topics, topics.c.id == alerts.c.topic_id)


def _row_to_alert(row: Any) -> Alert:
    m = row._mapping
    times = ("window_start", "opened_at", "fired_at", "resolved_at", "acked_at", "notified_at")
    return record(Alert, row, explanation=dict(m["explanation"] or {}), **{k: utc(m[k]) for k in times})


# --- the dashboard's API -------------------------------------------------------------------------


def list_alerts(
    conn: Connection, states: Sequence[str] | None = None, topic_id: int | None = None, limit: int = 100
) -> list[Alert]:
    """Newest first, optionally only some states (e.g. OPEN_STATES) or one topic."""
    query = _alert_query().order_by(alerts.c.opened_at.desc(), alerts.c.id.desc()).limit(limit)
    if states:
        query = query.where(alerts.c.state.in_(list(states)))
    if topic_id is not None:
        query = query.where(alerts.c.topic_id == topic_id)
    return [_row_to_alert(r) for r in conn.execute(query)]


def get_alert(conn: Connection, alert_id: int) -> Alert | None:
    row = conn.execute(_alert_query().where(alerts.c.id == alert_id)).first()
    return _row_to_alert(row) if row else None


def acknowledge(conn: Connection, alert_id: int, who: str, now: datetime | None = None) -> bool:
    """Someone is on it: no more escalation notices. False if the alert is not open (or acked)."""
    result = conn.execute(
        update(alerts)
        .where(alerts.c.id == alert_id, alerts.c.state.in_([PENDING, FIRING, SILENCED]))
        .values(state=ACKNOWLEDGED, acked_by=who[:64], acked_at=_now(now))
    )
    return result.rowcount > 0


def resolve(conn: Connection, alert_id: int, who: str, now: datetime | None = None) -> bool:
    """Close an alert by hand. False if it was already resolved."""
    result = conn.execute(
        update(alerts)
        .where(alerts.c.id == alert_id, alerts.c.state != RESOLVED)
        .values(state=RESOLVED, resolved_by=who[:64], resolved_at=_now(now))
    )
    return result.rowcount > 0


def open_alert_counts(conn: Connection, include_pending: bool = False) -> dict[int, int]:
    """Open alerts per topic id (pending ones, which nobody was told about, only on request)."""
    states = list(OPEN_STATES) if include_pending else [s for s in OPEN_STATES if s != PENDING]
    query = (
        select(alerts.c.topic_id, func.count(alerts.c.id))
        .where(alerts.c.state.in_(states))
        .group_by(alerts.c.topic_id)
    )
    return {int(t): int(n) for t, n in conn.execute(query)}


def list_deliveries(conn: Connection, alert_id: int | None = None, limit: int = 100) -> list[Delivery]:
    """The delivery log, newest first."""
    query = select(alert_deliveries).order_by(alert_deliveries.c.id.desc()).limit(limit)
    if alert_id is not None:
        query = query.where(alert_deliveries.c.alert_id == alert_id)
    return [_row_to_delivery(r) for r in conn.execute(query)]


# --- the alert service's writes ------------------------------------------------------------------


def find_open_alert(conn: Connection, topic_id: int, kind: str) -> Alert | None:
    """The one open alert of a topic and kind (the partial unique index allows no second)."""
    query = _alert_query().where(
        alerts.c.topic_id == topic_id, alerts.c.kind == kind, alerts.c.state != RESOLVED
    )
    row = conn.execute(query).first()
    return _row_to_alert(row) if row else None


def insert_alert(conn: Connection, **values: Any) -> int:
    """A new alert row; callers pass topic_id, kind, state, severity, window_start and the numbers."""
    values.setdefault("explanation", {})
    result = conn.execute(insert(alerts).values(**values))
    return inserted_id(result)


def update_alert(conn: Connection, alert_id: int, **values: Any) -> None:
    conn.execute(update(alerts).where(alerts.c.id == alert_id).values(**values))


def delete_alert(conn: Connection, alert_id: int) -> None:
    """Drop an alert that never fired (a cancelled pending one)."""
    conn.execute(delete(alerts).where(alerts.c.id == alert_id))


def open_alerts(conn: Connection, states: Sequence[str] = OPEN_STATES) -> list[Alert]:
    return [_row_to_alert(r) for r in conn.execute(_alert_query().where(alerts.c.state.in_(list(states))))]


def queue_delivery(conn: Connection, alert_id: int, event: str, sink: str, target: str | None) -> int:
    values = {"alert_id": alert_id, "event": event, "sink": sink, "target": target}
    result = conn.execute(insert(alert_deliveries).values(**values, status=QUEUED, attempts=0))
    return inserted_id(result)


def due_deliveries(
    conn: Connection, now: datetime, max_attempts: int, retry_after_s: float
) -> list[Delivery]:
    """Queued deliveries, and failed ones with attempts left whose last try is older than retry_after_s."""
    retry_before = datetime.fromtimestamp(now.timestamp() - retry_after_s, UTC)
    query = (
        select(alert_deliveries)
        .where(
            or_(
                alert_deliveries.c.status == QUEUED,
                and_(
                    alert_deliveries.c.status == FAILED,
                    alert_deliveries.c.attempts < max_attempts,
                    alert_deliveries.c.at <= retry_before,
                ),
            )
        )
        .order_by(alert_deliveries.c.id)
    )
    return [_row_to_delivery(r) for r in conn.execute(query)]


def mark_delivery(
    conn: Connection, delivery_id: int, status: str, attempts: int, error: str | None, now: datetime
) -> None:
    values = {"status": status, "attempts": attempts, "last_error": error, "at": now}
    conn.execute(update(alert_deliveries).where(alert_deliveries.c.id == delivery_id).values(**values))


def _row_to_delivery(row: Any) -> Delivery:
    m = row._mapping
    return Delivery(
        id=m["id"], alert_id=m["alert_id"], event=m["event"], sink=m["sink"], target=m["target"],
        status=m["status"], attempts=m["attempts"], last_error=m["last_error"], at=as_utc(m["at"]),
    )  # fmt: skip


# --- detector state and the windows it reads -----------------------------------------------------


def load_detector_state(
    conn: Connection, topic_id: int, kind: str, for_update: bool = False
) -> tuple[dict[str, Any], datetime | None] | None:
    """The saved detector state and the last window it saw, or None for a topic never evaluated."""
    query = select(alert_detector_state.c.state, alert_detector_state.c.last_window).where(
        alert_detector_state.c.topic_id == topic_id, alert_detector_state.c.kind == kind
    )
    if for_update and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).first()
    return (dict(row.state or {}), utc(row.last_window)) if row else None


def save_detector_state(
    conn: Connection, topic_id: int, kind: str, state: dict[str, Any], last_window: datetime | None,
    now: datetime,
) -> None:  # fmt: skip
    values = {"state": state, "last_window": last_window, "updated_at": now}
    key = (alert_detector_state.c.topic_id == topic_id, alert_detector_state.c.kind == kind)
    if conn.execute(update(alert_detector_state).where(*key).values(**values)).rowcount == 0:
        conn.execute(insert(alert_detector_state).values(topic_id=topic_id, kind=kind, **values))


def delete_detector_state(conn: Connection, topic_id: int, kind: str) -> None:
    key = (alert_detector_state.c.topic_id == topic_id, alert_detector_state.c.kind == kind)
    conn.execute(delete(alert_detector_state).where(*key))


def latest_window_start(conn: Connection, topic_id: int) -> datetime | None:
    """The newest window of a topic (uses the primary key index)."""
    query = select(func.max(topic_windows.c.window_start)).where(topic_windows.c.topic_id == topic_id)
    return utc(conn.execute(query).scalar())


def windows_between(
    conn: Connection, topic_id: int, after: datetime | None, through: datetime
) -> list[WindowAggregate]:
    """Windows of one topic with after < window_start <= through, oldest first."""
    query = (
        select(topic_windows)
        .where(topic_windows.c.topic_id == topic_id, topic_windows.c.window_start <= through)
        .order_by(topic_windows.c.window_start)
    )
    if after is not None:
        query = query.where(topic_windows.c.window_start > after)
    return [WindowAggregate.from_sums(topic_id, r.window_start, r._mapping) for r in conn.execute(query)]


@dataclass(frozen=True, slots=True)
class PostSample:
    """What an explanation needs of one stored post."""

    id: int
    text: str
    p_neg: float
    created_at: datetime
    url: str | None = None


def topic_posts(
    conn: Connection, topic_id: int, start: datetime, end: datetime, limit: int = 2000
) -> list[PostSample]:
    """Posts of one topic created in [start, end), newest first, at most `limit`."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import JSONB

        in_topic = cast(posts.c.topic_ids, JSONB).contains([topic_id])
    else:
        ids = func.json_each(posts.c.topic_ids).table_valued("value")
        in_topic = exists(select(ids.c.value).where(ids.c.value == topic_id))
    query = (
        select(posts.c.id, posts.c.text, posts.c.p_neg, posts.c.created_at, posts.c.url)
        .where(posts.c.created_at >= start, posts.c.created_at < end, in_topic, posts.c.deleted_at.is_(None))
        .order_by(posts.c.created_at.desc())
        .limit(limit)
    )
    return [
        PostSample(id=r.id, text=r.text, p_neg=float(r.p_neg), created_at=as_utc(r.created_at), url=r.url)
        for r in conn.execute(query)
    ]


@contextmanager
def cycle_lock(engine: Engine) -> Iterator[bool]:
    """Yield True if this caller may run an alert cycle now: one at a time per database.

    Postgres: a session advisory lock, so Faust workers on several machines never overlap.
    SQLite (embedded, one process): a lock per database URL within this process."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": _PG_LOCK_KEY}).scalar())
            conn.commit()
            try:
                yield got
            finally:
                if got:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_LOCK_KEY})
                    conn.commit()
        return
    lock = _local_locks.setdefault(str(engine.url), threading.Lock())
    got = lock.acquire(blocking=False)
    try:
        yield got
    finally:
        if got:
            lock.release()
