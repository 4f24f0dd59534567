"""Queries on the label store: human labels for retraining, and the queue of posts worth labelling."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, case, exists, func, insert, select, update
from sqlalchemy.sql.elements import ColumnElement

from sentimon.schema import as_utc
from sentimon.sentiment import LABELS
from sentimon.storage.db import inserted_id, record
from sentimon.storage.posts import has_topic, post_row
from sentimon.storage.tables import labels, posts


@dataclass(frozen=True, slots=True)
class Label:
    """One human judgement of one post, and whether a model has been trained on it yet."""

    id: int
    source: str
    post_id: str
    text: str
    label: str
    labelled_by: str
    origin: str
    created_at: datetime
    used_by_model: str | None


@dataclass(frozen=True, slots=True)
class QueueItem:
    """A scored post offered for labelling, with the model's (uncertain) prediction."""

    row_id: int
    source: str
    post_id: str
    text: str
    author: str | None
    url: str | None
    created_at: datetime
    predicted: str
    probs: tuple[float, float, float]
    topic_ids: tuple[int, ...]

    @property
    def key(self) -> str:
        return f"{self.source}:{self.post_id}"

    @property
    def entropy(self) -> float:
        """How unsure the model is, in bits (0 = certain, log2(3) ≈ 1.58 = uniform)."""
        return -sum(p * math.log2(p) for p in self.probs if p > 0)


def add_label(
    conn: Connection,
    source: str,
    post_id: str,
    text: str,
    label: str,
    labelled_by: str,
    origin: str = "dashboard",
) -> int:
    """Record a judgement; a person relabelling the same post replaces their earlier label."""
    if label not in LABELS:
        raise ValueError(f"label must be one of {', '.join(LABELS)}, not {label!r}")
    who = labelled_by.strip()
    if not who:
        raise ValueError("labelled_by must name who gave the label")
    mine = and_(labels.c.source == source, labels.c.post_id == post_id, labels.c.labelled_by == who)
    earlier = conn.execute(select(labels.c.id).where(mine)).scalar()
    if earlier is not None:
        conn.execute(
            update(labels)
            .where(labels.c.id == earlier)
            .values(label=label, text=text, created_at=datetime.now(UTC), used_by_model=None)
        )
        return int(earlier)
    result = conn.execute(
        insert(labels).values(
            source=source,
            post_id=post_id,
            text=text,
            label=label,
            labelled_by=who,
            origin=origin,
            created_at=datetime.now(UTC),
        )
    )
    return inserted_id(result)


def waiting_count(conn: Connection) -> int:
    """Labels that no model has been trained on yet: what the next retraining will add."""
    query = select(func.count()).select_from(labels).where(labels.c.used_by_model.is_(None))
    return int(conn.execute(query).scalar_one())


def mark_used(conn: Connection, model_version: str, label_ids: Iterable[int] | None = None) -> int:
    """Note that a model was trained on these labels (all waiting ones when ids are not given)."""
    query = update(labels).where(labels.c.used_by_model.is_(None)).values(used_by_model=model_version)
    if label_ids is not None:
        query = query.where(labels.c.id.in_(list(label_ids)))
    return int(conn.execute(query).rowcount or 0)


def import_labels(
    conn: Connection, rows: Iterable[tuple[str, str, str, str]], labelled_by: str, origin: str = "import"
) -> tuple[int, int, int]:
    """Add (source, post_id, text, label) rows as one person's labels → (added, changed, unchanged).

    Importing the same file twice changes nothing, so labels already trained on stay used."""
    who = labelled_by.strip()
    if not who:
        raise ValueError("labelled_by must name who gave the labels")
    mine = select(labels.c.id, labels.c.source, labels.c.post_id, labels.c.label, labels.c.text)
    known = {(r.source, r.post_id): r for r in conn.execute(mine.where(labels.c.labelled_by == who))}
    added = changed = same = 0
    now = datetime.now(UTC)
    last_wins = {(r[0], r[1]): r for r in rows}  # a post repeated in one file: its last line counts
    for source, post_id, text, label in last_wins.values():
        if label not in LABELS:
            raise ValueError(f"label must be one of {', '.join(LABELS)}, not {label!r}")
        row = known.get((source, post_id))
        if row is not None and (row.label, row.text) == (label, text):
            same += 1
            continue
        if row is not None:
            conn.execute(update(labels).where(labels.c.id == row.id)
                         .values(label=label, text=text, created_at=now, used_by_model=None))  # fmt: skip
            changed += 1
            continue
        conn.execute(insert(labels).values(source=source, post_id=post_id, text=text, label=label,
                                           labelled_by=who, origin=origin, created_at=now))  # fmt: skip
        added += 1
    return added, changed, same


