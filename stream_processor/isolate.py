"""Commit a batch so that one post the database cannot take is dead-lettered instead of retried forever.

A flush that fails for a reason other than an outage (ServiceUnavailable) is bisected: halves are
flushed on their own until each failure is one post, which becomes a dead letter carrying the
exception; the rest commit exactly once (rows are keyed, so a half committed twice changes nothing).
If even a dead letter cannot be stored, the database itself is broken: that is raised, to be retried.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sentimon.retry import ServiceUnavailable
from sentimon.schema import ScoredPost
from stream_processor.batch import BatchResult, DeadLetter, Deletion, dead_letter_reason
from stream_processor.sinks.base import Batch, Store
from stream_processor.windows import WindowState, supersedes

log = logging.getLogger(__name__)
Unit = ScoredPost | Deletion | DeadLetter


@dataclass
class StoreCommit:
    """The store's side of one batch, kept across retries: what is still to flush, what was flushed."""

    store: Store
    result: BatchResult | None = None
    todo: list[Unit] = field(default_factory=list)
    totals: dict[tuple[int, object], WindowState] = field(default_factory=dict)
    inserted: int = 0
    duplicates: int = 0
    rejected: dict[int, ScoredPost | Deletion] = field(default_factory=dict)

    def stage(self, result: BatchResult) -> None:
        self.result, self.todo = result, [*result.scored, *result.deletes, *result.dead]
        self.totals, self.inserted, self.duplicates, self.rejected = {}, 0, 0, {}
        self.store.add(_batch(self.todo))

    def flush(self) -> list[WindowState]:
        """Flush what is staged; ServiceUnavailable (and a broken store) leave it staged for the next call."""
        if self.todo:
            try:
                self._attempt(self.todo, restage=False)
                self.todo = []
            except ServiceUnavailable:
                raise
            except Exception as exc:
                self._isolate(self.todo, exc)
        windows = sorted(self.totals.values(), key=lambda w: (w.window_start, w.topic_id))
        self.totals = {}
        return windows

    def _attempt(self, units: list[Unit], restage: bool = True) -> None:
        if restage:
            self.store.discard()
            self.store.add(_batch(units))
        for window in self.store.flush():
            if supersedes(window, self.totals.get(window.key)):
                self.totals[window.key] = window
        posts = sum(isinstance(u, ScoredPost) for u in units)
        self.inserted += int(getattr(self.store, "last_inserted", posts))
        self.duplicates += int(getattr(self.store, "last_duplicates", 0))

    def _isolate(self, units: list[Unit], first: Exception) -> None:
        log.warning("a batch of %d failed to commit (%s: %s); isolating the cause",
                    len(units), type(first).__name__, first)  # fmt: skip
        chunks = _halves(units) if len(units) > 1 else []
        if len(units) == 1:
            chunks = [[self._reject(units[0], first)]]
        while chunks:
            chunk = chunks.pop()
            try:
                self._attempt(chunk)
            except ServiceUnavailable:
                self._keep([*(u for c in chunks for u in c), *chunk])
                raise
            except Exception as exc:
                if len(chunk) > 1:
                    chunks += _halves(chunk)
                    continue
                if isinstance(chunk[0], DeadLetter):  # not even a dead letter goes in: the store is broken
                    self._keep([*(u for c in chunks for u in c), self._unreject(chunk[0])])
                    raise
                chunks.append([self._reject(chunk[0], exc)])
        self.todo = []
        self.rejected = {}

    def _keep(self, units: list[Unit]) -> None:
        self.todo = units
        self.store.discard()
        self.store.add(_batch(units))

    def _reject(self, unit: Unit, exc: Exception) -> DeadLetter:
        """Turn a post (or deletion) the store refused into a dead letter, in the batch result the
        caller produces."""
        assert not isinstance(unit, DeadLetter) and self.result is not None
        key, event_key = unit.post.key, unit.post.event_key
        letter = DeadLetter(dead_letter_reason("database write failed", exc),
                            self.result.raws.get(event_key, b""), self.result.origins.get(event_key), key,
                            key.encode())  # fmt: skip
        self.result.scored = [sp for sp in self.result.scored if sp is not unit]
        self.result.deletes = [d for d in self.result.deletes if d is not unit]
        self.result.dead.append(letter)
        self.rejected[id(letter)] = unit
        log.warning("post %s cannot be stored, dead-lettered: %s", key, letter.reason)
        return letter

    def _unreject(self, letter: DeadLetter) -> Unit:
        """The store refuses dead letters too, so the post was not to blame: give it back its place."""
        post = self.rejected.pop(id(letter), None)
        if post is None or self.result is None:
            return letter
        self.result.dead = [d for d in self.result.dead if d is not letter]
        if isinstance(post, Deletion):
            self.result.deletes.append(post)
        else:
            self.result.scored.append(post)
        return post


def _halves(units: list[Unit]) -> list[list[Unit]]:
    """Second half first on the stack, so the first half is tried first."""
    mid = len(units) // 2
    return [units[mid:], units[:mid]]


def _batch(units: list[Unit]) -> Batch:
    return Batch(
        scored=[u for u in units if isinstance(u, ScoredPost)],
        dead=[u for u in units if isinstance(u, DeadLetter)],
        deletes=[u for u in units if isinstance(u, Deletion)],
    )
