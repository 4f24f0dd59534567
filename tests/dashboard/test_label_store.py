"""The label store: labels with who/when, the count waiting for retraining, the uncertainty queue."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from dashboard_seed import add_post
from sqlalchemy import Engine

from sentimon.storage import labels
from sentimon.storage.db import make_engine, migrate
from sentimon.storage.topics import create_topic


@pytest.fixture
def engine(tmp_path) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path / 'labels.db'}"
    migrate(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


def test_add_label_records_who_and_replaces_own_earlier_label(engine: Engine) -> None:
    with engine.begin() as conn:
        first = labels.add_label(conn, "test", "1", "meh", "neutral", "ana")
        again = labels.add_label(conn, "test", "1", "meh", "negative", "ana")
        other = labels.add_label(conn, "test", "1", "meh", "positive", "bo")
        rows = labels.list_labels(conn)
    assert first == again != other
    assert {(r.labelled_by, r.label) for r in rows} == {("ana", "negative"), ("bo", "positive")}
    assert all(r.created_at.tzinfo is not None for r in rows)


def test_add_label_refuses_unknown_labels_and_anonymous_people(engine: Engine) -> None:
    with engine.begin() as conn, pytest.raises(ValueError, match="label must be one of"):
        labels.add_label(conn, "test", "1", "x", "angry", "ana")
    with engine.begin() as conn, pytest.raises(ValueError, match="labelled_by"):
        labels.add_label(conn, "test", "1", "x", "neutral", "  ")


def test_waiting_count_drops_once_a_model_used_the_labels(engine: Engine) -> None:
    with engine.begin() as conn:
        ids = [labels.add_label(conn, "test", str(i), "t", "neutral", "ana") for i in range(3)]
        assert labels.waiting_count(conn) == 3
        assert labels.mark_used(conn, "v2", ids[:2]) == 2
        assert labels.waiting_count(conn) == 1
        assert labels.counts_by_person(conn) == {"ana": 3}


def test_queue_puts_least_certain_first_and_skips_labelled_posts(engine: Engine) -> None:
    with engine.begin() as conn:
        topic = create_topic(conn, "acme", "acme")
        add_post(conn, "sure", (0.95, 0.03, 0.02), [topic])
        add_post(conn, "torn", (0.34, 0.33, 0.33), [topic])
        add_post(conn, "unsure", (0.5, 0.3, 0.2), [topic])
        done = add_post(conn, "labelled already", (0.34, 0.34, 0.32), [topic])
        old = datetime.now(UTC) - timedelta(days=30)
        add_post(conn, "too old", (0.34, 0.33, 0.33), [topic], created_at=old)
    with engine.begin() as conn:
        queue = labels.uncertainty_queue(conn, limit=10)
        done_item = next(i for i in queue if i.row_id == done)
        labels.add_label(conn, done_item.source, done_item.post_id, done_item.text, "neutral", "ana")
        after = labels.uncertainty_queue(conn, limit=10)
    assert [i.text for i in after] == ["torn", "unsure", "sure"]
    assert after[0].entropy > after[1].entropy > after[2].entropy


def test_queue_spreads_over_topics_and_filters_by_topic(engine: Engine) -> None:
    with engine.begin() as conn:
        busy = create_topic(conn, "busy", "busy")
        quiet = create_topic(conn, "quiet", "quiet")
        for i in range(5):
            add_post(conn, f"busy {i}", (0.34, 0.33, 0.33), [busy])
        add_post(conn, "quiet 0", (0.6, 0.2, 0.2), [quiet, busy])
        spread = labels.uncertainty_queue(conn, limit=2)
        only_quiet = labels.uncertainty_queue(conn, limit=10, topic_id=quiet)
        skipping = labels.uncertainty_queue(conn, limit=10, exclude=[spread[0].key])
    # Without spreading, the five more uncertain "busy" posts would fill the queue.
    assert sorted(i.text.split()[0] for i in spread) == ["busy", "quiet"]
    assert [i.text for i in only_quiet] == ["quiet 0"]
    assert spread[0].key not in {i.key for i in skipping}
    assert len(skipping) == 5
