"""Window aggregation: minute buckets, counts and probability sums, representatives."""

from datetime import UTC, datetime, timedelta

from sentimon.schema import Post, ScoredPost
from stream_processor.windows import WindowState, aggregate, supersedes

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


def _sp(
    pid: str, label: str, probs: tuple[float, float, float], topics: list[int], at: datetime
) -> ScoredPost:
    return ScoredPost(Post(source="t", id=pid, text=f"text {pid}", created_at=at), label, probs, "v", topics)


def test_counts_sums_and_representatives_per_topic_and_minute() -> None:
    posts = [
        _sp("1", "negative", (0.9, 0.05, 0.05), [1, 2], T0 + timedelta(seconds=5)),
        _sp("2", "positive", (0.1, 0.1, 0.8), [1], T0 + timedelta(seconds=50)),
        _sp("3", "neutral", (0.2, 0.7, 0.1), [1], T0 + timedelta(seconds=65)),
        _sp("4", "negative", (0.6, 0.3, 0.1), [], T0),
    ]
    windows = aggregate(posts)
    assert set(windows) == {(1, T0), (2, T0), (1, T0 + timedelta(minutes=1))}
    w = windows[(1, T0)]
    assert (w.n, w.n_neg, w.n_neu, w.n_pos) == (2, 1, 0, 1)
    assert abs(w.sum_neg - 1.0) < 1e-9 and abs(w.sum_pos - 0.85) < 1e-9
    assert w.top_neg is not None and w.top_neg.key == "t:1" and w.top_neg.score == 0.9
    assert w.top_pos is not None and w.top_pos.key == "t:2"
    assert windows[(2, T0)].n == 1


def test_representative_ties_pick_the_same_post_whatever_the_order() -> None:
    a = _sp("a", "negative", (0.7, 0.2, 0.1), [1], T0)
    b = _sp("b", "negative", (0.7, 0.2, 0.1), [1], T0)
    assert aggregate([a, b])[(1, T0)].top_neg == aggregate([b, a])[(1, T0)].top_neg


def test_merge_of_increments_equals_aggregate_of_all() -> None:
    posts = [_sp(str(i), "neutral", (0.3, 0.4, 0.3), [1], T0 + timedelta(seconds=i)) for i in range(10)]
    whole = aggregate(posts)[(1, T0)]
    part = aggregate(posts[:4])[(1, T0)]
    part.merge(aggregate(posts[4:])[(1, T0)])
    assert (part.n, part.n_neu) == (whole.n, whole.n_neu)
    assert abs(part.sum_neu - whole.sum_neu) < 1e-9


def test_supersedes_only_moves_forward() -> None:
    old = WindowState(1, T0, n=5)
    assert supersedes(WindowState(1, T0, n=6), old)
    assert not supersedes(WindowState(1, T0, n=5), old)
    assert not supersedes(WindowState(1, T0 - timedelta(minutes=1), n=50), old)
    assert supersedes(WindowState(1, T0 + timedelta(minutes=1), n=1), old)
    assert supersedes(old, None)
