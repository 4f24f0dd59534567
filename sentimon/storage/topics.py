"""Queries on topics and their rules: the one home for topic SQL."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from sentimon.storage.db import inserted_id, utc
from sentimon.storage.tables import topics


@dataclass(frozen=True, slots=True)
class Topic:
    """A topic a user watches: a name, a matching rule and its alert settings."""

    id: int
    name: str
    rule: str
    active: bool = True
    alert_config: dict[str, Any] = field(default_factory=dict)
    silenced_until: datetime | None = None


def _row_to_topic(row: Any) -> Topic:
    return Topic(
        id=row.id,
        name=row.name,
        rule=row.rule,
        active=bool(row.active),
        alert_config=dict(row.alert_config or {}),
        silenced_until=utc(row.silenced_until),
    )


def list_topics(conn: Connection, active_only: bool = False) -> list[Topic]:
    query = select(topics).order_by(topics.c.name)
    if active_only:
        query = query.where(topics.c.active.is_(True))
    return [_row_to_topic(r) for r in conn.execute(query)]


def get_topic(conn: Connection, topic_id: int) -> Topic | None:
    row = conn.execute(select(topics).where(topics.c.id == topic_id)).first()
    return _row_to_topic(row) if row else None


def get_topic_by_name(conn: Connection, name: str) -> Topic | None:
    row = conn.execute(select(topics).where(topics.c.name == name)).first()
    return _row_to_topic(row) if row else None


def create_topic(
    conn: Connection, name: str, rule: str, alert_config: dict[str, Any] | None = None, active: bool = True
) -> int:
    result = conn.execute(
        insert(topics).values(
            name=name.strip(),
            rule=rule.strip(),
            active=active,
            alert_config=alert_config or {},
            updated_at=datetime.now(UTC),
        )
    )
    return inserted_id(result)


def update_topic(conn: Connection, topic_id: int, **changes: Any) -> None:
    """Change any of name, rule, active, alert_config, silenced_until; bumps updated_at."""
    allowed = {"name", "rule", "active", "alert_config", "silenced_until"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"cannot update {', '.join(sorted(unknown))} on a topic")
    conn.execute(
        update(topics).where(topics.c.id == topic_id).values(**changes, updated_at=datetime.now(UTC))
    )


def delete_topic(conn: Connection, topic_id: int) -> None:
    conn.execute(delete(topics).where(topics.c.id == topic_id))


def rules_fingerprint(conn: Connection) -> tuple[int, str]:
    """A cheap value that changes whenever any topic changes, so workers can poll for new rules."""
    count, newest = conn.execute(select(func.count(topics.c.id), func.max(topics.c.updated_at))).one()
    return int(count), str(newest)
