"""Faults on the real stack: a worker SIGKILLed mid-stream, Postgres restarted, Redis stopped — the
aggregates still equal the distinct input exactly, nothing lost and nothing doubled."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis

from infra.postgres import create_database, start_postgres, stop_postgres
from infra.redis_server import start_redis, stop_redis
from sentimon.schema import Post
from sentimon.storage import topics, windows
from sentimon.storage.db import make_engine, migrate
from stream_processor.sinks.redis_live import read_latest
from tests.helpers import wait_until
from tests.stream_processor.worker_helpers import (
    RULES,
    TEXTS,
    assert_aggregates_exact,
    assert_verdicts_match_model,
    live_equals_db,
    post_json,
    produce,
    start_worker,
    stored_count,
)

pytestmark = pytest.mark.slow


def _messages(count: int, minutes: int = 3) -> list[bytes]:
    return [post_json(i, f"{TEXTS[i % len(TEXTS)]} {i}", minute=i % minutes) for i in range(count)]


def _setup(url: str):  # type: ignore[no-untyped-def]
    migrate(url)
    engine = make_engine(url)
    with engine.begin() as conn:
        ids = {name: topics.create_topic(conn, name, rule) for name, rule in RULES.items()}
    return engine, ids


def _check(engine, classifier, ids: dict[str, int], messages: list[bytes]) -> None:  # type: ignore[no-untyped-def]
    """Every distinct input post stored once, counted once, with the model's verdict."""
    stored = assert_aggregates_exact(engine)
    assert {sp.post.key for sp in stored} == {Post.from_json(m).key for m in messages}
    assert_verdicts_match_model(classifier, stored, {ids[n]: r for n, r in RULES.items()})


def _latest_is(live: redis.Redis, topic_id: int, want) -> bool:  # type: ignore[no-untyped-def]
    got = read_latest(live, topic_id)
    return got is not None and (got.window_start, got.n) == (want.window_start, want.n)


def _metric(worker, name: str) -> float:  # type: ignore[no-untyped-def]
    for line in worker.metrics().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return 0.0


def test_worker_killed_mid_stream_then_restarted_counts_exactly(
    service_env, kafka_topics, model_path, classifier, tmp_path: Path
) -> None:
    env = {**service_env, "SENTIMON_MODEL_PATH": str(model_path)}
    engine, ids = _setup(env["SENTIMON_DATABASE_URL"])
    messages = _messages(1500)
    # Offsets are committed rarely, so the restarted worker re-reads what the killed one had stored.
    worker = start_worker(env, tmp_path, "first", batch=10, extra=("--commit-interval", "60"))
    try:
        produce(kafka_topics.bootstrap, kafka_topics.raw, messages)
        wait_until(lambda: stored_count(engine) >= 150, timeout=60, message="the stream to be under way")
        worker.kill()
        at_kill = stored_count(engine)
        assert at_kill < len(messages), "the worker finished before it could be killed mid-stream"
        worker = start_worker(env, tmp_path, "second", batch=50)
        wait_until(lambda: stored_count(engine) == len(messages), timeout=90, message="every post stored")
        _check(engine, classifier, ids, messages)
        wait_until(lambda: _metric(worker, "sentimon_posts_in_total") >= len(messages), timeout=30)
        assert _metric(worker, "sentimon_posts_duplicate_total") >= at_kill  # replayed, skipped
    finally:
        worker.stop()
        engine.dispose()


def test_postgres_stopped_and_restarted_mid_stream(
    service_env, kafka_topics, model_path, classifier, private_postgres, tmp_path: Path
) -> None:
    pg = private_postgres()
    url = create_database(pg, "faults")
    env = {**service_env, "SENTIMON_DATABASE_URL": url, "SENTIMON_MODEL_PATH": str(model_path)}
    engine, ids = _setup(url)
    messages = _messages(1200)
    worker = start_worker(env, tmp_path, batch=10)
    try:
        produce(kafka_topics.bootstrap, kafka_topics.raw, messages)
        wait_until(lambda: stored_count(engine) >= 100, timeout=60, message="the stream to be under way")
        engine.dispose()
        stop_postgres(pg)
        wait_until(lambda: (worker.health() or {}).get("status") == "degraded", timeout=30,
                   message="the worker to notice the database is gone")  # fmt: skip
        start_postgres(pg.home, pg.port)
        wait_until(lambda: stored_count(engine) == len(messages), timeout=120, message="every post stored",
                   ignore=(Exception,))  # fmt: skip
        _check(engine, classifier, ids, messages)
        assert worker.health()["status"] == "ok"
    finally:
        worker.stop()
        engine.dispose()


def test_redis_stopped_processing_goes_on_and_live_view_catches_up(
    service_env, kafka_topics, model_path, classifier, private_redis, tmp_path: Path
) -> None:
    server = private_redis()
    env = {**service_env, "SENTIMON_REDIS_URL": server.url, "SENTIMON_MODEL_PATH": str(model_path)}
    engine, ids = _setup(env["SENTIMON_DATABASE_URL"])
    first, later = (
        _messages(600, minutes=2),
        [post_json(5000 + i, f"acme air {i}", minute=5) for i in range(20)],
    )
    worker = start_worker(env, tmp_path, batch=10)
    try:
        produce(kafka_topics.bootstrap, kafka_topics.raw, first)
        wait_until(lambda: stored_count(engine) >= 60, timeout=60, message="the stream to be under way")
        stop_redis(server)
        wait_until(lambda: stored_count(engine) == len(first), timeout=90, message="processing without Redis")
        assert (worker.health() or {}).get("live_ok") is False
        start_redis(server.home, server.port)
        produce(kafka_topics.bootstrap, kafka_topics.raw, later)
        wait_until(lambda: stored_count(engine) == len(first) + len(later), timeout=60)
        _check(engine, classifier, ids, [*first, *later])
        live = redis.Redis.from_url(server.url)
        with engine.connect() as conn:
            latest = windows.latest_windows(conn)
        for topic_id, agg in latest.items():  # the live view may lag the database by moments, no more
            wait_until(lambda t=topic_id, a=agg: _latest_is(live, t, a), timeout=10, message="latest")
        # and the windows finished before the outage too: Redis restarted empty is refilled
        wait_until(
            lambda: live_equals_db(engine, live), timeout=10, message="the live series to equal the DB"
        )
        wait_until(lambda: (worker.health() or {}).get("live_ok") is True, timeout=10)
    finally:
        worker.stop()
        engine.dispose()
