"""Queries on per-topic window aggregates: atomic increments, latest windows, series with roll-ups."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, case, func, select

from sentimon.schema import WINDOW, WINDOW_SUMS, WindowAggregate, as_utc, rollup, window_start
from sentimon.storage.posts import has_topic, upsert_insert
from sentimon.storage.tables import posts, topic_windows, topics

_COUNTS = WINDOW_SUMS
_INTS = {"n", "n_neg", "n_neu", "n_pos"}
_REPS = ("top_neg_post", "top_neg_score", "top_pos_post", "top_pos_score")
tw = topic_windows


@dataclass(frozen=True, slots=True)
class WindowRow:
    """A stored window with the ids and scores of its most negative and most positive posts."""

    agg: WindowAggregate
    top_neg_post: int | None
    top_neg_score: float | None
    top_pos_post: int | None
    top_pos_score: float | None
    rev: int = 0  # changes applied so far (posts added, taken back or moved)


def _agg(r: Any) -> WindowAggregate:
    return WindowAggregate.from_sums(int(r.topic_id), r.window_start, r._mapping)


def _window_row(r: Any) -> WindowRow:
    return WindowRow(
        _agg(r), r.top_neg_post, r.top_neg_score, r.top_pos_post, r.top_pos_score, int(r.rev or 0)
    )


def existing_topic_ids(conn: Connection, topic_ids: Iterable[int]) -> set[int]:
    """Which of these topics still exist, locked against deletion until the transaction ends (Postgres)."""
    ids = sorted(set(topic_ids))
    if not ids:
        return set()
    query = select(topics.c.id).where(topics.c.id.in_(ids)).order_by(topics.c.id)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(key_share=True)
    return {int(i) for i in conn.execute(query).scalars()}


def add_increments(conn: Connection, increments: Sequence[dict[str, Any]]) -> list[WindowRow]:
    """Add increments to their windows (creating them), returning the windows' new totals.

    Each increment holds topic_id, window_start, the counts and sums (negative ones take posts back),
    `rev` (how many changes it makes; default n), and optionally top_neg_post / top_neg_score /
    top_pos_post / top_pos_score; a representative is replaced only by a higher score.
    Rows are written in key order so that concurrent workers lock windows in the same order.
    """
    if not increments:
        return []
    rows = sorted(
        (
            {
                "topic_id": int(inc["topic_id"]),
                "window_start": inc["window_start"],
                **{c: inc.get(c, 0) for c in _COUNTS},
                "rev": inc.get("rev", inc.get("n", 0)),
                **{c: inc.get(c) for c in _REPS},
            }
            for inc in increments
        ),
        key=lambda r: (r["topic_id"], r["window_start"]),
    )
    stmt = upsert_insert(conn, tw)
    ex = stmt.excluded
    better_neg = ex.top_neg_score > func.coalesce(tw.c.top_neg_score, -1.0)
    better_pos = ex.top_pos_score > func.coalesce(tw.c.top_pos_score, -1.0)
    stmt = stmt.on_conflict_do_update(
        index_elements=[tw.c.topic_id, tw.c.window_start],
        set_={
            **{c: tw.c[c] + ex[c] for c in _COUNTS},
            "rev": tw.c.rev + ex.rev,
            "top_neg_post": case((better_neg, ex.top_neg_post), else_=tw.c.top_neg_post),
            "top_neg_score": case((better_neg, ex.top_neg_score), else_=tw.c.top_neg_score),
            "top_pos_post": case((better_pos, ex.top_pos_post), else_=tw.c.top_pos_post),
            "top_pos_score": case((better_pos, ex.top_pos_score), else_=tw.c.top_pos_score),
        },
    ).returning(*tw.c)
    return [_window_row(r) for r in conn.execute(stmt, rows)]


def settle(conn: Connection, rows: Sequence[WindowRow], edited: set[int]) -> list[WindowRow]:
    """After posts were taken back (edited or deleted at the source): a window left with no post is
    set to exact zeros (what float sums kept of the posts taken back is rounding; the row stays, with
    its count of changes), and representatives that were one of the `edited` post rows are chosen
    again."""
    out: list[WindowRow] = []
    for row in rows:
        key = (tw.c.topic_id == row.agg.topic_id) & (tw.c.window_start == row.agg.window_start)
        if row.agg.n <= 0:
            empty = WindowAggregate(row.agg.topic_id, row.agg.window_start)
            values = {c: getattr(empty, c) for c in _COUNTS} | dict.fromkeys(_REPS)
            conn.execute(tw.update().where(key, tw.c.n <= 0).values(values))
            out.append(WindowRow(empty, None, None, None, None, row.rev))
            continue
        if {row.top_neg_post, row.top_pos_post} & edited:
            neg, pos = _best(conn, row.agg, posts.c.p_neg), _best(conn, row.agg, posts.c.p_pos)
            values = {"top_neg_post": neg[0], "top_neg_score": neg[1], "top_pos_post": pos[0],
                      "top_pos_score": pos[1]}  # fmt: skip
            conn.execute(tw.update().where(key).values(values))
            row = WindowRow(row.agg, *neg, *pos, row.rev)
        out.append(row)
    return out


def _best(conn: Connection, agg: WindowAggregate, score: Any) -> tuple[int | None, float | None]:
    """The window's live post with the highest `score` (ties: the smaller key), as (row id, score)."""
    query = (
        select(posts.c.id, score)
        .where(has_topic(conn, agg.topic_id), posts.c.deleted_at.is_(None))
        .where(posts.c.created_at >= agg.window_start, posts.c.created_at < agg.window_start + WINDOW)
        .order_by(score.desc(), posts.c.source, posts.c.post_id)
        .limit(1)
    )
    found = conn.execute(query).first()
    return (int(found[0]), float(found[1])) if found else (None, None)


