"""Fuzzing the validation, encoding and storage path on the real Postgres: JSON of every shape, depth
and size either becomes a stored post or a dead letter, and the processing step never raises."""

from __future__ import annotations

import itertools
import json

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sentimon.storage import dead_letters, posts
from sentimon.storage.db import make_engine, migrate
from stream_processor.batch import RawMessage
from stream_processor.pipeline import Processor
from stream_processor.sinks.sql import SqlStore

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
    st.text(max_size=8), inner, max_size=4), max_leaves=30)  # fmt: skip
stamps = st.sampled_from(["2024-05-01T10:00:00Z", "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00",
                          "2024-05-01T10:00:00", "1970-01-01T00:00:00Z", "soon", 1.7e9, 10**30])  # fmt: skip


@st.composite
def messages(draw: st.DrawFn) -> bytes:
    """A message of any shape: mostly post-like objects with hostile fields, sometimes anything at all."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(max_size=64) | values.map(_dumps))
    message: dict[str, object] = {
        "source": draw(st.sampled_from(["test", "rss", "Bad Source", ""])),
        "id": draw(st.text(min_size=1, max_size=8) | st.integers()),
        "text": draw(st.text(max_size=60) | values),
    }
    for name in draw(st.sets(st.sampled_from(["created_at", "metadata", "url", "author", "lang"]))):
        message[name] = draw(stamps) if name == "created_at" else draw(values)
    message.update(draw(st.dictionaries(st.text(max_size=6), values, max_size=3)))
    raw = _dumps(message)
    depth = draw(st.sampled_from([0, 0, 5, 40, 300, 1000]))
    if depth and raw.endswith(b"}"):
        raw = raw[:-1] + (b", " if len(message) else b"") + b'"deep": ' + b"[" * depth + b"]" * depth + b"}"
    return raw


def _dumps(value: object) -> bytes:
    try:
        return orjson.dumps(value)
    except TypeError:  # what orjson refuses (ints beyond 64 bits, surrogates), json may still write
        return json.dumps(value).encode()


@pytest.mark.slow
def test_every_message_is_stored_or_dead_lettered_and_the_step_never_raises(pg_url: str, classifier) -> None:
    migrate(pg_url)
    engine = make_engine(pg_url)
    processor = Processor(classifier, SqlStore(engine))
    offsets = itertools.count()
    stored: set[str] = set()
    dead = 0

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(messages(), min_size=1, max_size=6))
    def step(batch: list[bytes]) -> None:
        nonlocal dead
        raw = [RawMessage(value, f"fuzz/0/{next(offsets)}") for value in batch]
        result, _ = processor.compute(raw)
        processor.commit(result)
        assert len(result.scored) + len(result.dead) + result.duplicates == len(raw)
        assert all(d.reason for d in result.dead)
        assert set(result.encoded) >= {sp.post.key for sp in result.scored}
        stored.update(sp.post.key for sp in result.scored)
        dead += len(result.dead)
        with engine.connect() as conn:
            assert posts.count_posts(conn) == len(stored)
            assert dead_letters.count_dead_letters(conn) == dead

    try:
        step()
    finally:
        engine.dispose()
