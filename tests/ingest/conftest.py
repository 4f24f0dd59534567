"""Fixtures for the ingest tests: Kafka producers on this test's raw topic, and a cursor store."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ingest.cursors import CursorStore


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
