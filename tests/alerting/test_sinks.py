"""Each sink against a real receiver: webhook (retries, signature), SMTP, Redis pub/sub, Kafka."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from email import message_from_bytes

import pytest
from sqlalchemy import Engine

from sentimon.storage import alerts as store
from sentimon.storage.redis_keys import ALERTS_CHANNEL
from stream_processor.alerting.channels import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    DeliveryError,
    EmailChannel,
    KafkaAlertChannel,
    RedisAlertChannel,
    SmtpConfig,
    WebhookChannel,
    sign,
)
from stream_processor.alerting.config import Route
from stream_processor.alerting.delivery import MAX_ATTEMPTS, deliver_due, send_with_retries
from stream_processor.alerting.messages import alert_payload
from tests.alerting.servers import smtp_server, webhook_server
from tests.helpers import wait_until

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
EXPLANATION = {
    "baseline_volume": 80.0,
    "terms": [{"term": "outage", "z": 4.2, "spike": 30.0, "baseline": 0.0}],
    "posts": [{"id": 1, "text": "acme outage again", "p_neg": 0.93, "url": None}],
}


def _alert(**changes: object) -> store.Alert:
    values: dict = dict(
        id=7, topic_id=3, topic_name="acme", kind="negative_spike", state="firing", severity="major",
        window_start=T0, opened_at=T0, fired_at=T0, share_now=0.45, baseline=0.2, volume=120,
        explanation=EXPLANATION,
    )  # fmt: skip
    values.update(changes)
    return store.Alert(**values)


PAYLOAD = alert_payload(_alert(), "fired")


def test_webhook_retries_after_a_500_and_signs_the_body() -> None:
    secret = "s3cret"
    with webhook_server(statuses=[500]) as (url, received):
        attempts = send_with_retries(WebhookChannel(), PAYLOAD, Route("webhook", url, secret=secret))
    assert attempts == 2 and len(received.requests) == 2
    headers, body = received.requests[-1]
    assert headers[SIGNATURE_HEADER] == sign(secret, headers[TIMESTAMP_HEADER], body)
    assert headers[SIGNATURE_HEADER] != sign("wrong", headers[TIMESTAMP_HEADER], body)
    slack = json.loads(body)
    assert slack["text"].startswith(
        ":rotating_light: [major] Negative spike: acme: negative share 45% vs 20%"
    )
    assert slack["blocks"][0]["type"] == "section" and "outage" in slack["blocks"][0]["text"]["text"]
    assert slack["metadata"]["event_payload"]["alert_id"] == 7


def test_webhook_does_not_retry_a_client_error() -> None:
    with webhook_server(statuses=[404]) as (url, received), pytest.raises(DeliveryError) as info:
        send_with_retries(WebhookChannel(), PAYLOAD, Route("webhook", url))
    assert not info.value.transient and len(received.requests) == 1


def test_delivery_log_records_a_retried_success(engine: Engine, topic_id: int) -> None:
    from sentimon.storage import topics

    with webhook_server(statuses=[503]) as (url, received):
        with engine.begin() as conn:
            topics.update_topic(conn, topic_id, alert_config={"sinks": [{"type": "webhook", "url": url}]})
            alert_id = store.insert_alert(
                conn, topic_id=topic_id, kind="negative_spike", state="firing", severity="major",
                window_start=T0, explanation=EXPLANATION,
            )  # fmt: skip
            store.queue_delivery(conn, alert_id, "fired", "webhook", url)
            store.queue_delivery(conn, alert_id, "fired", "email", "ops@example.com")  # no SMTP here
        outcomes = deliver_due(engine, {"webhook": WebhookChannel()}, T0)
    assert [(o.sink, o.status, o.attempts) for o in outcomes] == [
        ("webhook", "sent", 2),
        ("email", "failed", MAX_ATTEMPTS),
    ]
    assert len(received.requests) == 2
    with engine.connect() as conn:
        assert store.due_deliveries(conn, T0, MAX_ATTEMPTS, 0) == []


def test_email_reaches_a_local_smtp_server() -> None:
    with smtp_server() as (port, envelopes):
        sink = EmailChannel(SmtpConfig("127.0.0.1", port, sender="alerts@sentimon.test"))
        sink.send(PAYLOAD, Route("email", "ops@example.com,pr@example.com"))
        wait_until(lambda: envelopes, timeout=5)
    envelope = envelopes[0]
    assert envelope.mail_from == "alerts@sentimon.test"
    assert envelope.rcpt_tos == ["ops@example.com", "pr@example.com"]
    mail = message_from_bytes(envelope.content)
    assert mail["Subject"].startswith("Sentimon [major] Negative spike: acme")
    text = mail.get_payload(decode=True).decode()
    assert "Negative share now: 45%  usual: 20%" in text and "acme outage again" in text
    assert "Terms driving it: outage (strong)" in text  # how sure, in words


def test_email_to_a_closed_port_is_a_transient_failure() -> None:
    from tests.alerting.servers import free_port

    sink = EmailChannel(SmtpConfig("127.0.0.1", free_port(), timeout_s=2))
    with pytest.raises(DeliveryError) as info:
        sink.send(PAYLOAD, Route("email", "ops@example.com"))
    assert info.value.transient


def test_alert_reaches_the_dashboard_over_redis_pubsub(redis_db: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_db)
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(ALERTS_CHANNEL)
    sink = RedisAlertChannel(redis_db)
    try:
        wait_until(lambda: client.pubsub_numsub(ALERTS_CHANNEL)[0][1] >= 1, timeout=5)
        sink.send(PAYLOAD, Route("redis"))
        message = wait_until(lambda: pubsub.get_message(timeout=0.1), timeout=5)
        assert json.loads(message["data"]) == PAYLOAD
    finally:
        sink.close()
        pubsub.close()
        client.close()


def test_alert_lands_on_the_kafka_alerts_topic(kafka_topics) -> None:  # type: ignore[no-untyped-def]
    from kafka import KafkaConsumer, TopicPartition

    sink = KafkaAlertChannel(kafka_topics.bootstrap, kafka_topics.alerts)
    try:  # as the service sends: a just-created topic may not have its leader yet (a transient error)
        send_with_retries(sink, PAYLOAD, Route("kafka"))
    finally:
        sink.close()
    # Partitions assigned by hand: no consumer group to join (a first group's coordinator can take
    # longer than a fixed timeout on a loaded machine), read from the start until the record is there.
    consumer = KafkaConsumer(
        bootstrap_servers=kafka_topics.bootstrap, group_id=None, enable_auto_commit=False
    )
    try:
        partitions = [
            TopicPartition(kafka_topics.alerts, p)
            for p in consumer.partitions_for_topic(kafka_topics.alerts) or []
        ]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        deadline = time.monotonic() + 60
        records: list = []
        while not records and time.monotonic() < deadline:
            records = [r for batch in consumer.poll(timeout_ms=500).values() for r in batch]
    finally:
        consumer.close()
    assert records, "nothing on the alerts topic within 60 s"
    record = records[0]
    assert record.key == b"3" and json.loads(record.value) == PAYLOAD
