"""One window clock: stored windows, dashboard roll-ups and the alert clock put a moment in the same
window, to the microsecond, whatever the moment's time zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dashboard.trends import SPARK, baseline_span, build_tiles, current_since, spark_points
from sentimon.schema import (
    BUCKETS,
    EARLIEST_POST,
    WINDOW,
    Post,
    ScoredPost,
    WindowAggregate,
    last_closed_window,
    minute_index,
    minute_start,
    rollup,
    window_start,
)
from stream_processor.windows import WindowState, aggregate

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
OFFSETS = [timedelta(hours=2), timedelta(hours=-9, minutes=-30), timedelta(hours=14)]
ZONES = st.sampled_from([UTC, *(timezone(o) for o in OFFSETS)])
# Posts may lie between EARLIEST_POST and a day from now; the arithmetic holds far beyond that.
FIRST = EARLIEST_POST.replace(tzinfo=None) + timedelta(days=1)
MOMENTS = st.datetimes(min_value=FIRST, max_value=datetime(2200, 1, 1), timezones=ZONES)
POST_MOMENTS = st.datetimes(min_value=FIRST, max_value=datetime(2025, 1, 1), timezones=ZONES)
GRACE = st.integers(min_value=0, max_value=120_000_000).map(lambda us: timedelta(microseconds=us))


def stored_window(at: datetime) -> datetime:
    """The window the processor stores a post created at `at` in."""
    post = ScoredPost(Post(source="t", id="1", text="x", created_at=at), "neutral", (0.2, 0.6, 0.2), "v", [7])
    (key,) = aggregate([post])
    return key[1]


@given(POST_MOMENTS)
def test_a_post_is_stored_in_the_window_the_alert_clock_and_the_dashboard_read(at: datetime) -> None:
    stored = stored_window(at)
    assert stored == window_start(at) == minute_start(minute_index(at))
    assert stored.tzinfo is UTC and stored.second == stored.microsecond == 0
    assert stored <= at < stored + WINDOW
    minutes = rollup([WindowAggregate(7, stored, n=1)], "1m")
    assert [(w.topic_id, w.window_start, w.n) for w in minutes] == [(7, stored, 1)]


@given(MOMENTS, st.sampled_from(sorted(BUCKETS)))
def test_every_roll_up_bucket_holds_whole_windows(at: datetime, bucket: str) -> None:
    size = BUCKETS[bucket]
    start = window_start(at, bucket)
    assert start <= window_start(at) and window_start(at) + WINDOW <= start + size
    (rolled,) = rollup([WindowAggregate(1, window_start(at), n=2)], bucket)
    assert rolled.window_start == start and rolled.n == 2
    assert window_start(start, bucket) == start and (start - window_start(T0, "1d")) % size == timedelta(0)


@given(MOMENTS)
def test_minute_index_counts_whole_minutes_without_float_rounding(at: datetime) -> None:
    index = minute_index(at)
    assert minute_start(index) <= at < minute_start(index + 1)
    assert minute_index(minute_start(index)) == index


@given(MOMENTS, MOMENTS, MOMENTS, GRACE)
def test_a_window_is_closed_once_the_event_clock_passes_its_end_and_the_grace(
    post_at: datetime, newest_at: datetime, now: datetime, grace: timedelta
) -> None:
    window, newest = window_start(post_at), window_start(newest_at)
    if window > newest:
        window, newest = newest, window
    clock = min(now, newest + WINDOW)
    closed = window <= last_closed_window(now, newest, grace)
    assert closed == (clock >= window + WINDOW + grace)


@given(POST_MOMENTS, st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=30)))
def test_the_overview_counts_each_window_as_current_or_as_baseline_never_both_nor_neither(
    at: datetime, later: timedelta
) -> None:
    stored, now = stored_window(at), at + later
    start, end = baseline_span(now)
    in_current = stored >= current_since(now)
    in_baseline = start <= stored < end
    assert not (in_current and in_baseline)
    assert in_current or in_baseline or stored < start
    (tile,) = build_tiles([(7, "t", True)], {7: [WindowAggregate(7, stored, n=1)]}, {}, {}, now)
    assert tile.current.n == int(in_current)


@given(POST_MOMENTS, st.integers(min_value=55, max_value=65), st.integers(min_value=0, max_value=59_999_999))
def test_the_sparkline_shows_every_window_of_the_last_hour_the_dashboard_reads(
    at: datetime, minutes: int, microseconds: int
) -> None:
    stored = stored_window(at)
    now = at + minutes * WINDOW + timedelta(microseconds=microseconds)  # around the hour's edge
    neg = WindowAggregate(7, stored, n=10, acc_neg=10.0)
    points = spark_points([neg], now)
    assert bool(points) == (stored >= window_start(now) - SPARK)


def test_window_start_floors_to_the_minute_and_to_utc_days() -> None:
    plus2 = datetime(2024, 5, 1, 16, 3, 59, 999_999, tzinfo=timezone(timedelta(hours=2)))
    assert window_start(plus2) == datetime(2024, 5, 1, 14, 3, tzinfo=UTC)
    assert window_start(T0 + timedelta(hours=5, minutes=7), timedelta(days=1)) == T0.replace(hour=0)
    assert window_start(T0.replace(tzinfo=None) + timedelta(seconds=61)) == T0 + WINDOW  # naive is UTC


def test_an_unknown_bucket_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="1m, 5m, 1h, 1d"):
        window_start(T0, "2m")


def test_rollup_to_hours_sums_minutes_per_topic() -> None:
    minutes = [WindowState(1, T0 + timedelta(minutes=m), n=1, n_neg=1, sum_neg=0.5) for m in range(0, 120, 7)]
    minutes.append(WindowState(2, T0, n=3, n_pos=3, sum_pos=2.4))
    hours = rollup(minutes, "1h")
    assert [(h.topic_id, h.window_start, h.n) for h in hours] == [
        (1, T0, 9),
        (1, T0 + timedelta(hours=1), 9),
        (2, T0, 3),
    ]
    assert abs(hours[0].sum_neg - 4.5) < 1e-9
    assert minutes[0].n == 1  # inputs untouched
