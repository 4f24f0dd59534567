"""Redis is a cache of Postgres: when it comes back empty or from an old snapshot, refill it from there."""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from sqlalchemy import Engine

from sentimon.schema import Post, ScoredPost
from sentimon.storage import posts, windows
from stream_processor.sinks.base import Batch
from stream_processor.sinks.redis_live import RedisLiveView
from stream_processor.sinks.sql import _state as window_state
from stream_processor.windows import WindowState

log = logging.getLogger(__name__)


def redis_view(url: str, engine: Engine, every_s: float = 2.0) -> tuple[RedisLiveView, LiveRefill]:
    """The Redis live view and the refill that keeps it equal to the database (both drivers use it)."""
    view = RedisLiveView.from_url(url)
    return view, LiveRefill(engine, view, every_s)


class LiveRefill:
    """Every `every_s`, asks Redis for its run id and the run id it was last filled on. A flush (marker
    gone), a restart (another run id) or a forced call (the view is back from an outage, or refused
    an update) makes it write every window Redis keeps, for every topic, from the database; the
    view's script only ever raises totals, so racing live updates are safe."""

    def __init__(self, engine: Engine, view: RedisLiveView, every_s: float = 2.0) -> None:
        self.engine, self.view, self.every_s = engine, view, every_s
        self._next = 0.0

    def __call__(self, force: bool = False) -> int:
        """Refill when needed (or `force`d: the view was away or dropped an update); returns how many
        windows were written. Raises ServiceUnavailable."""
        if not force and time.monotonic() < self._next:
            return 0
        self._next = time.monotonic() + self.every_s
        run_id, filled_on = self.view.filled_on()
        if filled_on == run_id and not force:
            return 0
        states = self.stored_windows()
        self.view.add(Batch(windows=states))
        self.view.flush()
        self.view.mark_filled(run_id)
        log.info("live view refilled from the database: %d windows of %d topics",
                 len(states), len({w.topic_id for w in states}))  # fmt: skip
        return len(states)

    def stored_windows(self) -> list[WindowState]:
        """Each topic's windows as far back from its newest as the live view keeps them."""
        keep = timedelta(seconds=self.view.keep_seconds)
        with self.engine.connect() as conn:
            latest = windows.latest_windows(conn)
            rows = [r for topic, agg in latest.items()
                    for r in windows.get_windows(conn, topic, start=agg.window_start - keep)]  # fmt: skip
            reps = {i for r in rows for i in (r.top_neg_post, r.top_pos_post) if i is not None}
            by_row = {i: _scored(*found) for i, found in posts.posts_by_row(conn, sorted(reps)).items()}
        return [window_state(r, by_row) for r in rows]


def _scored(source: str, post_id: str, text: str) -> ScoredPost:
    """Just enough of a post for a window's representative: its key and text."""
    return ScoredPost(Post.model_construct(source=source, id=post_id, text=text), "", (0.0, 0.0, 0.0), "")
