"""The bench's arithmetic and workload: rates from completion times, percentiles, the post mix, scraping."""

from __future__ import annotations

import math

import orjson
import pytest

from bench.pipeline import figures, scrape
from bench.pipeline.workload import BENCH_TOPICS, encode, key, make_posts
from sentimon.schema import Post
from stream_processor.matcher import TopicMatcher


def test_sustained_rate_ignores_the_start_up_and_the_tail() -> None:
    # 1,000 items at 100/s after a 5 s start-up gap and with a straggler 10 s late.
    times = [5.0] + [5.0 + i / 100 for i in range(1, 999)] + [25.0]
    assert figures.sustained_rate(times) == pytest.approx(100.0, rel=0.01)
    assert figures.overall_rate(0.0, times) == pytest.approx(1000 / 25.0)


def test_sustained_rate_of_one_instant_and_of_nothing() -> None:
    assert figures.sustained_rate([]) == 0.0
    assert figures.sustained_rate([3.0] * 10) == math.inf


def test_percentiles_interpolate() -> None:
    values = [float(v) for v in range(1, 101)]
    assert figures.percentile(values, 50) == pytest.approx(50.5)
    assert figures.percentile(values, 99) == pytest.approx(99.01)
    assert math.isnan(figures.percentile([], 99))
    summary = figures.latency_summary([0.1, 0.2, 0.3, 2.0])
    assert summary["max_latency_s"] == 2.0 and summary["p50_latency_s"] == 0.25


def test_per_second_counts_every_bucket_including_empty_ones() -> None:
    xs, ys = figures.per_second([10.1, 10.2, 12.5], t0=10.0)
    assert xs == [0.0, 1.0, 2.0] and ys == [2.0, 0.0, 1.0]


def test_posts_are_unique_valid_and_hit_the_bench_topics() -> None:
    filler = ["just a plain tweet about nothing", "another one with no brand"]
    posts = make_posts(2000, "r1", filler, demo_share=0.5)
    assert len({p["id"] for p in posts}) == 2000
    parsed = [Post.from_json(encode(p, 1_700_000_000.0 + i)) for i, p in enumerate(posts)]
    assert parsed[5].metadata["bench_sent"] == 1_700_000_005.0
    assert key(posts[0]) == f"bench:{posts[0]['id']}".encode()
    matcher = TopicMatcher.from_rules(dict(enumerate(BENCH_TOPICS.values(), start=1)))
    matched = sum(bool(matcher.match(p.text)) for p in parsed)
    assert 0.25 < matched / len(parsed) < 0.6  # a realistic share: most posts match no topic
    assert sum(p.text in filler for p in parsed) == pytest.approx(1000, abs=100)


def test_batch_profile_from_two_scrapes() -> None:
    def page(count: int, size_sum: float, seconds: float) -> str:
        lines = []
        for name, total in (
            ("sentimon_batch_size", size_sum),
            ("sentimon_batch_seconds", seconds),
            ("sentimon_classify_seconds", seconds / 2),
            ("sentimon_db_seconds", seconds / 4),
        ):
            lines += [f"# TYPE {name} histogram", f"{name}_count {count}", f"{name}_sum {total}"]
        return "\n".join(lines) + "\n"

    before = scrape.sums_and_counts([page(2, 100, 1.0)])
    after = scrape.sums_and_counts([page(6, 1100, 3.0), page(4, 1000, 2.0)])
    profile = scrape.batch_profile(before, after)
    assert profile == {
        "batches": 8,
        "mean_batch": 250.0,
        "batch_s": 0.5,
        "classify_s": 0.25,
        "db_s": 0.125,
        "live_s": 0.0,
        "produce_s": 0.0,
    }
    assert orjson.dumps(profile)
