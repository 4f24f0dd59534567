"""The database of record (Postgres or SQLite): posts, window increments and dead letters, one transaction."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, ProgrammingError

from sentimon.retry import ServiceUnavailable
from sentimon.schema import WINDOW_SUMS, ScoredPost
from sentimon.storage import dead_letters, posts, windows
from stream_processor.batch import DeadLetter
from stream_processor.sinks.base import Batch
from stream_processor.windows import Representative, WindowState, aggregate

log = logging.getLogger(__name__)


class SqlStore:
    """Inserts scored posts ON CONFLICT DO NOTHING and adds window increments only for the rows it
    really inserted, in the same transaction, so replays and duplicates never count twice."""

    name = "sql"

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._staged: list[Batch] = []
        self.last_inserted = 0
        self.last_duplicates = 0
        self.last_dead = 0

    def add(self, batch: Batch) -> None:
        self._staged.append(batch)

    def pending(self) -> int:
        return sum(len(b.scored) + len(b.dead) for b in self._staged)

    def discard(self) -> None:
        self._staged.clear()

    def flush(self) -> list[WindowState]:
        if not self._staged:
            return []
        staged_posts = [sp for b in self._staged for sp in b.scored]
        scored = _unique(staged_posts)
        dead = [d for b in self._staged for d in b.dead]
        try:
            with self.engine.begin() as conn:
                inserted, rows, stored_dead = _write(conn, scored, dead)
        except (OperationalError, InterfaceError) as exc:
            raise ServiceUnavailable(f"database unavailable: {_first_line(exc)}") from exc
        except ProgrammingError as exc:  # a missing table or column: no post is to blame, wait for a fix
            raise ServiceUnavailable(f"database schema or query is wrong: {_first_line(exc)}") from exc
        except DBAPIError as exc:
            if exc.connection_invalidated:
                raise ServiceUnavailable(f"database connection lost: {_first_line(exc)}") from exc
            raise
        self._staged.clear()
        self.last_inserted, self.last_duplicates, self.last_dead = (
            len(inserted),
            len(staged_posts) - len(inserted),
            stored_dead,
        )
        by_row = {inserted[sp.post.key]: sp for sp in scored if sp.post.key in inserted}
        return [_state(r, by_row) for r in rows]


def _write(
    conn: Connection, scored: list[ScoredPost], dead: list[DeadLetter]
) -> tuple[dict[str, int], list[windows.WindowRow], int]:
    """The transaction body: posts first, then increments for the rows really inserted, then letters."""
    inserted = posts.insert_scored(conn, scored)
    deltas = aggregate(sp for sp in scored if sp.post.key in inserted)
    alive = windows.existing_topic_ids(conn, {topic for topic, _ in deltas})
    increments = [_increment(d, inserted) for key, d in deltas.items() if key[0] in alive]
    rows = windows.add_increments(conn, increments)
    stored_dead = dead_letters.insert_dead_letters(conn, [(d.reason, d.raw, d.origin) for d in dead])
    return inserted, rows, stored_dead


def _unique(scored: list[ScoredPost]) -> list[ScoredPost]:
    seen: dict[str, ScoredPost] = {}
    for sp in scored:
        seen.setdefault(sp.post.key, sp)
    return list(seen.values())


def _increment(delta: WindowState, inserted: dict[str, int]) -> dict[str, Any]:
    inc: dict[str, Any] = {"topic_id": delta.topic_id, "window_start": delta.window_start}
    inc.update((name, getattr(delta, name)) for name in WINDOW_SUMS)
    for side, rep in (("neg", delta.top_neg), ("pos", delta.top_pos)):
        inc[f"top_{side}_post"] = inserted[rep.key] if rep else None
        inc[f"top_{side}_score"] = rep.score if rep else None
    return inc


def _rep(row_id: int | None, score: float | None, by_row: dict[int, ScoredPost]) -> Representative | None:
    if row_id is None or score is None:
        return None
    sp = by_row.get(row_id)
    return Representative(float(score), sp.post.key if sp else "", sp.post.text[:280] if sp else "", row_id)


def _state(row: windows.WindowRow, by_row: dict[int, ScoredPost]) -> WindowState:
    a = row.agg
    return WindowState(
        a.topic_id, a.window_start, **{name: getattr(a, name) for name in WINDOW_SUMS},
        top_neg=_rep(row.top_neg_post, row.top_neg_score, by_row),
        top_pos=_rep(row.top_pos_post, row.top_pos_score, by_row),
    )  # fmt: skip


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
