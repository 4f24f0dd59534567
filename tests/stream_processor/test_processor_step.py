"""The processor's order and policies: a poisonous post is isolated, systemic failures are raised,
live views that are down do not stop the step."""

from __future__ import annotations

import pytest

from sentimon.schema import Post
from stream_processor.batch import RawMessage
from stream_processor.matcher import TopicMatcher
from stream_processor.pipeline import Processor
from stream_processor.sinks.base import Batch, SinkUnavailable
from stream_processor.sinks.memory import MemoryLiveView
from stream_processor.windows import WindowState
from tests.stream_processor.fakes import WordClassifier


class Poisoned(WordClassifier):
    """Fails any batch containing the word 'poison', like a model crashing on one odd input."""

    def classify(self, texts):  # type: ignore[no-untyped-def]
        if any("poison" in t for t in texts):
            raise RuntimeError("cannot encode this text")
        return super().classify(texts)


class ListStore:
    """An in-test store sink that keeps flushed posts in a list (no database needed for this policy)."""

    name = "list"

    def __init__(self) -> None:
        self.staged: list[Batch] = []
        self.rows: list = []

    def add(self, batch: Batch) -> None:
        self.staged.append(batch)

    def pending(self) -> int:
        return len(self.staged)

    def flush(self) -> list[WindowState]:
        self.rows += [sp for b in self.staged for sp in b.scored]
        self.staged.clear()
        return []


class DownView(MemoryLiveView):
    name = "down"

    def flush(self) -> list[WindowState]:
        raise SinkUnavailable("no route to host")


def _raw(pid: str, text: str) -> RawMessage:
    return RawMessage(Post(source="t", id=pid, text=text).to_json(), f"raw/0/{pid}")


def test_one_poisonous_post_becomes_a_dead_letter_and_the_rest_go_through() -> None:
    proc = Processor(Poisoned(), ListStore(), matcher=TopicMatcher.from_rules({1: "acme"}))
    result, _ = proc.compute([_raw("1", "acme great"), _raw("2", "poison pill"), _raw("3", "acme down")])
    assert [s.post.id for s in result.scored] == ["1", "3"]
    assert len(result.dead) == 1 and result.dead[0].reason.startswith("processing failed: RuntimeError")
    assert result.dead[0].origin == "raw/0/2" and result.dead[0].post_key == "t:2"


def test_when_every_message_fails_the_error_is_raised_for_a_retry() -> None:
    proc = Processor(Poisoned(), ListStore())
    with pytest.raises(RuntimeError):
        proc.compute([_raw("1", "poison a"), _raw("2", "poison b")])


def test_a_live_view_that_is_down_is_reported_not_raised() -> None:
    store, good, down = ListStore(), MemoryLiveView(), DownView()
    proc = Processor(WordClassifier(), store, [down, good])
    result, _ = proc.compute([_raw("1", "x")])
    proc.stage(result)
    proc.commit()
    assert proc.publish([WindowState(1, Post(source="t", id="1", text="x").created_at, n=1)]) is False
    assert good.latest(1) is not None and proc.live_down == {"down"}
    assert len(store.rows) == 1


class FlakyView(MemoryLiveView):
    name = "flaky"

    def __init__(self) -> None:
        super().__init__()
        self.down = True
        self.attempts = 0

    def flush(self) -> list[WindowState]:
        self.attempts += 1
        if self.down:
            raise SinkUnavailable("connection refused")
        return super().flush()


def test_a_view_that_failed_is_left_alone_for_a_moment_then_caught_up_without_new_posts() -> None:
    view = FlakyView()
    proc = Processor(WordClassifier(), ListStore(), [view], live_retry_s=60)
    at = Post(source="t", id="1", text="x").created_at
    assert proc.publish([WindowState(1, at, n=3)]) is False
    assert proc.publish([WindowState(1, at, n=5)]) is False and view.attempts == 1  # cooling down
    view.down, proc.live_retry_s = False, 0.0
    proc._retry_at.clear()
    assert proc.retry_live() is True
    assert view.latest(1).n == 5 and proc.live_down == set()
    assert proc.retry_live() is None  # nothing left to push
