"""A running embedded stream for the retraining tests: a steady feeder, the runner with hot swap, reads."""

from __future__ import annotations

import itertools
import queue
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import orjson
from sqlalchemy import Engine, func, select

from sentimon.storage.tables import posts
from stream_processor.batch import RawMessage
from tests.retrain.tiny import BASE, SLANG, texts

T0 = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=30)
TEXTS = [t for t, _ in texts(30, BASE, seed=90) + texts(30, SLANG, seed=91)]


def message(i: int) -> RawMessage:
    text = f"{TEXTS[i % len(TEXTS)]} #{i}"
    at = (T0 + timedelta(seconds=i)).isoformat()
    return RawMessage(orjson.dumps({"source": "test", "id": str(i), "text": text, "created_at": at}))


@dataclass
class Stream:
    """The embedded runner scoring a steady flow of posts into the database, with a hot-swapping model."""

    engine: Engine
    settings: object
    poll_s: float = 3600.0  # only a Redis message (or an explicit check) makes the holder look
    pace_s: float = 0.02
    fed: int = 0
    q: queue.Queue = field(default_factory=lambda: queue.Queue(maxsize=2000))
    stop_feeding: threading.Event = field(default_factory=threading.Event)

    def start(self) -> Stream:
        from stream_processor.embedded.runner import EmbeddedRunner
        from stream_processor.hotswap import start_hot_swap
        from stream_processor.options import ProcessOptions
        from stream_processor.pipeline import Processor
        from stream_processor.rulebook import RuleBook
        from stream_processor.sinks.sql import SqlStore

        self.swap = start_hot_swap(self.settings, self.engine, poll_s=self.poll_s)
        processor = Processor(self.swap.classifier, SqlStore(self.engine), [])
        self.runner = EmbeddedRunner(
            processor, RuleBook(self.engine), self.q, ProcessOptions(batch_size=8, latency_s=0.02)
        )
        self.swap.follow(self.runner.health)
        self.summary = None
        self._threads = [
            threading.Thread(target=self._feed, daemon=True),
            threading.Thread(target=self._run, daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        return self

    def _feed(self) -> None:
        for i in itertools.count():
            if self.stop_feeding.wait(self.pace_s):
                return
            self.q.put(message(i))
            self.fed = i + 1

    def _run(self) -> None:
        self.summary = self.runner.run()

    def stop(self) -> None:
        self.stop_feeding.set()
        self.runner.stop_event.set()
        for thread in self._threads:
            thread.join(timeout=30)
        self.swap.stop()

    def stored(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(posts)).scalar_one())

    def rows(self) -> list:
        """(post id, text, label, probs, model_version) in the order they were stored."""
        query = select(
            posts.c.post_id,
            posts.c.text,
            posts.c.label,
            posts.c.p_neg,
            posts.c.p_neu,
            posts.c.p_pos,
            posts.c.model_version,
        ).order_by(posts.c.id)
        with self.engine.connect() as conn:
            return list(conn.execute(query))

    def has_version(self, version: str, after: int = 0) -> bool:
        query = (
            select(func.count())
            .select_from(posts)
            .where(posts.c.model_version == version, posts.c.id > after)
        )
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one()) > 0

    def last_row_id(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.max(posts.c.id))).scalar() or 0)


def runs(versions: list[str]) -> list[str]:
    """Consecutive runs of the same value: [a, a, b, b, a] → [a, b, a]."""
    return [v for v, _ in itertools.groupby(versions)]
