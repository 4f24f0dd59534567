"""Produce the bench posts to Kafka as the ingest producer does (keyed, acks=all), paced or flat out."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

from bench.pipeline.workload import encode, key

TICK_S = 0.005  # paced sending wakes this often and sends what is due: no sleep per message


def make_producer(bootstrap: str) -> Any:
    """A kafka-python producer with the ingest adapters' delivery settings and compression."""
    from kafka import KafkaProducer

    from ingest.producer import ProducerConfig, pick_compression

    cfg = ProducerConfig(bootstrap=bootstrap)
    return KafkaProducer(
        bootstrap_servers=bootstrap.split(","),
        acks="all",
        enable_idempotence=True,
        compression_type=pick_compression(cfg.compression),
        linger_ms=cfg.linger_ms,
        batch_size=256 * 1024,
        max_request_size=2 * 1024 * 1024,
    )


class Feeder(threading.Thread):
    """Sends `posts` to `topic` at `rate` per second (None: as fast as possible), each stamped with
    its send time; `sent` counts what was handed to the producer, `done` is set after the final flush."""

    def __init__(self, bootstrap: str, topic: str, posts: Sequence[dict[str, Any]], rate: float | None):
        super().__init__(name="bench-feeder", daemon=True)
        self.bootstrap, self.topic, self.posts, self.rate = bootstrap, topic, posts, rate
        self.sent = 0
        self.sent_at: list[float] = []
        self.started = 0.0
        self.finished = 0.0
        self.error: BaseException | None = None
        self.done = threading.Event()

    def run(self) -> None:
        try:
            self._run()
        except BaseException as exc:  # reported by the caller, never lost in a thread
            self.error = exc
        finally:
            self.done.set()

    def _run(self) -> None:
        producer = make_producer(self.bootstrap)
        send, topic, posts = producer.send, self.topic, self.posts
        self.started = time.time()
        while self.sent < len(posts):
            now = time.time()
            due = len(posts) if not self.rate else min(len(posts), int((now - self.started) * self.rate) + 1)
            if due <= self.sent:
                time.sleep(TICK_S)
                continue
            for post in posts[self.sent : due]:
                now = time.time()
                send(topic, key=key(post), value=encode(post, now))
                self.sent_at.append(now)
                self.sent += 1
        producer.flush(timeout=120)
        self.finished = time.time()
        producer.close(timeout=10)
