"""The overview's live feed from Redis: recent window totals per topic, or None to use the database."""

from __future__ import annotations

import logging
from datetime import datetime

import redis

from sentimon.schema import WindowAggregate
from sentimon.storage import redis_keys
from stream_processor.codec import window_from_json

log = logging.getLogger(__name__)


class LiveReader:
    """Reads the series the Redis live view keeps per topic; any failure means 'ask the database'."""

    def __init__(self, url: str):
        self.client = redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)

    def recent(self, topic_ids: list[int], since: datetime) -> dict[int, list[WindowAggregate]] | None:
        """Each topic's windows from `since` on, oldest first (one round trip for all topics)."""
        try:
            pipe = self.client.pipeline(transaction=False)
            for topic_id in topic_ids:
                pipe.zrangebyscore(redis_keys.topic_series(topic_id), int(since.timestamp()), "+inf")
            replies = pipe.execute()
        except redis.RedisError as exc:
            log.warning("live view unavailable, reading the database: %s", exc)
            return None
        try:
            return {
                topic_id: sorted((window_from_json(m) for m in members), key=lambda w: w.window_start)
                for topic_id, members in zip(topic_ids, replies, strict=True)
            }
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("unexpected live view format, reading the database: %s", exc)
            return None
