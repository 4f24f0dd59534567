"""Scale-out on the real stack: two Faust workers share the partitions of one topic; one is stopped
mid-stream, the other takes over its partitions, and every distinct post is counted exactly once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from sentimon.schema import Post
from sentimon.storage import topics
from sentimon.storage.db import make_engine, migrate
from tests.helpers import wait_until
from tests.stream_processor.worker_helpers import (
    RULES,
    TEXTS,
    assert_aggregates_exact,
    assert_verdicts_match_model,
    post_json,
    produce,
    start_worker,
    stored_count,
)

pytestmark = pytest.mark.slow


def _posts(start: int, count: int) -> list[bytes]:
    return [post_json(i, f"{TEXTS[i % len(TEXTS)]} {i}", minute=i % 3) for i in range(start, start + count)]


def _posts_in(worker) -> float:  # type: ignore[no-untyped-def]
    for line in worker.metrics().splitlines():
        if line.startswith("sentimon_posts_in_total "):
            return float(line.split()[1])
    return 0.0


def _group_members(bootstrap: str, group: str) -> int:
    from kafka import KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="scale-out-test")
    try:
        info = admin.describe_groups([group]).get(group, {})
    finally:
        admin.close()
    return len(info.get("members", [])) if info.get("group_state") == "Stable" else 0


def test_two_workers_share_partitions_and_one_leaves_mid_stream(
    service_env, kafka_topics, model_path, classifier, tmp_path: Path
) -> None:
    env = {**service_env, "SENTIMON_MODEL_PATH": str(model_path)}
    migrate(env["SENTIMON_DATABASE_URL"])
    engine = make_engine(env["SENTIMON_DATABASE_URL"])
    with engine.begin() as conn:
        ids = {name: topics.create_topic(conn, name, rule) for name, rule in RULES.items()}
    with ThreadPoolExecutor(2) as pool:  # both load the model at once: half the start-up time
        a, b = pool.map(lambda name: start_worker(env, tmp_path, name, batch=20, latency_ms=50), ["a", "b"])
    bootstrap, group = kafka_topics.bootstrap, kafka_topics.group
    try:
        wait_until(lambda: _group_members(bootstrap, group) == 2, timeout=60, message="a group of two")
        first = _posts(0, 200)
        produce(bootstrap, kafka_topics.raw, first)
        wait_until(lambda: stored_count(engine) == 200, timeout=60, message="the first 200 posts stored")
        shares = _posts_in(a), _posts_in(b)
        assert min(shares) > 0 and sum(shares) == 200, f"both workers take part: {shares}"

        # Mid-stream: new posts (and re-sent old ones) are waiting in a's partitions when it stops.
        second = _posts(200, 300)
        produce(bootstrap, kafka_topics.raw, [*second, *first[:40]])
        a.stop()
        assert a.proc.returncode == 0, a.logs()[-2000:]
        wait_until(lambda: _group_members(bootstrap, group) == 1, timeout=60, message="b alone in the group")
        third = _posts(500, 100)  # keyed over every partition: b must now own all of them
        produce(bootstrap, kafka_topics.raw, third)
        wait_until(lambda: stored_count(engine) == 600, timeout=90, message="all 600 distinct posts stored")
        stored = assert_aggregates_exact(engine)
        assert sorted(sp.post.key for sp in stored) == sorted(
            Post.from_json(m).key for m in first + second + third
        )
        assert_verdicts_match_model(classifier, stored, {ids[n]: r for n, r in RULES.items()})
        assert _posts_in(b) >= shares[1] + 100
        assert b.health()["status"] == "ok"
    finally:
        a.stop()
        b.stop()
        engine.dispose()
