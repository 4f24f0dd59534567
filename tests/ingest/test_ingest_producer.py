"""The Kafka producer against a real broker: keys, compression, metrics, and a broker that is down."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections import defaultdict
from pathlib import Path

import httpx
import pytest

from infra.kafka.broker import ensure_topics
from infra.procs import free_port
from ingest.http_endpoint import EndpointConfig, make_app
from ingest.post_producer import ProducerBlocked, ProducerUnavailable
from ingest.producer import KafkaPostProducer, ProducerConfig, pick_compression
from sentimon.schema import Post
from tests.helpers import wait_until
from tests.ingest.servers import serve
from tests.ingest.topics import read_topic


def posts(n: int, source: str = "test") -> list[Post]:
    return [Post(source=source, id=str(i), text=f"post {i} about the launch") for i in range(n)]


def test_posts_arrive_keyed_compressed_and_counted(kafka_producer, kafka_topics):
    sink: KafkaPostProducer = kafka_producer(compression="gzip")
    batch = posts(30)
    futures = [sink.send(p) for p in batch + batch[:5]]  # the same keys again
    for future in futures:
        future.result(timeout=15)
    records = read_topic(kafka_topics.bootstrap, kafka_topics.raw)
    assert sorted(k for k, _ in records) == sorted(p.key for p in batch + batch[:5])
    assert all(post.key == key for key, post in records)
    m = sink.metrics
    assert (m.sent, m.failed, m.in_flight) == (35, 0, 0)
    assert m.bytes == sum(len(p.key) + len(p.to_json()) for p in batch + batch[:5])


def test_one_key_always_lands_on_one_partition(kafka_producer, kafka_topics):
    from kafka import KafkaConsumer, TopicPartition

    sink = kafka_producer()
    for _ in range(3):
        for p in posts(12):
            sink.send(p)
    sink.flush(15)
    consumer = KafkaConsumer(bootstrap_servers=kafka_topics.bootstrap, enable_auto_commit=False)
    partitions_of: dict[bytes, set[int]] = defaultdict(set)
    tps = [TopicPartition(kafka_topics.raw, p) for p in range(kafka_topics.partitions)]
    consumer.assign(tps)
    consumer.seek_to_beginning(*tps)
    deadline = time.monotonic() + 15
    seen = 0
    while seen < 36 and time.monotonic() < deadline:
        for tp, batch in consumer.poll(timeout_ms=500).items():
            seen += len(batch)
            for record in batch:
                partitions_of[record.key].add(tp.partition)
    consumer.close()
    assert seen == 36
    assert all(len(parts) == 1 for parts in partitions_of.values())
    assert len({next(iter(p)) for p in partitions_of.values()}) > 1  # keys spread over partitions


def test_nothing_listening_is_a_clear_error_within_the_connect_timeout():
    port = free_port()
    started = time.monotonic()
    with pytest.raises(ProducerUnavailable, match=f"cannot reach Kafka at 127.0.0.1:{port} within 2s"):
        KafkaPostProducer(ProducerConfig(bootstrap=f"127.0.0.1:{port}", connect_timeout_s=2))
    assert time.monotonic() - started < 10


def test_compression_choice():
    assert pick_compression("auto") in ("lz4", "gzip")
    assert pick_compression("none") is None
    with pytest.raises(ValueError, match="unknown compression"):
        pick_compression("brotli")


def process_state(pid: int) -> str:
    """The one-letter state in /proc/<pid>/stat (T: stopped by a signal)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat.rsplit(")", 1)[1].split()[0]


def post_while_hung(sink: KafkaPostProducer) -> httpx.Response:
    """The HTTP endpoint in front of a full buffer answers 503 with Retry-After instead of hanging."""

    async def main() -> httpx.Response:
        app = make_app(sink, EndpointConfig(token="t", ack_timeout_s=3))
        async with serve(app) as url, httpx.AsyncClient(base_url=url, timeout=20) as client:
            response = await client.post(
                "/v1/posts", json={"id": "h", "text": "hi"}, headers={"Authorization": "Bearer t"}
            )
            assert response.headers["Retry-After"] == "5" and "retry later" in response.json()["error"]
            return response

    return asyncio.run(main())


