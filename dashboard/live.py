"""The overview's live feed from Redis: recent window totals per topic, or None to use the database."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import orjson
import redis

from sentimon.schema import WindowAggregate
from sentimon.storage import redis_keys

log = logging.getLogger(__name__)
_FIELDS = ("n", "n_neg", "n_neu", "n_pos", "sum_neg", "sum_neu", "sum_pos")


def parse_window(topic_id: int, raw: dict[str, Any]) -> WindowAggregate:
    """One window as the Redis sink writes it (JSON or hash fields; start as ISO text or epoch seconds)."""
    start = raw["window_start"]
    if isinstance(start, int | float) or (isinstance(start, str) and start.replace(".", "", 1).isdigit()):
        when = datetime.fromtimestamp(float(start), UTC)
    else:
        when = datetime.fromisoformat(str(start))
        when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    values = {k: (float(raw[k]) if k.startswith("sum_") else int(float(raw[k]))) for k in _FIELDS if k in raw}
    return WindowAggregate(topic_id=topic_id, window_start=when, **values)


class LiveReader:
    """Reads the series each topic keeps in Redis; any failure means 'ask the database instead'."""

    def __init__(self, url: str):
        self.client = redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)

    def recent(self, topic_ids: list[int], since: datetime) -> dict[int, list[WindowAggregate]] | None:
        try:
            pipe = self.client.pipeline(transaction=False)
            for topic_id in topic_ids:
                pipe.zrangebyscore(redis_keys.topic_series(topic_id), since.timestamp(), "+inf")
            replies = pipe.execute()
        except redis.RedisError as exc:
            log.warning("live view unavailable, reading the database: %s", exc)
            return None
        out: dict[int, list[WindowAggregate]] = {}
        try:
            for topic_id, members in zip(topic_ids, replies, strict=True):
                newest: dict[datetime, WindowAggregate] = {}
                for member in members:
                    window = parse_window(topic_id, orjson.loads(member))
                    kept = newest.get(window.window_start)
                    if kept is None or window.n >= kept.n:  # totals only grow: the larger is newer
                        newest[window.window_start] = window
                out[topic_id] = [newest[k] for k in sorted(newest)]
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("unexpected live view format, reading the database: %s", exc)
            return None
        return out
