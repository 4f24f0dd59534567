"""The alert cycle against a real database: lifecycle, de-duplication, silence, ack, restarts."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, delete

from sentimon.storage import alerts as store
from sentimon.storage import topics
from sentimon.storage.tables import alert_detector_state
from stream_processor.alerting.channels import WebhookChannel
from stream_processor.alerting.lifecycle import AlertEvent
from stream_processor.alerting.service import run_alert_cycle
from tests.alerting.seed import add_posts, add_windows
from tests.alerting.servers import Received, webhook_server

T0 = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
SPIKE = [0.2] * 120 + [0.45] * 20 + [0.2] * 40
SPIKE_TEXTS = ["acme outage again, nothing loads", "outage and no refund", "acme support silent about outage"]
BASE_TEXTS = ["acme shipping is slow", "the acme app is clunky", "not a fan of the new acme logo"]


def _now(minute: int) -> datetime:
    """The moment window `minute` has just closed (its end plus the grace, plus a little)."""
    return T0 + timedelta(minutes=minute + 1, seconds=20)


def _topic(engine: Engine, url: str, shares: list[float] = SPIKE, **config: Any) -> int:
    with engine.begin() as conn:
        sinks = [{"type": "webhook", "url": url, "format": "json"}]
        name = f"acme-{uuid.uuid4().hex[:6]}"
        topic_id = topics.create_topic(conn, name, "acme", {"sinks": sinks, **config})
    add_windows(engine, topic_id, T0, shares)
    add_posts(engine, topic_id, T0 + timedelta(minutes=100), BASE_TEXTS * 10, 0.7, f"{topic_id}-base")
    add_posts(engine, topic_id, T0 + timedelta(minutes=120), SPIKE_TEXTS * 10, 0.9, f"{topic_id}-spike")
    return topic_id


def _cycles(engine: Engine, first: int, last: int) -> list[AlertEvent]:
    """One cycle per minute from window `first` to `last` inclusive (the first rebuilds silently)."""
    events: list[AlertEvent] = []
    for minute in range(first, last + 1):
        events += run_alert_cycle(engine, {"webhook": WebhookChannel()}, _now(minute))
    return events


def _sent(received: Received) -> list[str]:
    return [json.loads(body)["event"] for _, body in received.requests]


def test_a_spike_fires_once_resolves_once_and_notifies_twice(engine: Engine) -> None:
    with webhook_server() as (url, received):
        topic_id = _topic(engine, url)
        events = _cycles(engine, 99, 179)
        assert [e.event for e in events] == ["pending", "fired", "resolved"]
        assert len({e.alert_id for e in events}) == 1
        assert T0 + timedelta(minutes=121) <= events[1].window <= T0 + timedelta(minutes=122)
        assert _sent(received) == ["fired", "resolved"]
        fired = json.loads(received.requests[0][1])
        assert fired["topic_id"] == topic_id and fired["severity"] == "major"
        assert abs(fired["baseline"] - 0.2) < 0.02 and fired["share_now"] > 0.4 and fired["volume"] == 100
        assert fired["explanation"]["terms"][0]["term"] == "outage"
        assert all("outage" in p["text"] for p in fired["explanation"]["posts"])
        # idempotent: the same moment again changes nothing and sends nothing
        assert run_alert_cycle(engine, {"webhook": WebhookChannel()}, _now(179)) == []
        assert len(received.requests) == 2
    with engine.connect() as conn:
        alert = store.get_alert(conn, events[0].alert_id)
        assert alert is not None and alert.state == store.RESOLVED
        assert alert.resolved_by == "detector: recovered"
        assert alert.window_start == T0 + timedelta(minutes=120) and alert.notified_at is not None
        log = store.list_deliveries(conn, alert_id=alert.id)
        logged = sorted((d.event, d.status, d.attempts) for d in log)
        assert logged == [("fired", "sent", 1), ("resolved", "sent", 1)]


def test_steady_topic_raises_nothing(engine: Engine) -> None:
    with webhook_server() as (url, received):
        _topic(engine, url, shares=[0.2] * 180)
        assert _cycles(engine, 99, 179) == []
        assert received.requests == []


def test_a_silenced_topic_records_the_alert_but_tells_no_one(engine: Engine) -> None:
    with webhook_server() as (url, received):
        topic_id = _topic(engine, url)
        with engine.begin() as conn:
            topics.update_topic(conn, topic_id, silenced_until=T0 + timedelta(hours=5))
        events = _cycles(engine, 99, 179)
        assert [(e.event, e.state) for e in events] == [
            ("pending", "pending"), ("fired", "silenced"), ("resolved", "resolved")
        ]  # fmt: skip
        assert received.requests == []


def test_an_alert_silenced_at_firing_notifies_when_the_silence_ends(engine: Engine) -> None:
    with webhook_server() as (url, received):
        topic_id = _topic(engine, url)
        with engine.begin() as conn:
            topics.update_topic(conn, topic_id, silenced_until=T0 + timedelta(minutes=125))
        events = _cycles(engine, 99, 179)
        assert [e.event for e in events] == ["pending", "fired", "unsilenced", "resolved"]
        assert events[2].window == T0 + timedelta(minutes=120)
        assert _sent(received) == ["fired", "resolved"]


def test_acknowledged_alerts_get_no_escalation_notice(engine: Engine) -> None:
    """A minor alert (+13 points, over the 10-point minimum rise) is acknowledged; when it escalates
    to critical, the people who already know are not notified again."""
    shares = [0.2] * 120 + [0.33] * 4 + [0.7] * 16 + [0.2] * 40
    with webhook_server() as (url, received):
        _topic(engine, url, shares=shares)
        events = _cycles(engine, 99, 123)
        assert [e.event for e in events] == ["pending", "fired"] and events[1].severity == "minor"
        with engine.begin() as conn:
            assert store.acknowledge(conn, events[1].alert_id, "ana")
        events += _cycles(engine, 124, 179)
        assert "escalated" in [e.event for e in events]
        assert _sent(received) == ["fired", "resolved"]
    with engine.connect() as conn:
        alert = store.get_alert(conn, events[1].alert_id)
        assert alert is not None and alert.acked_by == "ana" and alert.severity == "critical"


def test_a_hand_resolved_alert_does_not_come_straight_back(engine: Engine) -> None:
    with webhook_server() as (url, received):
        _topic(engine, url)
        events = _cycles(engine, 99, 123)
        with engine.begin() as conn:
            assert store.resolve(conn, events[1].alert_id, "bob")
        events += _cycles(engine, 124, 179)
        assert [e.event for e in events] == ["pending", "fired"]
        assert _sent(received) == ["fired"]


def test_a_restart_mid_spike_keeps_the_one_open_alert(engine: Engine) -> None:
    with webhook_server() as (url, received):
        topic_id = _topic(engine, url)
        events = _cycles(engine, 99, 125)
        with engine.begin() as conn:  # the saved detector state is lost
            conn.execute(delete(alert_detector_state).where(alert_detector_state.c.topic_id == topic_id))
        events += _cycles(engine, 126, 179)
        assert [e.event for e in events] == ["pending", "fired", "resolved"]
        assert len({e.alert_id for e in events}) == 1
        assert _sent(received) == ["fired", "resolved"]


def test_a_broken_alert_config_skips_the_topic(engine: Engine) -> None:
    with webhook_server() as (url, received):
        _topic(engine, url, min_rise=7)
        assert _cycles(engine, 99, 130) == []
        assert received.requests == []


def test_the_alert_reaches_the_dashboard_channel(engine: Engine, redis_db: str) -> None:
    """Default routing (no sinks named) publishes on Redis, where the dashboard listens."""
    import redis

    from sentimon.storage.redis_keys import ALERTS_CHANNEL
    from stream_processor.alerting.channels import RedisAlertChannel
    from tests.helpers import wait_until

    with engine.begin() as conn:
        topic_id = topics.create_topic(conn, f"acme-{uuid.uuid4().hex[:6]}", "acme", {})
    add_windows(engine, topic_id, T0, SPIKE)
    client = redis.Redis.from_url(redis_db)
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(ALERTS_CHANNEL)
    sinks = {"redis": RedisAlertChannel(redis_db)}
    try:
        wait_until(lambda: client.pubsub_numsub(ALERTS_CHANNEL)[0][1] >= 1, timeout=5)
        for minute in range(99, 125):
            run_alert_cycle(engine, sinks, _now(minute))
        message = wait_until(lambda: pubsub.get_message(timeout=0.1), timeout=5)
        payload = json.loads(message["data"])
        assert (payload["event"], payload["topic_id"], payload["state"]) == ("fired", topic_id, "firing")
    finally:
        sinks["redis"].close()
        pubsub.close()
        client.close()


def test_after_downtime_old_spikes_raise_no_alert(engine: Engine) -> None:
    with webhook_server() as (url, received):
        _topic(engine, url)
        assert _cycles(engine, 99, 99) == []  # watching starts before the spike ...
        # ... back 80 min later
        assert run_alert_cycle(engine, {"webhook": WebhookChannel()}, _now(179)) == []
        assert received.requests == []


def test_pausing_a_topic_closes_its_alert(engine: Engine) -> None:
    with webhook_server() as (url, _received):
        topic_id = _topic(engine, url)
        events = _cycles(engine, 99, 123)
        with engine.begin() as conn:
            topics.update_topic(conn, topic_id, active=False)
        assert [(e.event, e.reason) for e in _cycles(engine, 124, 124)] == [("resolved", "alerts off")]
        with engine.connect() as conn:
            assert store.get_alert(conn, events[1].alert_id).resolved_by == "detector: alerts off"
            assert store.load_detector_state(conn, topic_id, "negative_spike") is None


def test_periodic_task_runs_a_cycle_in_the_background(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from sentimon.settings import Settings
    from sentimon.storage.db import make_engine, migrate
    from stream_processor.alerting.service import AlertCycle
    from stream_processor.driver import Driver
    from stream_processor.pipeline import Processor
    from stream_processor.rulebook import RuleBook
    from stream_processor.sinks.sql import SqlStore
    from tests.helpers import wait_until
    from tests.stream_processor.fakes import WordClassifier

    settings = Settings(data_dir=tmp_path, env="test")
    migrate(settings.db_url)
    with webhook_server() as (url, received):
        engine = make_engine(settings.db_url)
        _topic(engine, url, shares=[0.2] * 120 + [0.45] * 30)
        cycle = AlertCycle.of(settings, engine)
        [(seconds, task)] = cycle.periodic()
        assert seconds > 0 and task.__name__ == "alert_cycle"
        driver = Driver(Processor(WordClassifier(), SqlStore(engine)), RuleBook(engine), alerts=cycle)
        assert any(getattr(t, "__name__", "") == "alert_cycle" for _, t in driver.periodic())
        task()  # now (real time) is long after these windows: the first cycle rebuilds silently
        wait_until(lambda: not task._thread.is_alive(), timeout=30)
        assert task.run_once() == [] and received.requests == []


def test_the_cycle_logs_alerts_by_topic_name(engine: Engine, caplog) -> None:  # type: ignore[no-untyped-def]
    from stream_processor.alerting.service import AlertCycle

    with webhook_server() as (url, _received):
        topic_id = _topic(engine, url)
        cycle = AlertCycle(engine, {"webhook": WebhookChannel()})
        with caplog.at_level("INFO", logger="stream_processor.alerting.service"):
            for minute in range(99, 125):
                cycle.run_once(now=_now(minute))
    with engine.connect() as conn:
        topic = topics.get_topic(conn, topic_id)
    assert topic is not None
    said = [r.getMessage() for r in caplog.records if r.getMessage().startswith("alert ")]
    assert said and all(f": {topic.name}, " in line for line in said), said
