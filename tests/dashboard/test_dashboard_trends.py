"""Overview arithmetic: shares from probabilities, change against baseline, attention order, series."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd

from dashboard.trends import Tile, build_tiles, spark_points, to_csv, to_frame
from sentimon.quantify import Estimate
from sentimon.schema import WindowAggregate, total

NOW = datetime(2026, 1, 5, 12, 30, 20, tzinfo=UTC)


def window(topic: int, minutes_ago: int, n: int, neg: float) -> WindowAggregate:
    """A window whose corrected (ACC) sums say `neg` of its n posts are negative."""
    start = NOW.replace(second=0) - timedelta(minutes=minutes_ago)
    rest = n * (1 - neg) / 2
    return WindowAggregate(
        topic, start, n, 0, 0, 0, n * neg, rest, rest, acc_neg=n * neg, acc_neu=rest, acc_pos=rest
    )


def est(n: int, neg: float) -> Estimate:
    return Estimate("acc", n, neg, (1 - neg) / 2, (1 - neg) / 2, neg - 0.05, neg + 0.05)


def test_shares_are_the_corrected_estimate_of_the_summed_windows() -> None:
    span = total([window(1, 1, 10, 0.2), window(1, 2, 30, 0.6)]).estimate()
    assert span.n == 40 and span.method == "acc"
    assert abs(span.negative - 0.5) < 1e-9 and abs(sum(span.shares) - 1) < 1e-9
    assert total([]).estimate().too_few


def test_change_needs_enough_posts_on_both_sides() -> None:
    tile = Tile(1, "a", True, est(10, 0.5), est(100, 0.2))
    assert tile.neg_change is not None and abs(tile.neg_change - 0.3) < 1e-9
    assert Tile(1, "a", True, est(4, 1.0), est(100, 0.2)).neg_change is None


def test_tiles_sort_alerts_first_then_rising_negativity_then_volume_and_paused_last() -> None:
    topics = [
        (1, "calm", True),
        (2, "rising", True),
        (3, "alerted", True),
        (4, "paused", False),
        (5, "busy", True),
    ]
    windows = {
        1: [window(1, 1, 20, 0.2)],
        2: [window(2, 1, 20, 0.6)],
        3: [window(3, 1, 20, 0.2)],
        4: [window(4, 1, 20, 0.9)],
        5: [window(5, 1, 200, 0.2)],
    }
    baselines = {t: window(t, 100, 1000, 0.2) for t in range(1, 6)}
    tiles = build_tiles(topics, windows, baselines, {3: 1, 4: 2}, NOW)
    assert [t.name for t in tiles] == ["alerted", "rising", "busy", "calm", "paused"]


def test_current_shares_cover_the_last_quarter_hour_only() -> None:
    (tile,) = build_tiles([(1, "a", True)], {1: [window(1, 20, 50, 0.9), window(1, 3, 10, 0.1)]}, {}, {}, NOW)
    assert tile.current.n == 10 and tile.last_window == window(1, 3, 10, 0.1).window_start


def test_sparkline_is_per_minute_percent_with_gaps_carried_forward() -> None:
    points = spark_points([window(1, 5, 10, 0.2), window(1, 2, 10, 0.5)], NOW)
    assert points == [20.0, 20.0, 20.0, 50.0, 50.0, 50.0]


def test_series_table_and_csv() -> None:
    frame = to_frame([window(1, 1, 10, 0.25), window(1, 2, 0, 0.0)], "acme")
    assert list(frame["volume"]) == [10] and list(frame["negative"]) == [0.25]
    csv = to_csv(frame).decode().splitlines()
    assert csv[0] == "bucket_start,topic,volume,negative,neutral,positive,negative_low,negative_high,method"
    assert csv[1].startswith("2026-01-05T12:29:00+00:00,acme,10,0.25,0.375,0.375,")
    assert csv[1].endswith(",acc")
    assert to_frame([], "x").empty and isinstance(to_frame([], "x"), pd.DataFrame)


def test_the_dashboards_decision_modules_do_no_io() -> None:
    import subprocess
    import sys

    code = (
        "import sys, dashboard.auth, dashboard.trends, dashboard.safe; "
        "print(sorted(m for m in ('streamlit', 'sqlalchemy', 'redis', 'faust', 'kafka', 'aiokafka', "
        "'httpx', 'aiohttp', 'requests') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_near_duplicate_posts_collapse_into_one_with_a_count() -> None:
    from dashboard.trends import collapse_similar

    texts = [
        "@AcmeAir lost my bag!! https://t.co/a",
        "#AcmeAir lost my bag",
        "acme air lost my bag?",
        "RT @bob: Acme Air lost my bag 2",
        "Late again",
        "Late again, Acme Air",
    ]
    first = ("@AcmeAir lost my bag!! https://t.co/a", 4)
    got = collapse_similar(texts, lambda t: t, limit=5)
    assert got == [first, ("Late again", 1), ("Late again, Acme Air", 1)]
    assert collapse_similar(texts, lambda t: t, limit=1) == [first]


def test_tile_badges_go_on_their_own_line_not_beside_the_title() -> None:
    from dashboard.widgets import tile_badges

    alerted = Tile(1, "Nimbus / Phone", False, est(10, 0.5), est(100, 0.2), open_alerts=1)
    assert tile_badges(alerted) == ":gray-badge[paused] :red-badge[1 open alert]"
    assert tile_badges(Tile(2, "calm", True, est(10, 0.5), est(100, 0.2), open_alerts=2)).endswith(
        "2 open alerts]"
    )
    assert tile_badges(Tile(3, "calm", True, est(10, 0.5), est(100, 0.2))) == ""


def test_a_young_topic_opens_on_the_last_hour_and_its_data_fills_the_chart() -> None:
    from dashboard.trends import chart_span, fitting_range

    now = datetime(2026, 1, 5, 12, 0, 30, tzinfo=UTC)
    assert fitting_range(now - timedelta(minutes=6), now) == "Last hour"
    assert fitting_range(now - timedelta(hours=3), now) == "Last day"
    assert fitting_range(now - timedelta(days=30), now) == "Last week"
    assert fitting_range(None, now) == "Last hour"
    end = now.replace(second=0) + timedelta(minutes=1)
    day = end - timedelta(days=1)
    oldest = now - timedelta(hours=3, seconds=10)
    assert chart_span(day, end, oldest) == (oldest.replace(second=0), end)  # not a sliver of a day
    assert chart_span(day, end, now - timedelta(days=3)) == (day, end)
    assert chart_span(day, end, None) == (day, end)
