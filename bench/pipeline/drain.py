"""The broker alone: consume a topic as the worker's Kafka client does (aiokafka, a consumer group),
with no processing. `python -m bench.pipeline.drain BOOTSTRAP TOPIC GROUP N` prints "ready"
once it holds its partitions, then one JSON line of (time, count) marks when N messages were read."""

from __future__ import annotations

import asyncio
import sys
import time

import orjson


async def drain(
    bootstrap: str, topic: str, group: str, n: int, timeout_s: float = 600.0
) -> list[list[float]]:
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=True,
    )
    await consumer.start()
    marks: list[list[float]] = []
    try:
        while not consumer.assignment():
            await consumer.getmany(timeout_ms=100)
        print("ready", flush=True)
        count, deadline = 0, time.monotonic() + timeout_s
        while count < n and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=200, max_records=10_000)
            got = sum(len(records) for records in batches.values())
            if got:
                count += got
                marks.append([time.time(), count])
    finally:
        await consumer.stop()
    return marks


def main(argv: list[str]) -> None:
    bootstrap, topic, group, n = argv[0], argv[1], argv[2], int(argv[3])
    marks = asyncio.run(drain(bootstrap, topic, group, n))
    sys.stdout.write(orjson.dumps({"marks": marks}).decode() + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
