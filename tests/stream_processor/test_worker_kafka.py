"""The Faust worker on the real stack: exact counts, model-true shares, duplicates once, DLQ, live rules."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
import redis

from sentimon.schema import Post, ScoredPost
from sentimon.storage import topics
from sentimon.storage.db import make_engine, migrate
from stream_processor.matcher import TopicMatcher
from stream_processor.sinks.redis_live import read_latest
from tests.helpers import wait_until
from tests.stream_processor.worker_helpers import (
    assert_windows_equal,
    expected_windows,
    post_json,
    produce,
    read_topic,
    start_worker,
    stored_count,
    window_table,
)

pytestmark = pytest.mark.slow
RULES = {"acme": '"acme air" OR #acmeair -hiring', "phone": "nimbus OR $NMBS", "late": "bus AND late"}
TEXTS = [
    "Terrible service from Acme Air, never again",
    "Really love my nimbus phone, best purchase",
    "the bus is late again and I am so frustrated",
    "#AcmeAir is hiring pilots",
    "Great flight with acme air today, thank you",
    "$NMBS up 4% after earnings",
    "Coffee first, then everything else",
    "nimbus and acme air both down? awful",
]


def _setup(env: dict[str, str]):  # type: ignore[no-untyped-def]
    migrate(env["SENTIMON_DATABASE_URL"])
    engine = make_engine(env["SENTIMON_DATABASE_URL"])
    with engine.begin() as conn:
        ids = {name: topics.create_topic(conn, name, rule) for name, rule in RULES.items()}
    return engine, ids


def _scored(classifier, ids: dict[str, int], messages: list[bytes]) -> list[ScoredPost]:  # type: ignore[no-untyped-def]
    """What the aggregates must be made of: the same model's verdicts on the distinct valid posts."""
    matcher = TopicMatcher.from_rules({ids[n]: r for n, r in RULES.items()})
    unique = {p.key: p for p in (Post.from_json(m) for m in messages)}
    posts = list(unique.values())
    preds = classifier.classify([p.text for p in posts])
    return [
        ScoredPost(p, lab, pr, "x", matcher.match(p.text)) for p, (lab, pr) in zip(posts, preds, strict=True)
    ]


def test_posts_in_aggregates_out_exact_counts_and_model_shares(
    service_env, kafka_topics, model_path, classifier, tmp_path: Path
) -> None:
    env = {**service_env, "SENTIMON_MODEL_PATH": str(model_path)}
    engine, ids = _setup(env)
    messages = [post_json(i, f"{TEXTS[i % len(TEXTS)]} #{i}", minute=i % 3) for i in range(120)]
    worker = start_worker(env, tmp_path)
    try:
        produce(kafka_topics.bootstrap, kafka_topics.raw, messages)
        wait_until(lambda: stored_count(engine) == 120, timeout=60, message="120 posts stored")
        want = expected_windows(_scored(classifier, ids, messages))
        assert_windows_equal(window_table(engine), want)
        scored = read_topic(kafka_topics.bootstrap, kafka_topics.scored, 120)
        assert {orjson.loads(r.value)["post"]["id"] for r in scored} == {str(i) for i in range(120)}
        live = redis.Redis.from_url(env["SENTIMON_REDIS_URL"])
        acme = wait_until(lambda: read_latest(live, ids["acme"]), timeout=10)
        newest = max(k for k in want if k[0] == ids["acme"])
        assert (acme.window_start, acme.n) == (newest[1], want[newest][0])
        assert "sentimon_posts_scored_total 120.0" in worker.metrics()
        assert worker.health()["status"] == "ok"
    finally:
        worker.stop()
        engine.dispose()
