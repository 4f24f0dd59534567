"""The processor's order and policies: a poisonous post is isolated (even alone in its batch, at any
step), systemic failures are raised, live views that are down do not stop the step."""

from __future__ import annotations

import pytest

from sentimon.retry import ServiceUnavailable
from sentimon.schema import Post
from stream_processor.batch import RawMessage
from stream_processor.matcher import TopicMatcher
from stream_processor.pipeline import Processor
from stream_processor.sinks.base import Batch
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

    def discard(self) -> None:
        self.staged.clear()

    def flush(self) -> list[WindowState]:
        self.rows += [sp for b in self.staged for sp in b.scored]
        self.staged.clear()
        return []


class RefusingStore(ListStore):
    """Refuses (with a non-outage error) any transaction holding a post whose text says 'refuse', like
    a row the database cannot encode; `down` makes it an outage; `broken` refuses dead letters too."""

    def __init__(self) -> None:
        super().__init__()
        self.down = self.broken = False
        self.letters: list = []
        self.flushes = 0

    def flush(self) -> list[WindowState]:
        self.flushes += 1
        if self.down:
            raise ServiceUnavailable("connection refused")
        batches = self.staged
        if self.broken or any("refuse" in sp.post.text for b in batches for sp in b.scored):
            raise RecursionError("maximum recursion depth exceeded while encoding a JSON object")
        self.rows += [sp for b in batches for sp in b.scored]
        self.letters += [d for b in batches for d in b.dead]
        self.staged = []
        return [WindowState(1, sp.post.created_at, n=1) for b in batches for sp in b.scored][:1]


class DownView(MemoryLiveView):
    name = "down"

    def flush(self) -> list[WindowState]:
        raise ServiceUnavailable("no route to host")


def _raw(pid: str, text: str) -> RawMessage:
    return RawMessage(Post(source="t", id=pid, text=text).to_json(), f"raw/0/{pid}")


def test_one_poisonous_post_becomes_a_dead_letter_and_the_rest_go_through() -> None:
    proc = Processor(Poisoned(), ListStore(), matcher=TopicMatcher.from_rules({1: "acme"}))
    result, _ = proc.compute([_raw("1", "acme great"), _raw("2", "poison pill"), _raw("3", "acme down")])
    assert [s.post.id for s in result.scored] == ["1", "3"]
    assert len(result.dead) == 1 and result.dead[0].reason.startswith("processing failed: RuntimeError")
    assert result.dead[0].origin == "raw/0/2" and result.dead[0].post_key == "t:2"


class Broken(WordClassifier):
    def classify(self, texts):  # type: ignore[no-untyped-def]
        raise RuntimeError("CUDA error: device lost")


def test_when_the_model_fails_on_every_text_the_error_is_raised_for_a_retry() -> None:
    proc = Processor(Broken(), ListStore())
    for batch in ([_raw("1", "a")], [_raw("1", "a"), _raw("2", "b")]):
        with pytest.raises(RuntimeError):
            proc.compute(batch)


@pytest.mark.parametrize("size", [1, 2])
def test_poisonous_posts_alone_in_their_batch_become_dead_letters(size: int) -> None:
    proc = Processor(Poisoned(), ListStore())
    result, _ = proc.compute([_raw(str(i), f"poison {i}") for i in range(size)])
    assert result.scored == [] and [d.post_key for d in result.dead] == [f"t:{i}" for i in range(size)]


def _good_and_refused(size: int, refused: set[int]) -> list[RawMessage]:
    return [_raw(str(i), "refuse me" if i in refused else f"fine {i}") for i in range(size)]