def test_a_hung_broker_blocks_senders_with_a_bounded_buffer_then_recovers(private_kafka):
    """SIGSTOP freezes the broker: at most max_in_flight posts wait in memory, the next send raises
    after block_timeout; once the broker runs again everything buffered is delivered once."""
    broker = private_kafka()
    ensure_topics(broker.url, {"posts.raw": 2})
    config = ProducerConfig(bootstrap=broker.url, max_in_flight=5, block_timeout_s=1.5, linger_ms=0)
    sink = KafkaPostProducer(config)
    try:
        sink.send(posts(1, "warm")[0]).result(timeout=15)  # metadata and connections are up
        pid = broker.pid()
        assert pid is not None
        os.kill(pid, signal.SIGSTOP)
        try:
            wait_until(lambda: process_state(pid) == "T", 5, message="the broker to stop")
            futures = [sink.send(p) for p in posts(5)]
            started = time.monotonic()
            with pytest.raises(ProducerBlocked, match="has not acknowledged 5 posts"):
                sink.send(posts(6)[5])
                pytest.fail(f"send did not block: {sink.metrics}, state {process_state(pid)}")
            assert 1.4 <= time.monotonic() - started < 5
            assert sink.metrics.in_flight == 5 and sink.metrics.max_in_flight_seen == 5
            assert not any(f.done() for f in futures)
            assert post_while_hung(sink).status_code == 503
        finally:
            os.kill(pid, signal.SIGCONT)
        for future in futures:
            future.result(timeout=30)
        assert sink.metrics.sent == 6 and sink.metrics.failed == 0 and sink.metrics.blocked == 2
    finally:
        sink.close(10)
    assert sorted(k for k, _ in read_topic(broker.url, "posts.raw")) == sorted(
        ["warm:0"] + [f"test:{i}" for i in range(5)]
    )


def test_a_broker_that_stops_answering_mid_ingest_ends_it_with_one_clear_message_and_an_exact_cursor(
    private_kafka, tmp_path: Path
):
    """The broker freezes (SIGSTOP) mid-replay: ingest exits 2 within --kafka-timeout of the last
    acknowledgement it could wait for, with the promised message and no traceback; a rerun once the
    broker is back sends exactly what was not acknowledged, so Kafka ends up with every post."""
    import subprocess
    import sys

    from tests.ingest.test_file_replay import ROOT, ingest, write_jsonl

    broker = private_kafka()
    ensure_topics(broker.url, {"posts.raw": 2})
    data = tmp_path / "posts.jsonl"
    write_jsonl(data, 0, 1000)  # one post a second: ten seconds at --speed 100
    env = {"SENTIMON_KAFKA_BOOTSTRAP": broker.url, "SENTIMON_TOPIC_RAW": "posts.raw",
           "SENTIMON_DATA_DIR": str(tmp_path / "var")}  # fmt: skip
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SENTIMON_")}
    args = [sys.executable, "-m", "ingest", "--kafka-timeout", "3", "file", str(data), "--speed", "100"]
    proc = subprocess.Popen(args, cwd=ROOT, env={**clean, **env}, stderr=subprocess.PIPE, text=True)
    pid = broker.pid()
    assert pid is not None
    try:
        wait_until(lambda: len(read_topic(broker.url, "posts.raw")) >= 100, 30, interval=0.5,
                   message="the replay to be under way")  # fmt: skip
        os.kill(pid, signal.SIGSTOP)
        stopped = time.monotonic()
        _, err = proc.communicate(timeout=60)
        took = time.monotonic() - stopped
    finally:
        os.kill(pid, signal.SIGCONT)
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 2, err
    assert "ingest stopped:" in err and "has not acknowledged" in err and "for 3s: it is slow or down" in err
    assert "Traceback" not in err, err[-3000:]
    assert took < 25, f"took {took:.0f}s to stop"
    rerun = ingest("--kafka-timeout", "10", "file", str(data), env=env)
    assert rerun.returncode == 0, rerun.stderr
    assert sorted({int(p.id) for _, p in read_topic(broker.url, "posts.raw")}) == list(range(1000))
