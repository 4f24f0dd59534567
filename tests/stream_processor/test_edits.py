"""Edits and deletions at the source: an update moves a post's votes to its new class and topics, a
deletion takes them out, each exactly once however often the stream is replayed; nobody sees a
deleted post."""

from __future__ import annotations

import queue
from pathlib import Path

import orjson
import pytest
import redis
from sqlalchemy import Engine, select

from sentimon.schema import WINDOW_SUMS, Post, ScoredPost
from sentimon.storage import posts, topics, windows
from sentimon.storage.db import make_engine, migrate
from sentimon.storage.tables import posts as posts_table
from stream_processor.batch import RawMessage
from stream_processor.embedded.runner import EmbeddedRunner
from stream_processor.options import ProcessOptions
from stream_processor.pipeline import Processor
from stream_processor.rulebook import RuleBook
from stream_processor.sinks.memory import MemoryLiveView
from stream_processor.sinks.redis_live import RedisLiveView, read_latest
from stream_processor.sinks.sql import SqlStore
from stream_processor.windows import aggregate
from tests.helpers import wait_until
from tests.stream_processor.worker_helpers import (
    T0,
    live_equals_db,
    post_json,
    produce,
    read_topic,
    rewind_group,
    start_worker,
)

RULES = {"acme": '"acme air" OR #acmeair', "phone": "nimbus OR $NMBS"}
STAYING = [
    "Terrible service from Acme Air, never again",
    "Really love my nimbus phone",
    "acme air lost my bag, awful",
    "nimbus battery died again",
]
EDITED = "Acme Air was awful today, stuck for hours"  # the post as first sent: acme, negative
NOW = "Great flight with acme air after all, and my nimbus phone worked the whole way"  # acme + phone


def _event(kind: str, text: str, version: str | None = None) -> bytes:
    metadata = {"event": kind, **({"version": version} if version else {})}
    at = T0.isoformat()
    return orjson.dumps({"source": "test", "id": "e", "text": text, "created_at": at, "metadata": metadata})


def _stream() -> tuple[list[bytes], list[bytes], list[bytes]]:
    """(the posts, the edit, the deletion) of one edited-then-deleted post among posts that stay."""
    originals = [post_json(i, text) for i, text in enumerate(STAYING)]
    first = orjson.loads(post_json(0, EDITED))
    originals.append(orjson.dumps({**first, "id": "e"}))
    return originals, [_event("update", NOW, "2")], [_event("delete", "[deleted]")]


def _topics(engine: Engine) -> dict[str, int]:
    with engine.begin() as conn:
        return {name: topics.create_topic(conn, name, rule) for name, rule in RULES.items()}


def _live_votes(engine: Engine) -> list[ScoredPost]:
    """The posts not deleted, with everything they added to their windows (corrected sums too)."""
    with engine.connect() as conn:
        rows = conn.execute(select(posts_table).where(posts_table.c.deleted_at.is_(None))).all()
    return [
        ScoredPost(Post.model_construct(source=r.source, id=r.post_id, text=r.text, created_at=r.created_at),
                   r.label, (r.p_neg, r.p_neu, r.p_pos), r.model_version, list(r.topic_ids), tuple(r.quant))
        for r in rows
    ]  # fmt: skip


def assert_windows_exact(engine: Engine) -> dict[tuple[int, object], windows.WindowRow]:
    """Every window holds exactly what its live posts add up to, every sum (the corrected ones too);
    a window whose posts are all gone holds zeros."""
    want = aggregate(_live_votes(engine))
    with engine.connect() as conn:
        got = {(r.agg.topic_id, r.agg.window_start): r for r in windows.get_windows(conn)}
    assert {k for k, r in got.items() if r.agg.n > 0} == set(want)
    for key, row in got.items():
        for name in WINDOW_SUMS:
            expected = getattr(want[key], name) if key in want else 0
            assert abs(getattr(row.agg, name) - expected) < 1e-9, (
                key,
                name,
                getattr(row.agg, name),
                expected,
            )
    return got


def _edited(engine: Engine) -> posts.PostRow | None:
    with engine.connect() as conn:
        return posts.get_post(conn, "test", "e")


def assert_deleted_and_hidden(engine: Engine, ids: dict[str, int]) -> None:
    with engine.connect() as conn:
        row = conn.execute(select(posts_table).where(posts_table.c.post_id == "e")).one()
        assert row.deleted_at is not None and row.text == "[deleted]"
        for topic_id in ids.values():
            shown = posts.recent_posts(conn, topic_id) + posts.top_posts(
                conn, topic_id, T0, T0.replace(year=3000)
            )
            shown += posts.top_posts(conn, topic_id, T0, T0.replace(year=3000), "positive")
            assert "e" not in {p.post_id for p in shown}
        assert "e" not in {p.post_id for p in posts.recent_posts(conn)}
        reps = {i for r in windows.get_windows(conn) for i in (r.top_neg_post, r.top_pos_post)}
        assert row.id not in reps