@pytest.mark.parametrize(("size", "refused"), [(1, {0}), (9, {4}), (16, {0, 15}), (5, set(range(5)))])
def test_a_post_the_store_refuses_is_dead_lettered_and_the_rest_commit_once(size: int, refused: set) -> None:
    store = RefusingStore()
    proc = Processor(WordClassifier(), store)
    result, _ = proc.compute(_good_and_refused(size, refused))
    proc.commit(result)
    assert sorted(sp.post.id for sp in store.rows) == sorted(str(i) for i in range(size) if i not in refused)
    assert sorted(d.post_key for d in store.letters) == sorted(f"t:{i}" for i in refused)
    assert {d.post_key for d in result.dead} == {f"t:{i}" for i in refused}
    assert all(d.reason.startswith("database write failed: RecursionError") for d in result.dead)
    assert all(d.raw and d.origin for d in result.dead) and len(result.scored) == size - len(refused)
    assert proc.report(result, 0.0, 0.0, []).inserted == size - len(refused)


def test_an_outage_in_the_middle_of_isolating_resumes_where_it_stopped() -> None:
    store = RefusingStore()
    proc = Processor(WordClassifier(), store)
    result, _ = proc.compute(_good_and_refused(8, {6}))
    original_flush = store.flush

    def fail_on_third() -> list[WindowState]:
        store.down = store.flushes >= 2
        return original_flush()

    store.flush = fail_on_third  # type: ignore[method-assign]
    with pytest.raises(ServiceUnavailable):
        proc.commit(result)
    store.flush, store.down = original_flush, False  # type: ignore[method-assign]
    proc.commit()
    assert sorted(sp.post.id for sp in store.rows) == ["0", "1", "2", "3", "4", "5", "7"]
    assert [d.post_key for d in store.letters] == ["t:6"]


def test_a_store_that_refuses_even_dead_letters_is_broken_and_raised_with_the_batch_kept() -> None:
    store = RefusingStore()
    proc = Processor(WordClassifier(), store)
    result, _ = proc.compute(_good_and_refused(2, set()))
    store.broken = True
    with pytest.raises(RecursionError):
        proc.commit(result)
    store.broken = False
    proc.commit()
    assert sorted(sp.post.id for sp in store.rows) == ["0", "1"]


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
            raise ServiceUnavailable("connection refused")
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


class RefusingView(MemoryLiveView):
    name = "refusing"

    def flush(self) -> list[WindowState]:
        raise ValueError("cannot encode this window")


def test_a_live_view_that_refuses_an_update_drops_it_without_being_marked_down() -> None:
    view = RefusingView()
    proc = Processor(WordClassifier(), ListStore(), [view])
    assert proc.publish([WindowState(1, Post(source="t", id="1", text="x").created_at, n=1)]) is True
    assert view.pending() == 0 and proc.live_down == set()


def test_a_scored_post_that_cannot_be_encoded_is_dead_lettered_before_it_is_stored() -> None:
    from sentimon.schema import ScoredPost
    from stream_processor.batch import BatchResult
    from stream_processor.pipeline import _encode

    odd = Post.model_construct(source="t", id="9", text="x", metadata={"n": 2**70})
    fine = Post(source="t", id="1", text="y")
    result = BatchResult([ScoredPost(odd, "neutral", (0.2, 0.6, 0.2), "v"),
                          ScoredPost(fine, "neutral", (0.2, 0.6, 0.2), "v")])  # fmt: skip
    _encode(result)
    assert [sp.post.id for sp in result.scored] == ["1"] and set(result.encoded) == {"t:1"}
    assert result.dead[0].reason.startswith("cannot encode the scored post")
    assert result.dead[0].post_key == "t:9"


def test_a_view_back_from_an_outage_or_that_dropped_an_update_is_refilled_from_the_store() -> None:
    view, calls = FlakyView(), []
    proc = Processor(WordClassifier(), ListStore(), [view], live_retry_s=0.0, refill=calls.append)
    at = Post(source="t", id="1", text="x").created_at
    proc.publish([WindowState(1, at, n=3)])
    proc.retry_live()
    view.down = False
    proc.retry_live()  # back: caught up from what it staged, and refilled since it may have missed more
    proc.retry_live()
    assert calls == [False, False, True]
    refusing = Processor(WordClassifier(), ListStore(), [RefusingView()], refill=calls.append)
    refusing.publish([WindowState(1, at, n=1)])
    refusing.retry_live()
    assert calls[-1] is True