def all_labels(conn: Connection) -> list[Label]:
    """Every label, oldest first (for export and training)."""
    query = select(labels).order_by(labels.c.created_at.asc(), labels.c.id.asc())
    return [_row_to_label(r) for r in conn.execute(query)]


def latest_per_post(rows: Iterable[Label]) -> list[Label]:
    """The newest judgement of each post (whoever gave it): what a model is trained on."""
    latest: dict[tuple[str, str], Label] = {}
    for row in sorted(rows, key=lambda r: (r.created_at, r.id)):
        latest[(row.source, row.post_id)] = row
    return list(latest.values())


def list_labels(
    conn: Connection, limit: int = 200, labelled_by: str | None = None, waiting_only: bool = False
) -> list[Label]:
    """The newest labels first, with who gave them and when."""
    query = select(labels).order_by(labels.c.created_at.desc(), labels.c.id.desc()).limit(limit)
    if labelled_by:
        query = query.where(labels.c.labelled_by == labelled_by)
    if waiting_only:
        query = query.where(labels.c.used_by_model.is_(None))
    return [_row_to_label(r) for r in conn.execute(query)]


def counts_by_person(conn: Connection) -> dict[str, int]:
    """How many labels each person gave, most active first."""
    n = func.count(labels.c.id)
    query = select(labels.c.labelled_by, n).group_by(labels.c.labelled_by).order_by(n.desc())
    return {who: int(count) for who, count in conn.execute(query)}


def uncertainty_queue(
    conn: Connection,
    limit: int = 20,
    topic_id: int | None = None,
    exclude: Iterable[str] = (),
    since: timedelta = timedelta(days=7),
) -> list[QueueItem]:
    """Unlabelled recent posts, least certain first; without a topic, spread over the topics.

    The database ranks by the top class probability (portable), a pool of candidates is then
    ordered by entropy and interleaved topic by topic so that one busy topic cannot fill the queue.
    """
    skip = set(exclude)
    pool_size = max(limit * 10, 200) + len(skip)
    query = (
        select(posts)
        .where(posts.c.created_at >= datetime.now(UTC) - since, posts.c.deleted_at.is_(None))
        .where(~exists().where(and_(labels.c.source == posts.c.source, labels.c.post_id == posts.c.post_id)))
        .order_by(_top_probability().asc(), posts.c.created_at.desc())
        .limit(pool_size)
    )
    if topic_id is not None:
        query = query.where(has_topic(conn, topic_id))
    items = [item for item in (_row_to_item(r) for r in conn.execute(query)) if item.key not in skip]
    items.sort(key=lambda item: item.entropy, reverse=True)
    if topic_id is None:
        items = _interleave_by_topic(items)
    return items[:limit]


def _top_probability() -> ColumnElement[float]:
    p_neg, p_neu, p_pos = posts.c.p_neg, posts.c.p_neu, posts.c.p_pos
    return case(
        (and_(p_neg >= p_neu, p_neg >= p_pos), p_neg),
        (p_neu >= p_pos, p_neu),
        else_=p_pos,
    )


def _interleave_by_topic(items: list[QueueItem]) -> list[QueueItem]:
    """Round-robin over each post's first topic, keeping each topic's own order."""
    groups: dict[int, list[QueueItem]] = defaultdict(list)
    for item in items:
        groups[item.topic_ids[0] if item.topic_ids else -1].append(item)
    out: list[QueueItem] = []
    queues = list(groups.values())
    depth = 0
    while len(out) < len(items):
        out.extend(q[depth] for q in queues if depth < len(q))
        depth += 1
    return out


def _row_to_label(row: Any) -> Label:
    return record(Label, row, id=int(row.id), created_at=as_utc(row.created_at))


def _row_to_item(row: Any) -> QueueItem:
    p = post_row(row)
    probs = (p.p_neg, p.p_neu, p.p_pos)
    return QueueItem(
        p.id, p.source, p.post_id, p.text, p.author, p.url, p.created_at, p.label, probs, p.topic_ids
    )
