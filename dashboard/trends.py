"""Turning 1-minute window aggregates into what people read: shares, baselines, tiles, series.

Every share shown is the corrected estimate of `sentimon.quantify` (the same number as the alert
detector, the Redis live view, the exports and `sentimon report shares`), with its 90% interval."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

import pandas as pd

from sentimon.quantify import Estimate
from sentimon.schema import CURRENT, WINDOW, WindowAggregate, bucket_size, total, window_start

T = TypeVar("T")
BASELINE = timedelta(hours=24)  # compared with the day before it
SPARK = timedelta(hours=1)
MIN_VOLUME = 5  # below this a share is too noisy to rank a topic by
BUCKETS = {"1 min": "1m", "5 min": "5m", "1 hour": "1h", "1 day": "1d"}  # labels → storage roll-ups
BUCKET_SIZES = {label: bucket_size(code) for label, code in BUCKETS.items()}
RANGES = {"Last hour": timedelta(hours=1), "Last day": timedelta(days=1), "Last week": timedelta(days=7)}
SERIES_COLUMNS = ["bucket_start", "topic", "volume", "negative", "neutral", "positive",
                  "negative_low", "negative_high", "method"]  # fmt: skip


@dataclass(frozen=True, slots=True)
class Tile:
    """One topic on the overview."""

    topic_id: int
    name: str
    active: bool
    current: Estimate
    baseline: Estimate
    spark: list[float] = field(default_factory=list)
    open_alerts: int = 0
    last_window: datetime | None = None

    @property
    def neg_change(self) -> float | None:
        """Change of the negative share against the baseline, in share points; None if unknown."""
        if self.current.n < MIN_VOLUME or self.baseline.n < MIN_VOLUME:
            return None
        return self.current.negative - self.baseline.negative


def current_since(now: datetime) -> datetime:
    """Where "now" on the overview starts: the windows from here on are current, the day before
    it is the baseline (whole windows, so a window is in exactly one of them)."""
    return window_start(now) - CURRENT


def baseline_span(now: datetime) -> tuple[datetime, datetime]:
    """The [start, end) of the baseline the current windows are compared with."""
    since = current_since(now)
    return since - BASELINE, since


def attention_key(tile: Tile) -> tuple[int, int, float, int]:
    """Sort key, most urgent first: open alerts, then rising negativity, then volume; paused last."""
    change = tile.neg_change
    return (
        0 if tile.active else 1,
        -tile.open_alerts,
        -(change if change is not None else float("-inf")),
        -tile.current.n,
    )


def build_tiles(
    topics: Sequence[tuple[int, str, bool]],
    windows: dict[int, list[WindowAggregate]],
    baselines: dict[int, WindowAggregate],
    open_alerts: dict[int, int],
    now: datetime,
) -> list[Tile]:
    """Tiles for (id, name, active) topics from their recent windows, sorted by attention."""
    tiles = []
    since = current_since(now)
    for topic_id, name, active in topics:
        recent = sorted(windows.get(topic_id, []), key=lambda w: w.window_start)
        current = total(w for w in recent if w.window_start >= since).estimate()
        baseline = baselines.get(topic_id)
        tiles.append(
            Tile(
                topic_id=topic_id,
                name=name,
                active=active,
                current=current,
                baseline=baseline.estimate() if baseline is not None else total([]).estimate(),
                spark=spark_points(recent, now),
                open_alerts=open_alerts.get(topic_id, 0),
                last_window=recent[-1].window_start if recent else None,
            )
        )
    return sorted(tiles, key=attention_key)


def spark_points(windows: Sequence[WindowAggregate], now: datetime) -> list[float]:
    """Negative share per minute over the last hour, gaps carried forward (a readable line)."""
    start = window_start(now) - SPARK
    by_minute = {w.window_start: w for w in windows if w.window_start >= start}
    points: list[float] = []
    last = None
    for i in range(SPARK // WINDOW + 1):
        w = by_minute.get(start + i * WINDOW)
        if w is not None and w.n:
            last = round(100 * w.estimate().negative, 1)
        if last is not None:
            points.append(last)
    return points


def to_frame(buckets: Iterable[WindowAggregate], topic_name: str) -> pd.DataFrame:
    """Rolled-up aggregates as a table: bucket start, volume, the three corrected shares and the
    negative share's 90% interval."""
    rows = []
    for w in sorted(buckets, key=lambda w: w.window_start):
        if w.n:
            e = w.estimate()
            rows.append((w.window_start, topic_name, w.n, *(round(x, 4) for x in e.shares),
                         round(e.negative_low, 4), round(e.negative_high, 4), e.method))  # fmt: skip
    frame = pd.DataFrame(rows, columns=SERIES_COLUMNS)
    frame["bucket_start"] = pd.to_datetime(frame["bucket_start"], utc=True)
    return frame


def to_csv(series: pd.DataFrame) -> bytes:
    """The series as CSV with ISO timestamps, ready for a download button."""
    frame = series.copy()
    frame["bucket_start"] = pd.to_datetime(frame["bucket_start"], utc=True).map(lambda t: t.isoformat())
    return frame.to_csv(index=False).encode()


def pct(share: float) -> str:
    return f"{100 * share:.0f}%"


_LINKS = re.compile(r"https?://\S+|www\.\S+|^\s*rt\s+@\w+:?")
_LETTERS = re.compile(r"[^\W\d_]+")


def similar_key(text: str) -> str:
    """What near-duplicates share: their letters, run together. Links, a retweet's "RT @who:", numbers,
    punctuation and spacing drop out, so "#AcmeAir", "@acmeair" and "Acme Air" read the same."""
    return "".join(_LETTERS.findall(_LINKS.sub(" ", text.casefold())))


def collapse_similar(items: Iterable[T], text: Callable[[T], str], limit: int) -> list[tuple[T, int]]:
    """The first of each group of near-duplicates, in order, with the group's size; at most `limit`."""
    firsts: dict[str, T] = {}
    counts: dict[str, int] = {}
    for item in items:
        key = similar_key(text(item))
        counts[key] = counts.get(key, 0) + 1
        firsts.setdefault(key, item)
    return [(item, counts[key]) for key, item in firsts.items()][:limit]


def fitting_range(oldest: datetime | None, now: datetime) -> str:
    """The shortest named range that holds data going back to `oldest`."""
    age = now - oldest if oldest is not None else timedelta(0)
    return next((name for name, size in RANGES.items() if age <= size), "Last week")


def chart_span(start: datetime, end: datetime, oldest: datetime | None) -> tuple[datetime, datetime]:
    """The chart's time axis: the range, cut to where the data begins, so data younger than the range
    fills the chart instead of a sliver at its right edge."""
    return (start if oldest is None else min(end, max(start, window_start(oldest))), end)
