"""Turn detector events into alert rows: pending → firing (or silenced) → resolved, and queue deliveries.

One open alert per topic and kind (the database's partial unique index backs this up). Who hears
about what: a firing alert notifies its topic's routes; an acknowledged one gets no escalation
notices; while a topic is silenced nothing is sent and a new alert waits in state "silenced" until
the silence ends; "resolved" is only sent to people who were told it fired.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from sentimon.schema import minute_start
from sentimon.storage import alerts as store
from sentimon.storage.topics import Topic
from stream_processor.alerting.config import Route
from stream_processor.alerting.detector import KIND, Event
from stream_processor.alerting.explain import PostText, explain

BASELINE_POSTS_MINUTES = 60  # the explanation compares the spike with the hour before it


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """What one alert cycle did to one alert (run_alert_cycle returns these)."""

    event: str  # pending, fired, escalated, resolved, cancelled, unsilenced
    alert_id: int
    topic_id: int
    state: str
    severity: str
    window: datetime
    share: float | None = None
    baseline: float | None = None
    volume: int | None = None
    reason: str | None = None


def silenced(topic: Topic, now: datetime) -> bool:
    return topic.silenced_until is not None and topic.silenced_until > now


def numbers(ev: Event) -> dict[str, Any]:
    """The figures an alert carries: share now vs baseline, rise, evidence, volume vs usual."""

    def r(x: float | None, nd: int = 4) -> float | None:
        return None if x is None else round(x, nd)

    return {
        "share_now": r(ev.share), "baseline": r(ev.baseline), "rise": r(ev.rise), "z": r(ev.z, 2),
        "evidence_z": r(ev.score, 2), "volume": ev.volume, "baseline_volume": r(ev.baseline_volume, 1),
        "onset": minute_start(ev.onset_minute).isoformat() if ev.onset_minute is not None else None,
        "window": minute_start(ev.minute).isoformat(),
    }  # fmt: skip


def apply_event(
    conn: Connection, topic: Topic, routes: list[Route], available: Collection[str], ev: Event, now: datetime
) -> AlertEvent | None:
    """Make the database agree with one detector event; return what changed, if anything."""
    alert = store.find_open_alert(conn, topic.id, KIND)
    if ev.kind == "pending":
        return None if alert else _open(conn, topic, ev, now)
    if ev.kind == "fired":
        return _fire(conn, topic, routes, available, ev, now, alert)
    if alert is None:
        return None
    if ev.kind == "escalated":
        store.update_alert(conn, alert.id, severity=ev.severity, **_figures(ev))
        if alert.state == store.FIRING and not silenced(topic, now):
            _queue(conn, alert.id, "escalated", ev.severity or alert.severity, routes, available)
        return _changed("escalated", alert.id, topic, alert.state, ev)
    if ev.kind == "cancelled" and alert.state == store.PENDING:
        store.delete_alert(conn, alert.id)
        return _changed("cancelled", alert.id, topic, store.RESOLVED, ev)
    who = f"detector: {ev.reason or ev.kind}"[:64]
    store.update_alert(conn, alert.id, state=store.RESOLVED, resolved_at=now, resolved_by=who)
    if alert.notified_at is not None and not silenced(topic, now):
        _queue(conn, alert.id, "resolved", alert.severity, routes, available)
    return _changed("resolved", alert.id, topic, store.RESOLVED, ev)


def _open(conn: Connection, topic: Topic, ev: Event, now: datetime) -> AlertEvent:
    onset = minute_start(ev.onset_minute if ev.onset_minute is not None else ev.minute)
    alert_id = store.insert_alert(
        conn, topic_id=topic.id, kind=KIND, state=store.PENDING, severity=ev.severity or "minor",
        window_start=onset, opened_at=now, explanation=numbers(ev), **_figures(ev),
    )  # fmt: skip
    return _changed("pending", alert_id, topic, store.PENDING, ev)


def _fire(
    conn: Connection, topic: Topic, routes: list[Route], available: Collection[str], ev: Event,
    now: datetime, alert: store.Alert | None,
) -> AlertEvent:  # fmt: skip
    alert_id = alert.id if alert else _open(conn, topic, ev, now).alert_id
    if alert is not None and alert.state == store.ACKNOWLEDGED:
        state = store.ACKNOWLEDGED  # acknowledged while pending: they know already
    else:
        state = store.SILENCED if silenced(topic, now) else store.FIRING
    severity = ev.severity or "minor"
    values: dict[str, Any] = {"state": state, "severity": severity, "fired_at": now, **_figures(ev)}
    values["explanation"] = _explanation(conn, topic, ev)
    if state == store.FIRING:
        values["notified_at"] = now
        _queue(conn, alert_id, "fired", severity, routes, available)
    store.update_alert(conn, alert_id, **values)
    return _changed("fired", alert_id, topic, state, ev)


def _explanation(conn: Connection, topic: Topic, ev: Event) -> dict[str, Any]:
    onset = minute_start(ev.onset_minute if ev.onset_minute is not None else ev.minute)
    end = minute_start(ev.minute + 1)
    spike = store.topic_posts(conn, topic.id, onset, end)
    base = store.topic_posts(conn, topic.id, onset - timedelta(minutes=BASELINE_POSTS_MINUTES), onset)
    as_text = [[PostText(p.id, p.text, p.p_neg, p.url) for p in posts] for posts in (spike, base)]
    return explain(numbers(ev), *as_text)


def unsilence(
    conn: Connection, topic: Topic, routes: list[Route], available: Collection[str], now: datetime
) -> AlertEvent | None:
    """A silenced alert whose topic's silence is over starts firing (and notifying) now."""
    alert = store.find_open_alert(conn, topic.id, KIND)
    if alert is None or alert.state != store.SILENCED or silenced(topic, now):
        return None
    store.update_alert(conn, alert.id, state=store.FIRING, notified_at=now)
    _queue(conn, alert.id, "fired", alert.severity, routes, available)
    return AlertEvent("unsilenced", alert.id, topic.id, store.FIRING, alert.severity, alert.window_start,
                      alert.share_now, alert.baseline, alert.volume)  # fmt: skip


def _queue(
    conn: Connection,
    alert_id: int,
    event: str,
    severity: str,
    routes: list[Route],
    available: Collection[str],
) -> None:
    for route in routes:
        if route.sink in available and route.wants(severity):
            store.queue_delivery(conn, alert_id, event, route.sink, route.target)


def _figures(ev: Event) -> dict[str, Any]:
    figures: dict[str, Any] = {"baseline": ev.baseline}
    if ev.share is not None:
        figures.update(share_now=ev.share, volume=ev.volume)
    return figures


def _changed(kind: str, alert_id: int, topic: Topic, state: str, ev: Event) -> AlertEvent:
    return AlertEvent(kind, alert_id, topic.id, state, ev.severity or "minor", minute_start(ev.minute),
                      ev.share, ev.baseline, ev.volume or None, ev.reason)  # fmt: skip
