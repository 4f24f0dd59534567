"""Queries on scored posts: idempotent inserts keyed by (source, post id), and the reads pages need."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, exists, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.elements import ColumnElement

from sentimon.schema import Post, ScoredPost, as_utc
from sentimon.sentiment import LABELS
from sentimon.storage.db import record, topic_id_tuple, utc
from sentimon.storage.tables import posts


@dataclass(frozen=True, slots=True)
class PostRow:
    """A stored scored post, as pages show it."""

    id: int
    source: str
    post_id: str
    text: str
    author: str | None
    url: str | None
    created_at: datetime
    label: str
    p_neg: float
    p_neu: float
    p_pos: float
    model_version: str
    topic_ids: tuple[int, ...]

    @property
    def key(self) -> str:
        return f"{self.source}:{self.post_id}"


def upsert_insert(conn: Connection, table: Any) -> Any:
    """The dialect's INSERT that supports ON CONFLICT (Postgres and SQLite spell it the same way)."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    if conn.dialect.name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"no upsert for {conn.dialect.name}")


def _row(sp: ScoredPost) -> dict[str, Any]:
    post = sp.post
    return {
        "source": post.source,
        "post_id": post.id,
        "text": post.text,
        "author": post.author,
        "url": post.url,
        "lang": post.lang,
        "created_at": post.created_at,
        "label": sp.label,
        "p_neg": sp.probs[0],
        "p_neu": sp.probs[1],
        "p_pos": sp.probs[2],
        "model_version": sp.model_version,
        "topic_ids": list(sp.topics),
        "meta": post.metadata,
        "quant": list(sp.quant),
        "version": post.version,
    }


def insert_scored(conn: Connection, scored: Sequence[ScoredPost]) -> dict[str, int]:
    """Insert posts not stored yet; returns {"source:id": row id} for the rows really inserted.

    Duplicates (same source and post id) are skipped by the unique key, so replays change nothing.
    """
    if not scored:
        return {}
    if conn.dialect.name == "postgresql":
        return _insert_scored_unnest(conn, scored)
    stmt = (
        upsert_insert(conn, posts)
        .on_conflict_do_nothing(index_elements=[posts.c.source, posts.c.post_id])
        .returning(posts.c.id, posts.c.source, posts.c.post_id)
    )
    result = conn.execute(stmt, [_row(sp) for sp in scored])
    return {f"{r.source}:{r.post_id}": int(r.id) for r in result}


# Postgres: one statement whose parameters are one array per column, whatever the batch size. A
# multi-row VALUES list is a new query text for every batch size, which the driver parses again
# each time (a tenth of a worker's CPU in the profile); this text never changes.
_ARRAY_TYPES = {
    "source": "varchar",
    "post_id": "varchar",
    "text": "text",
    "author": "varchar",
    "url": "varchar",
    "lang": "varchar",
    "created_at": "timestamptz",
    "label": "varchar",
    "p_neg": "float8",
    "p_neu": "float8",
    "p_pos": "float8",
    "model_version": "varchar",
    "topic_ids": "json",
    "meta": "json",
    "quant": "json",
    "version": "varchar",
}
_UNNEST_INSERT = (
    f"INSERT INTO {posts.name} ({', '.join(_ARRAY_TYPES)}) "
    f"SELECT * FROM unnest({', '.join(f'%({c})s::{t}[]' for c, t in _ARRAY_TYPES.items())}) "
    "ON CONFLICT (source, post_id) DO NOTHING RETURNING id, source, post_id"
)


def _insert_scored_unnest(conn: Connection, scored: Sequence[ScoredPost]) -> dict[str, int]:
    columns: dict[str, list[Any]] = {c: [] for c in _ARRAY_TYPES}
    for sp in scored:
        row = _row(sp)
        row["topic_ids"], row["meta"], row["quant"] = (
            _json(row["topic_ids"]),
            _json(row["meta"]),
            _json(row["quant"]),
        )
        for c, values in columns.items():
            values.append(row[c])
    result = conn.exec_driver_sql(_UNNEST_INSERT, columns)
    return {f"{source}:{post_id}": int(row_id) for row_id, source, post_id in result}


@dataclass(frozen=True, slots=True)
class StoredVote:
    """What a stored post added to its windows (its verdict, topics, time and corrected sums), read
    back to take it out again; `quant` is None for posts stored before edits were honoured."""

    row_id: int
    scored: ScoredPost
    has_quant: bool


def replace_scored(conn: Connection, sp: ScoredPost) -> StoredVote | None:
    """An edit at the source: store the post's new text and verdict (its time stays the first one)
    and return what the old version had added, or None when nothing changes: no such post, a
    deleted one, or this version (or text) already stored, as after a replay. The row is locked
    until the transaction ends, so the caller moves its windows exactly once."""
    old = _live_row(conn, sp.post.source, sp.post.id)
    if old is None or old.text == sp.post.text or (sp.post.version and old.version == sp.post.version):
        return None
    new = {k: v for k, v in _row(sp).items() if k not in ("source", "post_id", "created_at")}
    conn.execute(posts.update().where(posts.c.id == old.id).values(**new, scored_at=func.now()))
    return _vote(old)


def mark_deleted(conn: Connection, source: str, post_id: str, text: str) -> StoredVote | None:
    """A deletion at the source: mark the post deleted (its text, author and link replaced) and
    return what it had added to its windows, or None if it is unknown or already deleted."""
    old = _live_row(conn, source, post_id)
    if old is None:
        return None
    gone = {"deleted_at": func.now(), "text": text, "author": None, "url": None}
    conn.execute(posts.update().where(posts.c.id == old.id).values(gone))
    return _vote(old)


