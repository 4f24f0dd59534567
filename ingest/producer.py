"""The Kafka producer: keyed by `Post.key`, acks=all, compressed, with a bounded in-flight buffer."""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future
from dataclasses import asdict, dataclass, field
from typing import Any

from sentimon.schema import Post

from .post_producer import AckingProducer, ProducerBlocked, ProducerError, ProducerUnavailable

log = logging.getLogger(__name__)
MiB = 1024 * 1024


@dataclass(slots=True)
class ProducerConfig:
    """Producer knobs. The in-flight caps are the back-pressure: `send` blocks, then raises."""

    bootstrap: str
    topic: str = "posts.raw"
    client_id: str = "sentimon-ingest"
    compression: str = "auto"  # auto: lz4 when its library is installed, else gzip; "none" for none
    max_in_flight: int = 10_000
    max_in_flight_bytes: int = 32 * MiB
    block_timeout_s: float = 30.0
    connect_timeout_s: float = 15.0
    delivery_timeout_s: float = 120.0
    linger_ms: int = 20
    retry_backoff_ms: int = 200
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class ProducerMetrics:
    sent: int = 0
    failed: int = 0
    bytes: int = 0
    blocked: int = 0
    in_flight: int = 0
    in_flight_bytes: int = 0
    max_in_flight_seen: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def pick_compression(wanted: str) -> str | None:
    """The codec to use: lz4 if asked for (or 'auto' and installed), else gzip, or None for 'none'."""
    from kafka import codec

    if wanted == "none":
        return None
    if wanted == "auto":
        return "lz4" if codec.has_lz4() else "gzip"
    available = {
        "gzip": codec.has_gzip,
        "lz4": codec.has_lz4,
        "snappy": codec.has_snappy,
        "zstd": codec.has_zstd,
    }
    if wanted not in available:
        raise ValueError(f"unknown compression {wanted!r}: use auto, none, {', '.join(available)}")
    if not available[wanted]():
        raise ValueError(f"compression {wanted!r} needs its Python library installed (pip install {wanted})")
    return wanted


