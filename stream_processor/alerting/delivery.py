"""Send queued alert deliveries with retries and backoff, and log each outcome in alert_deliveries.

Deliveries are queued in the same transaction that changes an alert (an outbox), then sent after
it commits, so a crash between the two only delays them. Within one cycle a send is tried up to
ATTEMPTS_PER_CYCLE times with exponential backoff (tenacity) on transient errors; a delivery still
failing is tried again by later cycles, RETRY_AFTER_S apart, until MAX_ATTEMPTS in all.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential
from tenacity.wait import wait_base

from sentimon.storage import alerts as store
from sentimon.storage import topics as topic_store
from stream_processor.alerting.channels import AlertChannel, DeliveryError
from stream_processor.alerting.config import AlertConfigError, Route, parse_alert_config
from stream_processor.alerting.messages import alert_payload

log = logging.getLogger(__name__)
ATTEMPTS_PER_CYCLE = 3
MAX_ATTEMPTS = 9
RETRY_AFTER_S = 60.0
BACKOFF = wait_exponential(multiplier=0.25, min=0.25, max=2.0)


@dataclass(frozen=True, slots=True)
class Outcome:
    delivery_id: int
    alert_id: int
    sink: str
    status: str
    attempts: int
    error: str | None = None


def send_with_retries(
    sink: AlertChannel, payload: dict[str, Any], route: Route, attempts: int = ATTEMPTS_PER_CYCLE,
    wait: wait_base = BACKOFF,
) -> int:  # fmt: skip
    """Send, retrying transient failures; return the attempts used or raise the last DeliveryError
    (with `.attempts` set)."""
    retrying = Retrying(
        stop=stop_after_attempt(attempts),
        wait=wait,
        retry=retry_if_exception(lambda e: isinstance(e, DeliveryError) and e.transient),
        reraise=True,
    )
    try:
        for attempt in retrying:
            with attempt:
                sink.send(payload, route)
    except DeliveryError as exc:
        # DeliveryError (alerting/channels.py) declares no `attempts`; callers read it after a failure.
        exc.attempts = retrying.statistics.get("attempt_number", 1)  # type: ignore[attr-defined]
        raise
    return int(retrying.statistics.get("attempt_number", 1))


def deliver_due(engine: Engine, sinks: Mapping[str, AlertChannel], now: datetime) -> list[Outcome]:
    """Send every due delivery once round (with in-cycle retries) and record how it went."""
    with engine.connect() as conn:
        due = store.due_deliveries(conn, now, MAX_ATTEMPTS, RETRY_AFTER_S)
    return [_deliver(engine, sinks, d, now) for d in due]


def _deliver(engine: Engine, sinks: Mapping[str, AlertChannel], d: store.Delivery, now: datetime) -> Outcome:
    with engine.connect() as conn:
        alert = store.get_alert(conn, d.alert_id)
        topic = topic_store.get_topic(conn, alert.topic_id) if alert else None
    sink = sinks.get(d.sink)
    route = _route_for(topic.alert_config if topic else {}, d)
    if alert is None or sink is None or route is None:
        why = (
            "alert gone" if alert is None else "sink not configured here" if sink is None else "route removed"
        )
        return _record(engine, d, store.FAILED, MAX_ATTEMPTS, why, now)
    try:
        used = send_with_retries(sink, alert_payload(alert, d.event or "fired"), route)
    except DeliveryError as exc:
        attempts = d.attempts + getattr(exc, "attempts", 1)
        log.warning("alert %s delivery %s via %s failed: %s", d.alert_id, d.id, d.sink, exc)
        return _record(engine, d, store.FAILED, attempts if exc.transient else MAX_ATTEMPTS, str(exc), now)
    return _record(engine, d, store.SENT, d.attempts + used, None, now)


def _route_for(config: dict, d: store.Delivery) -> Route | None:
    try:
        _, routes = parse_alert_config(config)
    except AlertConfigError:
        return None
    return next((r for r in routes if r.sink == d.sink and r.target == d.target), None)


def _record(
    engine: Engine, d: store.Delivery, status: str, attempts: int, error: str | None, now: datetime
) -> Outcome:
    with engine.begin() as conn:
        store.mark_delivery(conn, d.id, status, attempts, error[:1000] if error else None, now)
    return Outcome(d.id, d.alert_id, d.sink, status, attempts, error)
