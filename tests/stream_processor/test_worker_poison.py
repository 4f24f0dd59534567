"""No message stalls a worker and health tells the truth, on the real stack: poison messages alone in
their batch and among good posts are dead-lettered; a stuck stage shows in /health and SIGTERM still
stops the worker; a flushed Redis is refilled from Postgres; a paused Redis costs bounded throughput."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx
import orjson
import pytest
import redis

from infra.postgres import create_database, stop_postgres
from infra.procs import live_pid
from sentimon.schema import Post
from sentimon.storage import dead_letters, topics
from sentimon.storage.db import make_engine, migrate
from tests.helpers import wait_until
from tests.stream_processor.worker_helpers import (
    RULES,
    TEXTS,
    assert_aggregates_exact,
    live_equals_db,
    post_json,
    produce,
    read_topic,
    start_worker,
    stored_count,
)

pytestmark = pytest.mark.slow


def _deep(post_id: str, depth: int) -> bytes:
    """An unknown field nested `depth` levels deep (written by hand: encoders refuse such depths)."""
    head = orjson.dumps({"source": "test", "id": post_id, "text": f"deep acme air {post_id}"})[:-1]
    return head + b', "extra": ' + b'{"x": ' * depth + b"1" + b"}" * depth + b"}"


def _poisons(tag: str) -> dict[bytes, str]:
    """The messages that stalled a worker for good, each with a word of the reason it must carry."""
    base = {"source": "test", "text": "acme air poison"}
    return {
        orjson.dumps({**base, "id": f"{tag}-t", "created_at": "9999-12-31T23:59:59-14:00"}): "out of range",
        orjson.dumps({**base, "id": f"{tag}-m", "metadata": 5, "likes": 3}): "metadata must be a JSON object",
        _deep(f"{tag}-d1000", 1000): "nested deeper than",
        _deep(f"{tag}-d300", 300): "nested deeper than",
    }


def _setup(url: str):  # type: ignore[no-untyped-def]
    migrate(url)
    engine = make_engine(url)
    with engine.begin() as conn:
        ids = {name: topics.create_topic(conn, name, rule) for name, rule in RULES.items()}
    return engine, ids


def _good(start: int, count: int, minutes: int = 2) -> list[bytes]:
    return [
        post_json(i, f"{TEXTS[i % len(TEXTS)]} {i}", minute=i % minutes) for i in range(start, start + count)
    ]


def _dead_count(engine) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return dead_letters.count_dead_letters(conn)


def test_poison_messages_alone_and_among_good_posts_are_dead_lettered_and_the_worker_stays_healthy(
    service_env, kafka_topics, model_path, tmp_path: Path
) -> None:
    env = {**service_env, "SENTIMON_MODEL_PATH": str(model_path)}
    engine, _ = _setup(env["SENTIMON_DATABASE_URL"])
    alone, mixed = _poisons("alone"), _poisons("mixed")
    good = _good(0, 60)
    worker = start_worker(env, tmp_path, batch=20)
    try:
        for n, raw in enumerate(alone, start=1):  # each alone in its batch: the next waits for its letter
            produce(kafka_topics.bootstrap, kafka_topics.raw, [raw])
            wait_until(lambda n=n: _dead_count(engine) == n, timeout=30, message=f"poison {n} dead-lettered")
        stream = [*good[:25], *mixed, *good[25:]]
        produce(kafka_topics.bootstrap, kafka_topics.raw, stream)
        wait_until(lambda: stored_count(engine) == len(good), timeout=60, message="every good post stored")
        wait_until(lambda: _dead_count(engine) == len(alone) + len(mixed), timeout=30)
        records = read_topic(kafka_topics.bootstrap, kafka_topics.dlq, len(alone) + len(mixed))
        reasons = {bytes(r.value): dict(r.headers)["reason"].decode() for r in records}
        for raw, words in {**alone, **mixed}.items():
            assert words in reasons[raw], f"{raw[:60]!r}: {reasons.get(raw)!r}"
        stored = assert_aggregates_exact(engine)
        assert {sp.post.key for sp in stored} == {Post.from_json(m).key for m in good}
        health = worker.health()
        assert health is not None and health["status"] == "ok" and health["retrying"] == []
    finally:
        worker.stop()
        engine.dispose()


def test_health_says_stalled_while_the_commit_retries_and_sigterm_still_stops_the_worker(
    service_env, kafka_topics, model_path, private_postgres, tmp_path: Path
) -> None:
    pg = private_postgres()
    url = create_database(pg, "stall")
    env = {**service_env, "SENTIMON_DATABASE_URL": url, "SENTIMON_MODEL_PATH": str(model_path)}
    engine, _ = _setup(url)
    worker = start_worker(env, tmp_path, batch=10, extra=("--stall-after", "3", "--stop-timeout", "5"))
    try:
        produce(kafka_topics.bootstrap, kafka_topics.raw, _good(0, 30))
        wait_until(lambda: stored_count(engine) == 30, timeout=60, message="the first posts stored")
        assert worker.health()["status"] == "ok"
        engine.dispose()
        stop_postgres(pg)
        produce(kafka_topics.bootstrap, kafka_topics.raw, _good(100, 30))
        body = wait_until(lambda: _stalled(worker), timeout=30, message="/health to say stalled")
        assert [r["stage"] for r in body["retrying"]] == ["commit"] and body["retrying"][0]["since"]
        assert "commit retrying since" in body["reason"] and body["oldest_unacked_s"] >= 3
        assert "sentimon_oldest_unacked_seconds" in worker.metrics()
        began = time.monotonic()
        worker.proc.send_signal(signal.SIGTERM)
        worker.proc.wait(timeout=15)
        assert time.monotonic() - began < 12, "SIGTERM took too long"
    finally:
        worker.stop()
        engine.dispose()


def _stalled(worker) -> dict | None:  # type: ignore[no-untyped-def]
    try:
        reply = httpx.get(f"http://127.0.0.1:{worker.port}/health", timeout=2.0)
    except httpx.HTTPError:
        return None
    body = reply.json()
    return body if reply.status_code == 503 and body["status"] == "stalled" else None


def test_a_flushed_redis_is_refilled_from_postgres_within_seconds(
    service_env, kafka_topics, model_path, tmp_path: Path
) -> None:
    env = {**service_env, "SENTIMON_MODEL_PATH": str(model_path)}
    engine, _ = _setup(env["SENTIMON_DATABASE_URL"])
    client = redis.Redis.from_url(env["SENTIMON_REDIS_URL"])
    worker = start_worker(env, tmp_path, batch=20, extra=("--heal-every", "1"))
    try:
        produce(kafka_topics.bootstrap, kafka_topics.raw, _good(0, 200, minutes=4))
        wait_until(lambda: stored_count(engine) == 200, timeout=60, message="the first posts stored")
        wait_until(lambda: live_equals_db(engine, client), timeout=15, message="the live view to agree")
        client.flushdb()
        later = [post_json(1000 + i, f"acme air again {i}", minute=6) for i in range(20)]
        produce(kafka_topics.bootstrap, kafka_topics.raw, later)
        wait_until(lambda: stored_count(engine) == 220, timeout=60, message="the later posts stored")
        wait_until(lambda: live_equals_db(engine, client), timeout=10, message="Redis refilled from Postgres")
    finally:
        worker.stop()
        engine.dispose()
        client.close()


def test_a_paused_redis_keeps_throughput_above_half(
    service_env, kafka_topics, model_path, private_redis, tmp_path: Path
) -> None:
    server = private_redis()
    env = {**service_env, "SENTIMON_REDIS_URL": server.url, "SENTIMON_MODEL_PATH": str(model_path)}
    engine, _ = _setup(env["SENTIMON_DATABASE_URL"])
    worker = start_worker(env, tmp_path, batch=20)
    pid = live_pid(server.pidfile, server.process)
    assert pid is not None
    try:
        produce(kafka_topics.bootstrap, kafka_topics.raw, _good(0, 100))  # warm up
        wait_until(lambda: stored_count(engine) == 100, timeout=60)
        healthy = _seconds_to_store(engine, kafka_topics, _good(1000, 1500, minutes=5), 1600)
        os.kill(pid, signal.SIGSTOP)
        try:
            paused = _seconds_to_store(engine, kafka_topics, _good(5000, 1500, minutes=5), 3100)
        finally:
            os.kill(pid, signal.SIGCONT)
        assert paused < 2 * healthy, f"{paused:.1f}s with Redis paused vs {healthy:.1f}s healthy"
    finally:
        worker.stop()
        engine.dispose()


def _seconds_to_store(engine, kafka_topics, messages: list[bytes], total: int) -> float:  # type: ignore[no-untyped-def]
    began = time.monotonic()
    produce(kafka_topics.bootstrap, kafka_topics.raw, messages)
    wait_until(lambda: stored_count(engine) == total, timeout=120, message=f"{total} posts stored")
    return time.monotonic() - began
