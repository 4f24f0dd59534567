"""The Faust worker on the real stack: exact counts, model-true shares, duplicates once, DLQ, live rules."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
import redis

from sentimon.schema import Post
from sentimon.storage import dead_letters, posts, topics
from sentimon.storage.db import make_engine, migrate
from stream_processor.sinks.redis_live import read_latest
from tests.helpers import wait_until
from tests.stream_processor.worker_helpers import (
    assert_aggregates_exact,
    assert_verdicts_match_model,
    expected_windows,
    post_json,
    produce,
    read_topic,
    rewind_group,
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
        stored = assert_aggregates_exact(engine)
        assert_verdicts_match_model(classifier, stored, {ids[n]: r for n, r in RULES.items()})
        want = expected_windows(stored)
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


BAD = {
    b"this is not json": "not JSON",
    b'{"source": "test", "id": "b1", "text": 42}': "text",
    b'{"source": "test", "id": "b2", "text": "   "}': "text",
    b'{"source": "test", "id": "b3", "text": "' + b"x" * 1_000_000 + b'"}': "byte limit",
    b'{"source": "test", "id": "b4", "text": "caf\xe9 \xff"}': "UTF-8",
    b'{"source": "test", "id": "b5", "text": "nul \\u0000 here"}': "NUL",
    b"[1, 2, 3]": "JSON object",
    b'{"source": "Not Valid!", "id": "b6", "text": "ok"}': "source",
    b"": "empty",
}
_AT = b'"created_at": "2024-05-01T12:00:00Z"'
TRICKY_GOOD = [
    b'{"source": "test", "id": "g1", "text": "acme air unknown fields", "likes": 3, "nested": {"a": [1]}, '
    + _AT
    + b"}",
    b'{"source": "test", "id": "g2", "text": "Robert\'); DROP TABLE posts;-- #acmeair", ' + _AT + b"}",
    b'{"source": "test", "id": "g3", "text": "<script>alert(1)</script> nimbus <b>bold</b>", ' + _AT + b"}",
]


def test_duplicates_replays_and_bad_messages(
    service_env, kafka_topics, model_path, classifier, tmp_path
) -> None:
    """The same post twice, a re-produced slice and a rewound group all count once; bad messages go to
    the DLQ with reasons while the good ones around them are processed and the worker stays up."""
    env = {**service_env, "SENTIMON_MODEL_PATH": str(model_path)}
    engine, ids = _setup(env)
    good = [post_json(i, f"{TEXTS[i % len(TEXTS)]} #{i}", minute=i % 2) for i in range(60)]
    stream = [*good[:30], *BAD, good[0], good[0], *TRICKY_GOOD, *good[30:], *good[10:20]]
    distinct = [*good, *TRICKY_GOOD]
    worker = start_worker(env, tmp_path)
    try:
        produce(kafka_topics.bootstrap, kafka_topics.raw, stream)
        wait_until(lambda: stored_count(engine) == len(distinct), timeout=60, message="distinct posts stored")
        dlq = read_topic(kafka_topics.bootstrap, kafka_topics.dlq, len(BAD))
        reasons = {bytes(r.value): dict(r.headers)["reason"].decode() for r in dlq}
        for raw, words in BAD.items():
            if len(raw) < 256 * 1024:
                assert words in reasons[raw], f"{raw[:60]!r}: {reasons.get(raw)!r}"
        assert any("byte limit" in reason for reason in reasons.values())
        with engine.connect() as conn:
            assert dead_letters.count_dead_letters(conn) == len(BAD)
            kept = posts.get_post(conn, "test", "g2")
            assert kept is not None and kept.text.startswith("Robert'); DROP TABLE posts;--")
        log = worker.logs()
        assert '"msg":"dead letter: not JSON' in log and '"partition":' in log and '"offset":' in log
        assert worker.health()["status"] == "ok"
        worker.stop()
        rewind_group(kafka_topics.bootstrap, kafka_topics.raw, kafka_topics.group)
        worker = start_worker(env, tmp_path, "again")
        wait_until(lambda: _metric(worker, "sentimon_posts_in_total") >= len(stream), timeout=60,
                   message="the rewound stream re-read")  # fmt: skip
        assert stored_count(engine) == len(distinct)
        stored = assert_aggregates_exact(engine)
        assert {sp.post.key for sp in stored} == {Post.from_json(m).key for m in distinct}
        assert_verdicts_match_model(classifier, stored, {ids[n]: r for n, r in RULES.items()})
        with engine.connect() as conn:
            assert dead_letters.count_dead_letters(conn) == len(BAD)
    finally:
        worker.stop()
        engine.dispose()


def _metric(worker, name: str) -> float:  # type: ignore[no-untyped-def]
    for line in worker.metrics().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return 0.0


def test_rule_change_applies_to_new_posts_without_restart(
    service_env, kafka_topics, model_path, tmp_path
) -> None:
    env = {**service_env, "SENTIMON_MODEL_PATH": str(model_path)}
    engine, ids = _setup(env)
    texts = ["the bus is late again", "bus delayed by an hour", "bus on time today"]
    worker = start_worker(env, tmp_path)
    try:
        produce(
            kafka_topics.bootstrap, kafka_topics.raw, [post_json(i, texts[i % 3], minute=0) for i in range(9)]
        )
        wait_until(lambda: stored_count(engine) == 9, timeout=60, message="first posts stored")
        with engine.begin() as conn:
            topics.update_topic(conn, ids["late"], rule="bus AND (late OR delayed)")
            fingerprint = str(topics.rules_fingerprint(conn))
        wait_until(lambda: (worker.health() or {}).get("rules_fingerprint") == fingerprint, timeout=15,
                   message="the worker to load the changed rule")  # fmt: skip
        later = [post_json(100 + i, texts[i % 3], minute=1) for i in range(9)]
        produce(kafka_topics.bootstrap, kafka_topics.raw, later)
        wait_until(lambda: stored_count(engine) == 18, timeout=60, message="later posts stored")
        late = sorted(
            (start, v[0]) for (topic, start), v in window_table(engine).items() if topic == ids["late"]
        )
        assert [n for _, n in late] == [3, 6]  # the first minute by the old rule, the second by the new
        with engine.connect() as conn:
            assert ids["late"] not in posts.get_post(conn, "test", "1").topic_ids  # "delayed", before
            assert ids["late"] in posts.get_post(conn, "test", "101").topic_ids  # "delayed", after
    finally:
        worker.stop()
        engine.dispose()