def _run(runner: EmbeddedRunner, q: queue.Queue, messages: list[bytes]) -> None:
    for m in messages:
        q.put(RawMessage(m))
    runner.options.until_n = len(messages)
    runner.run()


def test_update_then_delete_move_the_aggregates_once_in_the_embedded_runner(
    classifier, db_url: str, redis_db: str
) -> None:
    """The embedded runner on SQLite and on Postgres, with the Redis and in-memory live views."""
    engine = make_engine(db_url)
    ids = _topics(engine)
    memory, live = MemoryLiveView(), RedisLiveView.from_url(redis_db)
    processor = Processor(classifier, SqlStore(engine), [memory, live])
    q: queue.Queue = queue.Queue()
    runner = EmbeddedRunner(processor, RuleBook(engine), q, ProcessOptions(batch_size=4, latency_s=0.01))
    originals, update, delete = _stream()

    _run(runner, q, originals)
    before = _edited(engine)
    assert before is not None and before.topic_ids == (ids["acme"],)
    _run(runner, q, update)
    after = _edited(engine)
    assert after is not None and after.text == NOW and set(after.topic_ids) == set(ids.values())
    assert_windows_exact(engine)
    _run(runner, q, delete)
    got = assert_windows_exact(engine)
    assert_deleted_and_hidden(engine, ids)
    for size in (16, 2):  # the whole stream again, twice: in one batch, then in several
        runner.options.batch_size = size
        _run(runner, q, [*originals, *update, *delete])
        assert assert_windows_exact(engine) == got
    assert_deleted_and_hidden(engine, ids)
    client = redis.Redis.from_url(redis_db)
    for topic_id in ids.values():
        newest = max((k for k in got if k[0] == topic_id), key=lambda k: k[1])
        assert memory.latest(topic_id).n == got[newest].agg.n  # type: ignore[union-attr]
        assert read_latest(client, topic_id).n == got[newest].agg.n  # type: ignore[union-attr]
    engine.dispose()


@pytest.mark.slow
def test_update_then_delete_through_kafka_and_the_worker_replayed_twice(
    service_env, kafka_topics, model_path, tmp_path: Path
) -> None:
    env = {**service_env, "SENTIMON_MODEL_PATH": str(model_path)}
    migrate(env["SENTIMON_DATABASE_URL"])
    engine = make_engine(env["SENTIMON_DATABASE_URL"])
    ids = _topics(engine)
    originals, update, delete = _stream()
    client = redis.Redis.from_url(env["SENTIMON_REDIS_URL"])
    worker = start_worker(env, tmp_path)
    try:
        produce(kafka_topics.bootstrap, kafka_topics.raw, originals)
        wait_until(lambda: _edited(engine) is not None, timeout=60, message="the post stored")
        produce(kafka_topics.bootstrap, kafka_topics.raw, update)
        wait_until(lambda: _edited(engine).text == NOW, timeout=60, message="the edit applied")  # type: ignore[union-attr]
        assert_windows_exact(engine)
        produce(kafka_topics.bootstrap, kafka_topics.raw, delete)
        wait_until(lambda: _edited(engine) is None or _edited(engine).text == "[deleted]", timeout=60,
                   message="the deletion applied")  # fmt: skip
        got = assert_windows_exact(engine)
        wait_until(lambda: live_equals_db(engine, client), timeout=20, message="Redis to agree")
        downstream = read_topic(kafka_topics.bootstrap, kafka_topics.scored, len(originals) + 2)
        events = [
            orjson.loads(r.value)["post"]["metadata"].get("event") for r in downstream if r.key == b"test:e"
        ]
        assert events[-2:] == ["update", "delete"], "the edit and the deletion go down posts.scored"
        for run in ("again", "and-again"):
            worker.stop()
            rewind_group(kafka_topics.bootstrap, kafka_topics.raw, kafka_topics.group)
            worker = start_worker(env, tmp_path, run)
            total = len(originals) + len(update) + len(delete)
            wait_until(lambda: _taken(worker) >= total, timeout=60, message="the stream re-read")  # noqa: B023
            assert assert_windows_exact(engine) == got
            wait_until(lambda: live_equals_db(engine, client), timeout=20, message="Redis to agree")
        assert_deleted_and_hidden(engine, ids)
    finally:
        worker.stop()
        engine.dispose()


def _taken(worker) -> float:  # type: ignore[no-untyped-def]
    for line in worker.metrics().splitlines():
        if line.startswith("sentimon_posts_in_total "):
            return float(line.split()[1])
    return 0.0
