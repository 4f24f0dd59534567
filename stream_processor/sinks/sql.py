"""The database of record (Postgres or SQLite): posts, window increments and dead letters, one transaction."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, ProgrammingError

from sentimon.quantify import QUANT_SUMS
from sentimon.retry import ServiceUnavailable
from sentimon.schema import UPDATE, WINDOW_SUMS, ScoredPost
from sentimon.sentiment import LABELS
from sentimon.storage import dead_letters, posts, windows
from stream_processor.batch import DeadLetter, Deletion
from stream_processor.sinks.base import Batch
from stream_processor.windows import Representative, WindowState, aggregate, taken_back

log = logging.getLogger(__name__)


class SqlStore:
    """Inserts scored posts ON CONFLICT DO NOTHING and adds window increments only for the rows it
    really inserted, in the same transaction, so replays and duplicates never count twice. An edit
    or deletion at the source moves its post's stored contribution out of (and an edit's new one
    into) the windows in that transaction too, only if the row really changed: exactly once."""

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
        return sum(len(b.scored) + len(b.deletes) + len(b.dead) for b in self._staged)

    def discard(self) -> None:
        self._staged.clear()

    def flush(self) -> list[WindowState]:
        if not self._staged:
            return []
        staged_posts = [sp for b in self._staged for sp in b.scored if sp.post.event is None]
        scored = _unique([sp for b in self._staged for sp in b.scored])
        deletes = [d for b in self._staged for d in b.deletes]
        dead = [d for b in self._staged for d in b.dead]
        try:
            with self.engine.begin() as conn:
                inserted, row_ids, rows, stored_dead = _write(conn, scored, deletes, dead)
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
        by_row = {row_ids[sp.post.key]: sp for sp in scored if sp.post.key in row_ids}
        return [_state(r, by_row) for r in rows]


def _write(
    conn: Connection, scored: list[ScoredPost], deletes: list[Deletion], dead: list[DeadLetter]
) -> tuple[dict[str, int], dict[str, int], list[windows.WindowRow], int]:
    """The transaction body: new posts, then edits and deletions in the order they came, then the
    window changes of the rows that really changed, then letters. Returns the rows inserted and
    the rows inserted or edited, each as {post key: row id}."""
    new = [sp for sp in scored if sp.post.event is None]
    inserted = posts.insert_scored(conn, new)
    deltas = aggregate(sp for sp in new if sp.post.key in inserted)
    row_ids = dict(inserted)
    edited = _apply_edits(conn, [sp for sp in scored if sp.post.event == UPDATE], deletes, deltas, row_ids)
    alive = windows.existing_topic_ids(conn, {topic for topic, _ in deltas})
    increments = [_increment(d, row_ids) for key, d in deltas.items() if key[0] in alive]
    rows = windows.add_increments(conn, increments)
    if edited:
        rows = windows.settle(conn, rows, edited)
    stored_dead = dead_letters.insert_dead_letters(conn, [(d.reason, d.raw, d.origin) for d in dead])
    return inserted, row_ids, rows, stored_dead


def _apply_edits(
    conn: Connection, updates: list[ScoredPost], deletes: list[Deletion],
    deltas: dict[tuple[int, datetime], WindowState], row_ids: dict[str, int],
) -> set[int]:  # fmt: skip
    """Store each edit and deletion that changes a row; move its windows' sums into `deltas` (the old
    contribution taken back, an edit's new one added at the post's first time). Returns the rows."""
    edited: set[int] = set()
    for sp in updates:
        old = posts.replace_scored(conn, sp)
        if old is not None:
            moved = replace(sp, post=sp.post.model_copy(update={"created_at": old.scored.post.created_at}))
            _merge(deltas, aggregate([moved]))
            _take_back(deltas, old)
            edited.add(old.row_id)
            row_ids[sp.post.key] = old.row_id
    for d in deletes:
        old = posts.mark_deleted(conn, d.post.source, d.post.id, d.post.text)
        if old is not None:
            _take_back(deltas, old)
            edited.add(old.row_id)
    return edited


def _take_back(deltas: dict[tuple[int, datetime], WindowState], old: posts.StoredVote) -> None:
    scored = old.scored if old.has_quant else replace(old.scored, quant=_plain_quant(old.scored))
    _merge(deltas, {key: taken_back(w) for key, w in aggregate([scored]).items()})


def _merge(
    into: dict[tuple[int, datetime], WindowState], more: dict[tuple[int, datetime], WindowState]
) -> None:
    for key, window in more.items():
        if key in into:
            into[key].merge(window)
        else:
            into[key] = window


def _plain_quant(sp: ScoredPost) -> tuple[float, ...]:
    """What a post stored before edits were honoured most likely added: plain counting, as the
    0003 migration backfilled (its model's correction was not recorded with it)."""
    is_neg, is_neu, is_pos = (float(sp.label == label) for label in LABELS)
    plain = {"acc_neg": is_neg, "acc_neu": is_neu, "acc_pos": is_pos, "acc_sq": is_neg,
             "pacc_neg": sp.probs[0], "pacc_neu": sp.probs[1], "pacc_pos": sp.probs[2],
             "sq_neg": sp.probs[0] ** 2}  # fmt: skip
    return tuple(plain.get(name, 0.0) for name in QUANT_SUMS)


def _unique(scored: list[ScoredPost]) -> list[ScoredPost]:
    seen: dict[str, ScoredPost] = {}
    for sp in scored:
        seen.setdefault(sp.post.event_key, sp)
    return list(seen.values())


def _increment(delta: WindowState, inserted: dict[str, int]) -> dict[str, Any]:
    inc: dict[str, Any] = {"topic_id": delta.topic_id, "window_start": delta.window_start, "rev": delta.rev}
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
        top_pos=_rep(row.top_pos_post, row.top_pos_score, by_row), rev=row.rev,
    )  # fmt: skip


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
