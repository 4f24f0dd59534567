"""Fixtures for the ingest tests: Kafka producers on this test's raw topic, and a cursor store."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ingest.cursors import CursorStore


@pytest.fixture
def kafka_producer(kafka_topics) -> Iterator[Callable[..., object]]:  # type: ignore[no-untyped-def]
    """Factory of KafkaPostProducer on this test's raw topic; all closed afterwards."""
    from ingest.producer import KafkaPostProducer, ProducerConfig

    made: list[KafkaPostProducer] = []

    def make(**overrides: object) -> KafkaPostProducer:
        config = ProducerConfig(bootstrap=kafka_topics.bootstrap, topic=kafka_topics.raw)
        config.connect_timeout_s, config.block_timeout_s, config.linger_ms = 10, 10, 5
        for key, value in overrides.items():
            setattr(config, key, value)
        made.append(KafkaPostProducer(config))
        return made[-1]

    yield make
    for sink in made:
        sink.close(5)


@pytest.fixture
def store(tmp_path: Path) -> CursorStore:
    return CursorStore(tmp_path / "cursors", "test-source")