class KafkaPostProducer(AckingProducer):
    """Produces posts to one topic; at most `max_in_flight` unacknowledged posts are held in memory."""

    def __init__(self, config: ProducerConfig):
        from kafka import KafkaProducer
        from kafka.errors import KafkaError

        self.config = config
        self.metrics = ProducerMetrics()
        self._cond = threading.Condition()
        self._closed = False
        self._blocked: str | None = None  # why Kafka was given up on: later flushes fail at once
        options: dict[str, Any] = {
            "bootstrap_servers": config.bootstrap.split(","),
            "client_id": config.client_id,
            "acks": "all",
            "enable_idempotence": True,
            "compression_type": pick_compression(config.compression),
            "linger_ms": config.linger_ms,
            "retry_backoff_ms": config.retry_backoff_ms,
            "max_block_ms": int(config.block_timeout_s * 1000),
            "bootstrap_timeout_ms": int(config.connect_timeout_s * 1000),
            "delivery_timeout_ms": int(config.delivery_timeout_s * 1000),
            "request_timeout_ms": min(30_000, int(config.delivery_timeout_s * 1000) - config.linger_ms - 1),
            "reconnect_backoff_max_ms": 5_000,
            **config.extra,
        }
        try:
            self._producer = KafkaProducer(**options)
        except KafkaError as exc:
            raise ProducerUnavailable(
                f"cannot reach Kafka at {config.bootstrap} within {config.connect_timeout_s:g}s "
                f"({type(exc).__name__}: {exc}). Is the broker running (`sentimon stack up`) and is "
                "SENTIMON_KAFKA_BOOTSTRAP right?"
            ) from None

    def send(self, post: Post) -> Future[None]:
        """Queue one post; blocks while the in-flight buffer is full, then raises ProducerBlocked."""
        from kafka.errors import KafkaError, KafkaTimeoutError

        key, value = post.key.encode(), post.to_json()
        size = len(key) + len(value)
        self._reserve(size)
        done: Future[None] = Future()
        try:
            kafka_future = self._producer.send(self.config.topic, key=key, value=value)
        except KafkaTimeoutError as exc:
            self._release(size, ok=False)
            raise self._give_up(
                f"Kafka at {self.config.bootstrap} gave no metadata for topic {self.config.topic!r} within "
                f"{self.config.block_timeout_s:g}s ({exc}); is the broker up and does the topic exist?"
            ) from None
        except KafkaError as exc:
            self._release(size, ok=False)
            raise ProducerError(f"Kafka refused the post {post.key}: {exc}") from None
        kafka_future.add_callback(self._on_ack, size, done)
        kafka_future.add_errback(self._on_error, size, done, post.key)
        return done

    def _reserve(self, size: int) -> None:
        cfg = self.config
        with self._cond:
            if self._closed:
                raise ProducerError("the Kafka producer is closed")

            def has_room() -> bool:
                m = self.metrics
                fits = m.in_flight_bytes + size <= cfg.max_in_flight_bytes or m.in_flight == 0
                return m.in_flight < cfg.max_in_flight and fits

            if not self._cond.wait_for(has_room, timeout=cfg.block_timeout_s):
                self.metrics.blocked += 1
                raise self._give_up(
                    f"Kafka at {cfg.bootstrap} has not acknowledged {self.metrics.in_flight} posts "
                    f"({self.metrics.in_flight_bytes} bytes) for {cfg.block_timeout_s:g}s: it is slow or down"
                )
            self.metrics.in_flight += 1
            self.metrics.in_flight_bytes += size
            self.metrics.max_in_flight_seen = max(self.metrics.max_in_flight_seen, self.metrics.in_flight)

    def _give_up(self, reason: str) -> ProducerBlocked:
        self._blocked = reason
        return ProducerBlocked(reason)

    def _release(self, size: int, ok: bool) -> None:
        with self._cond:
            self.metrics.in_flight -= 1
            self.metrics.in_flight_bytes -= size
            if ok:
                self.metrics.sent += 1
                self.metrics.bytes += size
            else:
                self.metrics.failed += 1
            self._cond.notify_all()

    def _on_ack(self, size: int, done: Future[None], _metadata: Any) -> None:
        self._release(size, ok=True)
        done.set_result(None)

    def _on_error(self, size: int, done: Future[None], key: str, exc: BaseException) -> None:
        self._release(size, ok=False)
        log.error("Kafka did not take post %s (topic %s): %s", key, self.config.topic, exc)
        done.set_exception(ProducerError(f"Kafka did not take post {key}: {exc}"))

    def flush(self, timeout: float | None = None) -> None:
        """Wait for every acknowledgement, at most `timeout` and never longer than `block_timeout_s`
        without one acknowledgement; once Kafka was given up on, fail at once with that reason."""
        from kafka.errors import KafkaTimeoutError

        if self._blocked is not None and self.metrics.in_flight:
            raise ProducerBlocked(self._blocked)
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            sent = self.metrics.sent
            left = self.config.block_timeout_s if deadline is None else deadline - time.monotonic()
            try:
                self._producer.flush(timeout=max(0.0, min(left, self.config.block_timeout_s)))
                return
            except KafkaTimeoutError:
                stalled = self.metrics.sent == sent
                if stalled or (deadline is not None and time.monotonic() >= deadline):
                    waited = self.config.block_timeout_s if stalled else timeout
                    raise self._give_up(
                        f"Kafka at {self.config.bootstrap} has not acknowledged {self.metrics.in_flight} "
                        f"posts for {waited:g}s: it is slow or down"
                    ) from None

    def close(self, timeout: float | None = 10.0) -> None:
        """Flush what is buffered (bounded by `timeout`, none once Kafka was given up on), then close the
        connections. Never raises: closing must not hide the error that got us here."""
        from kafka.errors import KafkaError

        with self._cond:
            if self._closed:
                return
            self._closed = True
        wait = 0.0 if self._blocked is not None else timeout
        try:
            self._producer.close(timeout=wait)
        except KafkaError as exc:  # the flush inside close timed out: drop the unacknowledged posts
            log.warning("closing the Kafka producer: %s (%d posts not acknowledged, not saved in the cursor)",
                        exc, self.metrics.in_flight)  # fmt: skip
            sender = getattr(self._producer, "_sender", None)  # kafka-python skips its force close then
            if sender is not None:
                sender.force_close()