def _live_row(conn: Connection, source: str, post_id: str) -> Any:
    query = select(posts).where(
        posts.c.source == source, posts.c.post_id == post_id, posts.c.deleted_at.is_(None)
    )
    return conn.execute(query.with_for_update()).first()


def _vote(r: Any) -> StoredVote:
    post = Post.model_construct(source=r.source, id=r.post_id, text=r.text, created_at=utc(r.created_at))
    quant = tuple(float(q) for q in r.quant) if r.quant is not None else ()
    scored = ScoredPost(post, r.label, (float(r.p_neg), float(r.p_neu), float(r.p_pos)), r.model_version,
                        [int(t) for t in (r.topic_ids or [])], quant)  # fmt: skip
    return StoredVote(int(r.id), scored, r.quant is not None)


def _json(value: Any) -> str:
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # what orjson refuses (ints beyond 64 bits…), the standard library may still write
        return json.dumps(value)


def posts_by_row(conn: Connection, row_ids: Sequence[int]) -> dict[int, tuple[str, str, str]]:
    """{row id: (source, post id, text)} of stored posts, e.g. the representatives of some windows."""
    if not row_ids:
        return {}
    query = select(posts.c.id, posts.c.source, posts.c.post_id, posts.c.text).where(posts.c.id.in_(row_ids))
    return {int(r.id): (r.source, r.post_id, r.text) for r in conn.execute(query)}


def has_topic(conn: Connection, topic_id: int) -> ColumnElement[bool]:
    """A filter on posts that matched `topic_id` (their JSON list of topic ids), per backend."""
    if conn.dialect.name == "postgresql":
        return posts.c.topic_ids.cast(postgresql.JSONB).contains([int(topic_id)])
    each = func.json_each(posts.c.topic_ids).table_valued("value")
    return exists().select_from(each).where(each.c.value == int(topic_id))


def post_row(r: Any) -> PostRow:
    """A stored post from a row of the posts table."""
    return record(
        PostRow, r, id=int(r.id), created_at=as_utc(r.created_at), topic_ids=topic_id_tuple(r.topic_ids),
        p_neg=float(r.p_neg), p_neu=float(r.p_neu), p_pos=float(r.p_pos),
    )  # fmt: skip


def recent_posts(
    conn: Connection,
    topic_id: int | None = None,
    *,
    label: str | None = None,
    contains: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
) -> list[PostRow]:
    """Newest posts first, optionally of one topic, one label, a time range or containing some text;
    never one deleted at the source."""
    query = select(posts).where(posts.c.deleted_at.is_(None))
    if topic_id is not None:
        query = query.where(has_topic(conn, topic_id))
    if label is not None:
        if label not in LABELS:
            raise ValueError(f"label must be one of {LABELS}")
        query = query.where(posts.c.label == label)
    if contains:
        query = query.where(func.lower(posts.c.text).contains(contains.lower(), autoescape=True))
    if since is not None:
        query = query.where(posts.c.created_at >= since)
    if until is not None:
        query = query.where(posts.c.created_at < until)
    query = query.order_by(posts.c.created_at.desc(), posts.c.id.desc()).limit(limit)
    return [post_row(r) for r in conn.execute(query)]


def stored_texts(
    conn: Connection, since: datetime | None = None, until: datetime | None = None, limit: int | None = None
) -> list[str]:
    """The distinct texts of the stored posts (none deleted at the source), newest first: what a
    deployment has in abundance for domain-adaptive pretraining."""
    query = select(posts.c.text).where(posts.c.deleted_at.is_(None)).group_by(posts.c.text)
    if since is not None:
        query = query.where(posts.c.created_at >= since)
    if until is not None:
        query = query.where(posts.c.created_at < until)
    query = query.order_by(func.max(posts.c.created_at).desc()).limit(limit)
    return [text for (text,) in conn.execute(query) if text.strip()]


def top_posts(
    conn: Connection,
    topic_id: int,
    start: datetime,
    end: datetime,
    polarity: str = "negative",
    limit: int = 5,
) -> list[PostRow]:
    """The most negative (or positive) posts of a topic with created_at in [start, end), none deleted."""
    column = {"negative": posts.c.p_neg, "positive": posts.c.p_pos}.get(polarity)
    if column is None:
        raise ValueError("polarity must be 'negative' or 'positive'")
    query = (
        select(posts)
        .where(has_topic(conn, topic_id), posts.c.created_at >= start, posts.c.created_at < end)
        .where(posts.c.deleted_at.is_(None))
        .order_by(column.desc(), posts.c.id)
        .limit(limit)
    )
    return [post_row(r) for r in conn.execute(query)]


def get_post(conn: Connection, source: str, post_id: str) -> PostRow | None:
    row = conn.execute(select(posts).where(posts.c.source == source, posts.c.post_id == post_id)).first()
    return post_row(row) if row else None


def count_posts(conn: Connection, source: str | None = None) -> int:
    query = select(func.count()).select_from(posts)
    if source is not None:
        query = query.where(posts.c.source == source)
    return int(conn.execute(query).scalar_one())


def stored_times(conn: Connection, source: str) -> list[tuple[datetime, dict[str, Any]]]:
    """(scored_at, metadata) of every post of a source: when each was stored, for latency figures."""
    query = select(posts.c.scored_at, posts.c.meta).where(posts.c.source == source)
    return [(as_utc(r.scored_at), r.meta or {}) for r in conn.execute(query)]
