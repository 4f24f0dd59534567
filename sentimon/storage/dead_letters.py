"""Queries on dead letters: messages that could not become posts, with their reasons."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select

from sentimon.schema import as_utc
from sentimon.storage.tables import dead_letters


@dataclass(frozen=True, slots=True)
class DeadLetterRow:
    id: int
    reason: str
    raw: bytes
    origin: str | None
    at: datetime


def insert_dead_letters(conn: Connection, letters: Sequence[tuple[str, bytes, str | None]]) -> int:
    """Store (reason, raw, origin) entries; one already stored from the same origin is skipped.

    The origin ("topic/partition/offset") makes a replayed message land only once.
    """
    if not letters:
        return 0
    origins = [o for _, _, o in letters if o]
    known: set[str] = set()
    if origins:
        query = select(dead_letters.c.origin).where(dead_letters.c.origin.in_(origins))
        known = set(conn.execute(query).scalars())
    rows: list[dict[str, Any]] = []
    for reason, raw, origin in letters:
        if origin and origin in known:
            continue
        if origin:
            known.add(origin)
        rows.append({"reason": reason[:2000], "raw": raw, "origin": origin, "at": datetime.now(UTC)})
    if rows:
        conn.execute(insert(dead_letters), rows)
    return len(rows)


def recent_dead_letters(conn: Connection, limit: int = 50) -> list[DeadLetterRow]:
    query = select(dead_letters).order_by(dead_letters.c.id.desc()).limit(limit)
    return [
        DeadLetterRow(int(r.id), r.reason, bytes(r.raw), r.origin, as_utc(r.at)) for r in conn.execute(query)
    ]


def count_dead_letters(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(dead_letters)).scalar_one())
