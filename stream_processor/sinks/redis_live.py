"""The Redis live view: latest window and recent series per topic, plus a pub/sub message per update."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import cast

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from sentimon.retry import ServiceUnavailable
from sentimon.storage import redis_keys
from stream_processor.codec import window_from_json, window_to_json
from stream_processor.sinks.base import Batch
from stream_processor.windows import WindowState, changes, supersedes

log = logging.getLogger(__name__)

# An update is applied only when it is for a newer window or has more changes (`rev`, which a
# deletion raises too, though it lowers the totals): replays and out-of-order writes from several
# workers can never move a number backwards. Totals written before `rev` existed count their posts.
_UPDATE = """
local ws = tonumber(ARGV[1])
local rev = tonumber(ARGV[2])
local existing = redis.call('ZRANGEBYSCORE', KEYS[2], ws, ws)
if #existing > 0 then
  local old = cjson.decode(existing[1])
  local old_rev = tonumber(old['rev'] or 0)
  if old_rev == 0 then old_rev = tonumber(old['n']) end
  if old_rev >= rev then
    return 0
  end
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], ws, ws)
redis.call('ZADD', KEYS[2], ws, ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. tostring(ws - tonumber(ARGV[5])))
local cur_ws = tonumber(redis.call('HGET', KEYS[1], 'ts') or '-1')
local cur_rev = tonumber(redis.call('HGET', KEYS[1], 'rev') or redis.call('HGET', KEYS[1], 'n') or '-1')
if ws > cur_ws or (ws == cur_ws and rev > cur_rev) then
  redis.call('HSET', KEYS[1], 'ts', ARGV[1], 'n', ARGV[6], 'rev', ARGV[2], 'data', ARGV[3])
end
redis.call('PUBLISH', ARGV[4], ARGV[3])
return 1
"""


class RedisLiveView:
    """Writes absolute totals with one pipelined script call per window; when Redis is down the newest
    totals stay staged (bounded per topic) and are written when it is back."""

    name = "redis"

    def __init__(self, client: redis.Redis, keep_seconds: int = 6 * 3600, max_staged_per_topic: int = 360):
        self.keep_seconds = keep_seconds
        self.max_staged_per_topic = max_staged_per_topic
        self._staged: dict[tuple[int, datetime], WindowState] = {}
        self.use(client)

    def use(self, client: redis.Redis) -> None:
        """Write through another connection from now on (what was staged stays staged)."""
        self.client = client
        self._script = client.register_script(_UPDATE)

    @classmethod
    def from_url(cls, url: str) -> RedisLiveView:
        # No client-side retries: the processor decides when to try again (and keeps processing meanwhile).
        client = redis.Redis.from_url(
            url, socket_timeout=2, socket_connect_timeout=2, retry=Retry(NoBackoff(), 0)
        )
        return cls(client)

    def add(self, batch: Batch) -> None:
        for window in batch.windows:
            if supersedes(window, self._staged.get(window.key)):
                self._staged[window.key] = window.copy()
        self._bound()

    def _bound(self) -> None:
        """While Redis is away keep only each topic's newest windows: the live view needs no more."""
        per_topic: dict[int, list[datetime]] = {}
        for topic_id, start in self._staged:
            per_topic.setdefault(topic_id, []).append(start)
        for topic_id, starts in per_topic.items():
            for start in sorted(starts)[: max(0, len(starts) - self.max_staged_per_topic)]:
                del self._staged[(topic_id, start)]

    def pending(self) -> int:
        return len(self._staged)

    def discard(self) -> None:
        self._staged.clear()

    def flush(self) -> list[WindowState]:
        if not self._staged:
            try:
                self.client.ping()  # nothing to write, but a caller waiting for Redis to be back asks
            except redis.RedisError as exc:
                raise ServiceUnavailable(f"redis unavailable: {exc}") from exc
            return []
        windows = sorted(self._staged.values(), key=lambda w: (w.window_start, w.topic_id))
        pipe = self.client.pipeline(transaction=False)
        for w in windows:
            keys = [redis_keys.topic_latest(w.topic_id), redis_keys.topic_series(w.topic_id)]
            ts = int(w.window_start.timestamp())
            channel, keep = redis_keys.UPDATES_CHANNEL, self.keep_seconds
            args: list[bytes | str | int] = [ts, changes(w), window_to_json(w), channel, keep, w.n]
            self._script(keys=keys, args=args, client=pipe)
        try:
            results = pipe.execute()
        except redis.RedisError as exc:
            raise ServiceUnavailable(f"redis unavailable: {exc}") from exc
        self._staged.clear()
        return [w for w, applied in zip(windows, results, strict=True) if applied]

    def filled_on(self) -> tuple[str, str | None]:
        """(this server's run id, the run id the view was last refilled on): they differ after a restart,
        and the second is None after a flush."""
        pipe = self.client.pipeline(transaction=False)
        pipe.info("server")
        pipe.get(redis_keys.live_filled())
        try:
            info, marker = pipe.execute()
        except redis.RedisError as exc:
            raise ServiceUnavailable(f"redis unavailable: {exc}") from exc
        return str(info.get("run_id", "")), marker.decode() if marker else None

    def mark_filled(self, run_id: str) -> None:
        try:
            self.client.set(redis_keys.live_filled(), run_id)
        except redis.RedisError as exc:
            raise ServiceUnavailable(f"redis unavailable: {exc}") from exc


def read_latest(client: redis.Redis, topic_id: int) -> WindowState | None:
    """The newest window of a topic as the live view holds it."""
    raw = client.hget(redis_keys.topic_latest(topic_id), "data")
    return window_from_json(raw) if raw else None


def read_series(client: redis.Redis, topic_id: int) -> list[WindowState]:
    """The recent windows of a topic, oldest first."""
    # redis-py types a sync client's replies as a union with the async one's (and with scores).
    members = cast(list[bytes], client.zrange(redis_keys.topic_series(topic_id), 0, -1))
    return [window_from_json(m) for m in members]
