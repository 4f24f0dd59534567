"""The alert storage API the dashboard uses: list, get, acknowledge, resolve, counts, deliveries."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from sentimon.storage import alerts as store

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def _open(engine: Engine, topic_id: int, state: str = store.FIRING) -> int:
    with engine.begin() as conn:
        return store.insert_alert(
            conn, topic_id=topic_id, kind="negative_spike", state=state, severity="major",
            window_start=T0, share_now=0.5, baseline=0.2, volume=80, explanation={"rise": 0.3},
        )  # fmt: skip


def test_acknowledge_then_resolve_by_hand(engine: Engine, topic_id: int) -> None:
    alert_id = _open(engine, topic_id)
    with engine.begin() as conn:
        assert store.acknowledge(conn, alert_id, "ana", now=T0)
        assert not store.acknowledge(conn, alert_id, "bob"), "an acknowledged alert is not acked twice"
    with engine.begin() as conn:
        alert = store.get_alert(conn, alert_id)
        assert alert is not None and alert.state == store.ACKNOWLEDGED and alert.acked_by == "ana"
        assert alert.acked_at == T0 and alert.window_start == T0 and alert.explanation == {"rise": 0.3}
        assert store.open_alert_counts(conn).get(topic_id) == 1
        assert store.resolve(conn, alert_id, "ana")
        assert not store.resolve(conn, alert_id, "ana")
    with engine.begin() as conn:
        alert = store.get_alert(conn, alert_id)
        assert alert is not None and alert.state == store.RESOLVED and alert.resolved_by == "ana"
        assert topic_id not in store.open_alert_counts(conn)
        assert [a.id for a in store.list_alerts(conn, states=[store.RESOLVED], topic_id=topic_id)] == [
            alert_id
        ]
        assert store.list_alerts(conn, states=store.OPEN_STATES, topic_id=topic_id) == []


def test_one_open_alert_per_topic_and_kind(engine: Engine, topic_id: int) -> None:
    _open(engine, topic_id)
    with pytest.raises(IntegrityError):
        _open(engine, topic_id)
    with engine.begin() as conn:
        first = store.find_open_alert(conn, topic_id, "negative_spike")
        assert first is not None
        store.resolve(conn, first.id, "detector")
    second = _open(engine, topic_id)  # allowed once the first is resolved
    assert second != first.id


def test_pending_alerts_are_not_counted_unless_asked(engine: Engine, topic_id: int) -> None:
    _open(engine, topic_id, state=store.PENDING)
    with engine.begin() as conn:
        assert topic_id not in store.open_alert_counts(conn)
        assert store.open_alert_counts(conn, include_pending=True)[topic_id] == 1


def test_delivery_log_retries_failed_rows_after_a_pause(engine: Engine, topic_id: int) -> None:
    alert_id = _open(engine, topic_id)
    with engine.begin() as conn:
        d = store.queue_delivery(conn, alert_id, "fired", "webhook", "http://127.0.0.1:9/hook")
        assert [x.id for x in store.due_deliveries(conn, T0, max_attempts=3, retry_after_s=60)] == [d]
        store.mark_delivery(conn, d, store.FAILED, 3, "HTTP 500", T0)
    with engine.begin() as conn:
        assert store.due_deliveries(conn, T0, max_attempts=9, retry_after_s=60) == []
        later = datetime(2026, 1, 5, 12, 2, tzinfo=UTC)
        assert [x.id for x in store.due_deliveries(conn, later, max_attempts=9, retry_after_s=60)] == [d]
        assert store.due_deliveries(conn, later, max_attempts=3, retry_after_s=60) == []
        log = store.list_deliveries(conn, alert_id=alert_id)
        assert [(x.sink, x.event, x.status, x.attempts, x.last_error) for x in log] == [
            ("webhook", "fired", "failed", 3, "HTTP 500")
        ]


def test_detector_state_round_trip(engine: Engine, topic_id: int) -> None:
    with engine.begin() as conn:
        assert store.load_detector_state(conn, topic_id, "negative_spike") is None
        store.save_detector_state(conn, topic_id, "negative_spike", {"mean": 0.2}, T0, T0)
        store.save_detector_state(conn, topic_id, "negative_spike", {"mean": 0.3}, T0, T0)
    with engine.begin() as conn:
        assert store.load_detector_state(conn, topic_id, "negative_spike", for_update=True) == (
            {"mean": 0.3},
            T0,
        )


def test_cycle_lock_admits_one_caller_at_a_time(engine: Engine) -> None:
    with store.cycle_lock(engine) as first, store.cycle_lock(engine) as second:
        assert first and not second
    with store.cycle_lock(engine) as again:
        assert again
