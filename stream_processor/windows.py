"""Per-topic 1-minute window aggregates: build increments from scored posts and merge them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime

from sentimon.quantify import QUANT_SUMS
from sentimon.schema import WINDOW_SUMS, ScoredPost, WindowAggregate, window_start
from sentimon.sentiment import LABELS


@dataclass(frozen=True, slots=True)
class Representative:
    """A post chosen to illustrate a window: its key ("source:id"), score, text and stored row id."""

    score: float
    key: str
    text: str = ""
    row_id: int | None = None

    def beats(self, other: Representative | None) -> bool:
        """Higher score wins; ties go to the smaller key so that every path picks the same post."""
        if other is None:
            return True
        return (self.score, other.key) > (other.score, self.key)


@dataclass(slots=True)
class WindowState(WindowAggregate):
    """A window aggregate with its most negative and most positive post, and `rev`: how many changes
    (a post added, taken back or moved) made it, so that a smaller total can still be the newer one."""

    top_neg: Representative | None = field(default=None)
    top_pos: Representative | None = field(default=None)
    rev: int = 0

    @property
    def key(self) -> tuple[int, datetime]:
        return (self.topic_id, self.window_start)

    def add_post(self, post: ScoredPost) -> None:
        label_index = LABELS.index(post.label)
        self.rev += 1
        self.n += 1
        if label_index == 0:
            self.n_neg += 1
        elif label_index == 1:
            self.n_neu += 1
        else:
            self.n_pos += 1
        self.sum_neg += post.probs[0]
        self.sum_neu += post.probs[1]
        self.sum_pos += post.probs[2]
        for name, value in zip(QUANT_SUMS, post.quant, strict=False):
            setattr(self, name, getattr(self, name) + value)
        snippet = post.post.text[:280]
        neg = Representative(post.probs[0], post.post.key, snippet)
        pos = Representative(post.probs[2], post.post.key, snippet)
        if neg.beats(self.top_neg):
            self.top_neg = neg
        if pos.beats(self.top_pos):
            self.top_pos = pos

    def merge(self, other: WindowState) -> None:
        """Add another increment of the same window (or of a window inside the same roll-up bucket)."""
        self.add(other)
        self.rev += other.rev
        if other.top_neg is not None and other.top_neg.beats(self.top_neg):
            self.top_neg = other.top_neg
        if other.top_pos is not None and other.top_pos.beats(self.top_pos):
            self.top_pos = other.top_pos

    def copy(self) -> WindowState:
        return replace(self)


def aggregate(scored: Iterable[ScoredPost]) -> dict[tuple[int, datetime], WindowState]:
    """Increments per (topic, window) for these posts; a post with several topics counts in each."""
    out: dict[tuple[int, datetime], WindowState] = {}
    for post in scored:
        start = window_start(post.post.created_at)
        for topic_id in post.topics:
            state = out.get((topic_id, start))
            if state is None:
                state = out[(topic_id, start)] = WindowState(topic_id, start)
            state.add_post(post)
    return out


def taken_back(increment: WindowState) -> WindowState:
    """The increment that takes these posts back out of their window (an edit or a deletion at the
    source): every sum negated, no representative, as many changes as it undoes."""
    sums = {name: -getattr(increment, name) for name in WINDOW_SUMS}
    return WindowState(increment.topic_id, increment.window_start, **sums, rev=increment.rev)


def supersedes(new: WindowState, old: WindowState | None) -> bool:
    """For live views holding absolute totals: a later window, or the same window after more changes.

    Changes only grow (a deletion is a change too), so out-of-order and repeated updates are harmless.
    A total without a count of changes (stored before edits were honoured) counts its posts.
    """
    if old is None:
        return True
    if new.window_start != old.window_start:
        return new.window_start > old.window_start
    return changes(new) > changes(old)


def changes(window: WindowState) -> int:
    return window.rev or window.n
