"""One contract, every sink: staged until flush, replays change nothing, an outage keeps what was staged."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy import Engine

from sentimon.retry import ServiceUnavailable
from sentimon.schema import Post, ScoredPost
from sentimon.storage import topics, windows
from sentimon.storage.db import make_engine, migrate
from stream_processor.sinks.base import AggregateSink, Batch
from stream_processor.sinks.memory import MemoryLiveView
from stream_processor.sinks.redis_live import RedisLiveView, read_latest
from stream_processor.sinks.sql import SqlStore
from stream_processor.windows import WindowState, aggregate

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


@dataclass
class Harness:
    """How to feed one implementation, read what it holds, and cut it off from its backend."""

    sink: AggregateSink
    topic_ids: list[int]
    read: Callable[[int], tuple[int, int] | None]  # topic -> (n of its newest window, n_neg) or None
    cut: Callable[[], None] | None
    restore: Callable[[], None] | None
    absolute: bool  # live views take window totals; the store takes scored posts

    def batch(self, posts: list[ScoredPost], seen: list[ScoredPost]) -> Batch:
        if not self.absolute:
            return Batch(scored=posts)
        unique = {p.post.key: p for p in [*seen, *posts]}
        return Batch(windows=list(aggregate(unique.values()).values()))


def _sql(url: str) -> Iterator[Harness]:
    migrate(url)
    engine = make_engine(url)
    with engine.begin() as conn:
        ids = [topics.create_topic(conn, "a", "a"), topics.create_topic(conn, "b", "b")]
    store = SqlStore(engine)
    broken = make_engine(_unreachable(url))

    def read(topic_id: int) -> tuple[int, int] | None:
        with engine.connect() as conn:
            w = windows.latest_windows(conn, [topic_id]).get(topic_id)
        return (w.n, w.n_neg) if w else None

    def cut() -> None:
        store.engine = broken

    def restore() -> None:
        store.engine = engine

    yield Harness(store, ids, read, cut, restore, absolute=False)
    engine.dispose()


def _unreachable(url: str) -> str:
    if url.startswith("sqlite"):
        return "sqlite:////nonexistent-folder/never/sentimon.db"
    return "postgresql+psycopg://nobody@127.0.0.1:9/none?connect_timeout=2"


def _redis(url: str) -> Harness:
    client = redis.Redis.from_url(url)
    view = RedisLiveView(client)
    dead = redis.Redis(host="127.0.0.1", port=9, socket_connect_timeout=1, retry=Retry(NoBackoff(), 0))

    def read(topic_id: int) -> tuple[int, int] | None:
        w = read_latest(client, topic_id)
        return (w.n, w.n_neg) if w else None

    return Harness(view, [1, 2], read, lambda: view.use(dead), lambda: view.use(client), absolute=True)


def _memory() -> Harness:
    view = MemoryLiveView()

    def read(topic_id: int) -> tuple[int, int] | None:
        w = view.latest(topic_id)
        return (w.n, w.n_neg) if w else None

    return Harness(view, [1, 2], read, None, None, absolute=True)


@pytest.fixture(params=["sql-sqlite", "sql-postgres", "redis", "memory"])
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    if request.param == "sql-sqlite":
        yield from _sql(f"sqlite:///{tmp_path / 's.db'}")
    elif request.param == "sql-postgres":
        yield from _sql(request.getfixturevalue("pg_url"))
    elif request.param == "redis":
        yield _redis(request.getfixturevalue("redis_db"))
    else:
        yield _memory()


def _posts(h: Harness, first: int, count: int, minute: int = 0) -> list[ScoredPost]:
    a, b = h.topic_ids
    out = []
    for i in range(first, first + count):
        neg = i % 3 == 0
        probs = (0.8, 0.1, 0.1) if neg else (0.1, 0.2, 0.7)
        at = T0 + timedelta(minutes=minute, seconds=i % 60)
        post = Post(source="c", id=str(i), text=f"post {i}", created_at=at)
        out.append(ScoredPost(post, "negative" if neg else "positive", probs, "v", [a] if i % 2 else [a, b]))
    return out


def _expect(posts: list[ScoredPost], topic_id: int) -> tuple[int, int]:
    newest = max(p.post.created_at.replace(second=0) for p in posts if topic_id in p.topics)
    mine = [p for p in posts if topic_id in p.topics and p.post.created_at.replace(second=0) == newest]
    return len(mine), sum(p.label == "negative" for p in mine)


def test_nothing_is_visible_before_flush_and_everything_after(harness: Harness) -> None:
    posts = _posts(harness, 0, 10)
    harness.sink.add(harness.batch(posts, []))
    assert harness.read(harness.topic_ids[0]) is None
    assert harness.sink.pending() > 0
    changed = harness.sink.flush()
    assert harness.sink.pending() == 0
    for topic_id in harness.topic_ids:
        assert harness.read(topic_id) == _expect(posts, topic_id)
    assert {(w.topic_id, w.n) for w in changed} == {(t, _expect(posts, t)[0]) for t in harness.topic_ids}
    assert all(isinstance(w, WindowState) for w in changed)


def test_replaying_flushed_input_changes_nothing(harness: Harness) -> None:
    first = _posts(harness, 0, 8)
    harness.sink.add(harness.batch(first, []))
    harness.sink.flush()
    second = _posts(harness, 8, 4)
    harness.sink.add(harness.batch([*first[:5], *second], first))  # a replayed partition, then new posts
    harness.sink.add(harness.batch(first[5:], [*first, *second]))
    harness.sink.flush()
    everything = [*first, *second]
    for topic_id in harness.topic_ids:
        assert harness.read(topic_id) == _expect(everything, topic_id)
    harness.sink.add(harness.batch(everything, everything))
    assert harness.sink.flush() == []


def test_a_newer_window_becomes_the_latest(harness: Harness) -> None:
    old, new = _posts(harness, 0, 4, minute=0), _posts(harness, 100, 3, minute=1)
    harness.sink.add(harness.batch(old, []))
    harness.sink.flush()
    harness.sink.add(harness.batch(new, old))
    harness.sink.flush()
    assert harness.read(harness.topic_ids[0]) == _expect([*old, *new], harness.topic_ids[0])


def test_outage_keeps_staged_input_and_a_later_flush_applies_it_once(harness: Harness) -> None:
    if harness.cut is None or harness.restore is None:
        pytest.skip("the in-memory view has no backend that can fail")
    posts = _posts(harness, 0, 6)
    harness.sink.add(harness.batch(posts[:3], []))
    harness.sink.flush()
    harness.cut()
    harness.sink.add(harness.batch(posts[3:], posts[:3]))
    with pytest.raises(ServiceUnavailable):
        harness.sink.flush()
    assert harness.sink.pending() > 0
    harness.restore()
    harness.sink.flush()
    harness.sink.flush()
    for topic_id in harness.topic_ids:
        assert harness.read(topic_id) == _expect(posts, topic_id)


def test_sql_store_counts_dead_letters_and_duplicates(tmp_path: Path) -> None:
    from stream_processor.batch import DeadLetter

    url = f"sqlite:///{tmp_path / 'd.db'}"
    migrate(url)
    engine: Engine = make_engine(url)
    store = SqlStore(engine)
    post = ScoredPost(Post(source="c", id="1", text="x", created_at=T0), "neutral", (0.2, 0.6, 0.2), "v", [])
    store.add(Batch(scored=[post, post], dead=[DeadLetter("not JSON", b"{", "raw/0/7")]))
    store.flush()
    assert (store.last_inserted, store.last_duplicates, store.last_dead) == (1, 1, 1)
    store.add(Batch(scored=[post], dead=[DeadLetter("not JSON", b"{", "raw/0/7")]))
    store.flush()
    assert (store.last_inserted, store.last_duplicates, store.last_dead) == (0, 1, 0)
    engine.dispose()
