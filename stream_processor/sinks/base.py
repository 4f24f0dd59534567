"""The aggregate sink contract: stage a batch with `add`, make it durable with `flush` before acking."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from sentimon.schema import ScoredPost
from stream_processor.batch import DeadLetter, Deletion
from stream_processor.windows import WindowState


@dataclass(slots=True)
class Batch:
    """What a sink is given. The store reads `scored` (new posts and edits), `deletes` and `dead`; live
    views read `windows`.

    `windows` holds absolute window totals, as the store reported them after its commit, so that
    applying a batch twice (a replay) leaves a live view unchanged.
    """

    scored: list[ScoredPost] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)
    windows: list[WindowState] = field(default_factory=list)
    deletes: list[Deletion] = field(default_factory=list)


class AggregateSink(Protocol):
    """Where scored posts and window totals go: Postgres/SQLite (the truth), Redis and in-memory live views.

    - `add` stages a batch and never does I/O;
    - `flush` applies everything staged atomically and returns the windows it changed (their totals);
      flushing a batch already applied changes nothing;
    - when the backend is down `flush` raises ServiceUnavailable and keeps what was staged, so a later
      flush applies it exactly once.
    """

    name: str

    def add(self, batch: Batch) -> None: ...

    def flush(self) -> list[WindowState]: ...

    def pending(self) -> int:
        """How many items are staged and not yet applied."""
        ...

    def discard(self) -> None:
        """Drop what is staged (to re-stage part of it, or to give up on a cache update)."""
        ...


class Store(AggregateSink, Protocol):
    """The store of record also reports, after each flush, what it inserted and what it skipped."""

    last_inserted: int
    last_duplicates: int
