"""Post, window and dead-letter queries behave the same on SQLite and on the real Postgres."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from sentimon.schema import Post, ScoredPost
from sentimon.storage import dead_letters, posts, topics, windows

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def _sp(pid: str, probs: tuple[float, float, float], topic_ids: list[int], at: datetime = T0) -> ScoredPost:
    label = ("negative", "neutral", "positive")[max(range(3), key=lambda i: probs[i])]
    return ScoredPost(
        Post(source="s", id=pid, text=f"post {pid}", created_at=at), label, probs, "v1", topic_ids
    )


def _inc(topic_id: int, start: datetime, n: int, neg: float, top: int | None = None) -> dict:
    counts = {"n": n, "n_neg": n, "n_neu": 0, "n_pos": 0, "sum_neg": neg, "sum_neu": 0.0, "sum_pos": 0.0}
    return {
        "topic_id": topic_id,
        "window_start": start,
        **counts,
        "top_neg_post": top,
        "top_neg_score": neg / n,
    }


def test_insert_scored_returns_only_new_rows(engine: Engine) -> None:
    with engine.begin() as conn:
        first = posts.insert_scored(conn, [_sp("1", (0.8, 0.1, 0.1), []), _sp("2", (0.1, 0.1, 0.8), [])])
        again = posts.insert_scored(conn, [_sp("2", (0.1, 0.1, 0.8), []), _sp("3", (0.3, 0.4, 0.3), [])])
        assert set(first) == {"s:1", "s:2"} and set(again) == {"s:3"}
        assert posts.count_posts(conn) == 3
        assert sorted(p.label for p in posts.recent_posts(conn)) == ["negative", "neutral", "positive"]


def test_increments_add_up_and_keep_the_best_representative(engine: Engine) -> None:
    with engine.begin() as conn:
        tid = topics.create_topic(conn, "acme", "acme")
        ids = posts.insert_scored(
            conn, [_sp("1", (0.6, 0.2, 0.2), [tid]), _sp("2", (0.9, 0.05, 0.05), [tid])]
        )
        windows.add_increments(conn, [_inc(tid, T0, 1, 0.6, ids["s:1"])])
        rows = windows.add_increments(
            conn, [_inc(tid, T0, 1, 0.9, ids["s:2"]), _inc(tid, T0 + timedelta(minutes=1), 2, 1.0)]
        )
        by_start = {r.agg.window_start: r for r in rows}
        assert by_start[T0].agg.n == 2 and abs(by_start[T0].agg.sum_neg - 1.5) < 1e-9
        assert by_start[T0].top_neg_post == ids["s:2"]
        windows.add_increments(conn, [_inc(tid, T0, 1, 0.1, ids["s:1"])])
        assert windows.get_windows(conn, tid)[0].top_neg_post == ids["s:2"]


def test_reads_latest_series_rollup_totals(engine: Engine) -> None:
    with engine.begin() as conn:
        a = topics.create_topic(conn, "a", "a")
        b = topics.create_topic(conn, "b", "b")
        windows.add_increments(conn, [_inc(a, T0 + timedelta(minutes=m), 2, 1.0) for m in range(0, 130, 10)])
        windows.add_increments(conn, [_inc(b, T0, 5, 4.0)])
    with engine.connect() as conn:
        latest = windows.latest_windows(conn)
        assert latest[a].window_start == T0 + timedelta(minutes=120) and latest[b].n == 5
        minutes = windows.series(conn, a, T0, T0 + timedelta(hours=3))
        assert len(minutes) == 13
        hourly = windows.series(conn, a, T0 + timedelta(minutes=5), T0 + timedelta(hours=3), "1h")
        assert [(h.window_start, h.n) for h in hourly] == [
            (T0, 12),
            (T0 + timedelta(hours=1), 12),
            (T0 + timedelta(hours=2), 2),
        ]
        daily = windows.series(conn, a, T0, T0 + timedelta(days=1), "1d")
        assert len(daily) == 1 and daily[0].n == 26 and daily[0].window_start == T0.replace(hour=0)
        totals = windows.totals(conn, T0, T0 + timedelta(minutes=30))
        assert totals[a].n == 6 and totals[b].n == 5 and abs(totals[b].sum_neg / totals[b].n - 0.8) < 1e-9


def test_deleted_topics_are_filtered_out(engine: Engine) -> None:
    with engine.begin() as conn:
        a = topics.create_topic(conn, "a", "a")
        assert windows.existing_topic_ids(conn, [a, a + 100]) == {a}


def test_post_reads_by_topic_label_text_and_range(engine: Engine) -> None:
    with engine.begin() as conn:
        a = topics.create_topic(conn, "a", "a")
        b = topics.create_topic(conn, "b", "b")
        posts.insert_scored(conn, [
            _sp("1", (0.9, 0.05, 0.05), [a], T0),
            _sp("2", (0.7, 0.2, 0.1), [a, b], T0 + timedelta(minutes=1)),
            _sp("3", (0.1, 0.1, 0.8), [b], T0 + timedelta(minutes=2)),
        ])  # fmt: skip
    with engine.connect() as conn:
        assert [p.post_id for p in posts.recent_posts(conn, a)] == ["2", "1"]
        assert [p.post_id for p in posts.recent_posts(conn, b, label="positive")] == ["3"]
        assert [p.post_id for p in posts.recent_posts(conn, contains="POST 3")] == ["3"]
        assert [p.post_id for p in posts.recent_posts(conn, since=T0 + timedelta(minutes=1))] == ["3", "2"]
        assert [p.post_id for p in posts.top_posts(conn, a, T0, T0 + timedelta(hours=1))] == ["1", "2"]
        assert [p.post_id for p in posts.top_posts(conn, b, T0, T0 + timedelta(hours=1), "positive")] == [
            "3",
            "2",
        ]
        row = posts.get_post(conn, "s", "2")
        assert row is not None and row.topic_ids == (a, b) and row.created_at == T0 + timedelta(minutes=1)


def test_dead_letters_from_one_origin_are_stored_once(engine: Engine) -> None:
    with engine.begin() as conn:
        assert dead_letters.insert_dead_letters(conn, [("bad", b"\xff", "raw/0/1"), ("bad", b"x", None)]) == 2
        assert (
            dead_letters.insert_dead_letters(conn, [("bad", b"\xff", "raw/0/1"), ("worse", b"y", "raw/0/2")])
            == 1
        )
    with engine.connect() as conn:
        assert dead_letters.count_dead_letters(conn) == 3
        latest = dead_letters.recent_dead_letters(conn, 1)[0]
        assert (latest.reason, latest.raw, latest.origin) == ("worse", b"y", "raw/0/2")
