"""Where alerts go: webhook (Slack-compatible, HMAC-signed), email over SMTP, Kafka, Redis pub/sub.

Every channel has one method, send(payload, route), that raises DeliveryError on failure, saying
whether trying again could help; retries, backoff and the delivery log live in delivery.py.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import smtplib
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from sentimon.settings import Settings
from sentimon.storage.redis_keys import ALERTS_CHANNEL
from stream_processor.alerting.config import Route
from stream_processor.alerting.messages import email_message, slack_body

SIGNATURE_HEADER = "X-Sentimon-Signature"
TIMESTAMP_HEADER = "X-Sentimon-Timestamp"


class DeliveryError(RuntimeError):
    """A failed send; `transient` says whether a retry may succeed (timeouts, 5xx, refused connections)."""

    def __init__(self, message: str, transient: bool = True):
        super().__init__(message)
        self.transient = transient


class AlertChannel(Protocol):
    """Where one alert message goes (a route in a topic's alert_config names the channel)."""

    name: str

    def send(self, payload: dict[str, Any], route: Route) -> None: ...


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 over "<timestamp>.<body>", hex: receivers recompute it to trust the sender and
    reject replays by checking the timestamp is recent."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def route_secret(route: Route) -> str | None:
    if route.secret_env:
        value = os.environ.get(route.secret_env)
        if not value:
            raise DeliveryError(f"webhook secret variable {route.secret_env} is not set", transient=False)
        return value
    return route.secret


class WebhookChannel:
    """POSTs JSON: a Slack incoming-webhook message by default, or the bare payload (format: json)."""

    name = "webhook"

    def __init__(self, timeout_s: float = 5.0):
        self.timeout_s = timeout_s

    def send(self, payload: dict[str, Any], route: Route) -> None:
        import httpx

        fmt = route.options.get("format", "slack")
        body = orjson.dumps(slack_body(payload) if fmt == "slack" else payload)
        headers = {"Content-Type": "application/json", "X-Sentimon-Event": payload["event"]}
        secret = route_secret(route)
        if secret:
            timestamp = str(int(time.time()))
            headers[TIMESTAMP_HEADER] = timestamp
            headers[SIGNATURE_HEADER] = sign(secret, timestamp, body)
        try:
            response = httpx.post(route.target or "", content=body, headers=headers, timeout=self.timeout_s)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc
        if not 200 <= response.status_code < 300:
            transient = response.status_code >= 500 or response.status_code in (408, 429)
            raise DeliveryError(f"HTTP {response.status_code}: {response.text[:200]}", transient)


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    host: str
    port: int = 25
    sender: str = "sentimon@localhost"
    user: str | None = None
    password: str | None = None
    starttls: bool = False
    timeout_s: float = 10.0


class EmailChannel:
    name = "email"

    def __init__(self, config: SmtpConfig):
        self.config = config

    def send(self, payload: dict[str, Any], route: Route) -> None:
        cfg = self.config
        recipients = [a.strip() for a in (route.target or "").split(",") if a.strip()]
        message = email_message(payload, cfg.sender, recipients)
        try:
            with smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout_s) as smtp:
                if cfg.starttls:
                    smtp.starttls()
                if cfg.user:
                    smtp.login(cfg.user, cfg.password or "")
                smtp.send_message(message)
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPAuthenticationError) as exc:
            raise DeliveryError(f"{type(exc).__name__}: {exc}", transient=False) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc


class KafkaAlertChannel:
    """Publishes to the `alerts` topic, keyed by topic id so one topic's events stay in order."""

    name = "kafka"

    def __init__(self, bootstrap: str, topic: str = "alerts", timeout_s: float = 10.0):
        self.bootstrap, self.topic, self.timeout_s = bootstrap, topic, timeout_s
        self._producer: Any = None

    def send(self, payload: dict[str, Any], route: Route) -> None:
        from kafka.errors import KafkaError

        try:
            if self._producer is None:
                from kafka import KafkaProducer

                self._producer = KafkaProducer(bootstrap_servers=self.bootstrap, acks="all", retries=0)
            key = str(payload["topic_id"]).encode()
            self._producer.send(self.topic, key=key, value=orjson.dumps(payload)).get(timeout=self.timeout_s)
        except KafkaError as exc:
            raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc

    def close(self) -> None:
        if self._producer is not None:
            self._producer.close(timeout=5)
            self._producer = None


class RedisAlertChannel:
    """Publishes on the dashboard's alerts channel (no subscriber is not an error)."""

    name = "redis"

    def __init__(self, url: str):
        self.url = url
        self._client: Any = None

    def send(self, payload: dict[str, Any], route: Route) -> None:
        import redis

        try:
            if self._client is None:
                self._client = redis.Redis.from_url(self.url, socket_timeout=5)
            self._client.publish(ALERTS_CHANNEL, orjson.dumps(payload))
        except redis.RedisError as exc:
            raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


def build_channels(settings: Settings, smtp: SmtpConfig | None = None) -> dict[str, AlertChannel]:
    """The channels this deployment can reach: webhook always, the rest when configured."""
    channels: dict[str, AlertChannel] = {"webhook": WebhookChannel()}
    smtp = smtp or smtp_from_settings(settings)
    if smtp:
        channels["email"] = EmailChannel(smtp)
    if settings.kafka_bootstrap:
        channels["kafka"] = KafkaAlertChannel(settings.kafka_bootstrap, settings.topic_alerts)
    if settings.redis_url:
        channels["redis"] = RedisAlertChannel(settings.redis_url)
    return channels


def smtp_from_settings(settings: Settings) -> SmtpConfig | None:
    """SMTP from the smtp_* settings (None when no host is set)."""
    if not settings.smtp_host:
        return None
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    return SmtpConfig(
        host=settings.smtp_host, port=settings.smtp_port, sender=settings.smtp_from,
        user=settings.smtp_user, password=password, starttls=settings.smtp_starttls,
    )  # fmt: skip


def close_channels(channels: Mapping[str, AlertChannel]) -> None:
    for channel in channels.values():
        close = getattr(channel, "close", None)
        if close:
            close()
