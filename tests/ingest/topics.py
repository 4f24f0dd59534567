"""Reading back what the ingest tests produced: every message of a topic, up to its end offsets."""

from __future__ import annotations

import time

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
