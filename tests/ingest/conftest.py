"""Fixtures for the ingest tests: a Kafka producer on this test's topic, and a topic reader."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ingest.cursors import CursorStore
from sentimon.schema import Post


def read_topic(bootstrap: str, topic: str, timeout: float = 15.0) -> list[tuple[str, Post]]:
    """Every message now in the topic, as (key, post), by reading up to the end offsets."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        total = sum(consumer.end_offsets(partitions).values())
        records: list[tuple[str, Post]] = []
        deadline = time.monotonic() + timeout
        while len(records) < total:
            assert time.monotonic() < deadline, f"read {len(records)} of {total} messages in {timeout}s"
            for batch in consumer.poll(timeout_ms=500).values():
                records += [(r.key.decode(), Post.from_json(r.value)) for r in batch]
        return records
    finally:
        consumer.close()


@pytest.fixture
def kafka_sink(kafka_topics) -> Iterator[Callable[..., object]]:  # type: ignore[no-untyped-def]
    """Factory of KafkaSinks on this test's raw topic; all closed afterwards."""
    from ingest.producer import KafkaSink, ProducerConfig

    made: list[KafkaSink] = []

    def make(**overrides: object) -> KafkaSink:
        config = ProducerConfig(bootstrap=kafka_topics.bootstrap, topic=kafka_topics.raw)
        config.connect_timeout_s, config.block_timeout_s, config.linger_ms = 10, 10, 5
        for key, value in overrides.items():
            setattr(config, key, value)
        made.append(KafkaSink(config))
        return made[-1]

    yield make
    for sink in made:
        sink.close(5)


@pytest.fixture
def store(tmp_path: Path) -> CursorStore:
    return CursorStore(tmp_path / "cursors", "test-source")