def get_windows(
    conn: Connection,
    topic_id: int | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[WindowRow]:
    """Minute windows, by topic then time, optionally of one topic and within [start, end)."""
    query = select(tw)
    if topic_id is not None:
        query = query.where(tw.c.topic_id == topic_id)
    if start is not None:
        query = query.where(tw.c.window_start >= start)
    if end is not None:
        query = query.where(tw.c.window_start < end)
    return [_window_row(r) for r in conn.execute(query.order_by(tw.c.topic_id, tw.c.window_start))]


def latest_windows(conn: Connection, topic_ids: Iterable[int] | None = None) -> dict[int, WindowAggregate]:
    """The newest window of each topic (the live number when Redis is not around)."""
    newest = select(tw.c.topic_id, func.max(tw.c.window_start).label("ws")).group_by(tw.c.topic_id)
    if topic_ids is not None:
        newest = newest.where(tw.c.topic_id.in_(list(topic_ids)))
    sub = newest.subquery()
    query = select(tw).join(sub, and_(tw.c.topic_id == sub.c.topic_id, tw.c.window_start == sub.c.ws))
    return {int(r.topic_id): _agg(r) for r in conn.execute(query)}


def series(
    conn: Connection, topic_id: int, start: datetime, end: datetime, bucket: str = "1m"
) -> list[WindowAggregate]:
    """A topic's aggregates over [start, end), rolled up to `bucket` (1m, 5m, 1h or 1d); gaps omitted."""
    rows = get_windows(conn, topic_id, window_start(start, bucket), end)
    return rollup((r.agg for r in rows), bucket)


def totals(
    conn: Connection, start: datetime, end: datetime, topic_ids: Iterable[int] | None = None
) -> dict[int, WindowAggregate]:
    """Per-topic sums over [start, end): volume, counts per class and probability sums."""
    query = (
        select(tw.c.topic_id, *(func.sum(tw.c[c]).label(c) for c in _COUNTS))
        .where(tw.c.window_start >= start, tw.c.window_start < end)
        .group_by(tw.c.topic_id)
    )
    if topic_ids is not None:
        query = query.where(tw.c.topic_id.in_(list(topic_ids)))
    sums = (WindowAggregate.from_sums(int(r.topic_id), start, r._mapping) for r in conn.execute(query))
    return {agg.topic_id: agg for agg in sums}


def first_window(conn: Connection, topic_ids: Iterable[int]) -> datetime | None:
    """The oldest window of any of these topics (how far back their data goes)."""
    ids = list(topic_ids)
    if not ids:
        return None
    found = conn.execute(select(func.min(tw.c.window_start)).where(tw.c.topic_id.in_(ids))).scalar()
    return as_utc(found) if found is not None else None
