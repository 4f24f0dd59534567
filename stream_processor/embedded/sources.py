"""Feeders for the in-process queue: the demo scenario in real time, or a file of posts replayed."""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from stream_processor.batch import RawMessage
from stream_processor.embedded.demo import DemoScenario

log = logging.getLogger(__name__)
END = RawMessage(None, "end-of-source")
# (seconds after the start it is due, payload[, where it came from, e.g. "posts.jsonl:12"])
Item = tuple[float | None, bytes | dict[str, Any]] | tuple[float | None, bytes | dict[str, Any], str]


def demo_items(scenario: DemoScenario | None = None, history_minutes: int = 0) -> Iterator[Item]:
    """The demo's posts, due at their scripted second; created_at is stamped when each is sent. With
    `history_minutes`, first that much of the past at once (dated in the past), as a warm start."""
    scenario = scenario or DemoScenario()
    run_id = uuid.uuid4().hex[:8]
    now = datetime.now(UTC)
    for before, fields in sorted(scenario.history(run_id, history_minutes), key=lambda item: -item[0]):
        yield None, {**fields, "created_at": (now - timedelta(seconds=before)).isoformat()}
    yield from scenario.arrivals(run_id)


def replay_items(path: Path) -> Iterator[Item]:
    """Lines of a JSON-lines file of posts, due by their created_at spacing; bad lines pass through raw
    (they become dead letters, exactly as on Kafka)."""
    first: datetime | None = None
    with path.open("rb") as fh:
        for number, line in enumerate(fh, 1):
            line = line.rstrip(b"\r\n")
            if not line.strip():
                continue
            when = _created_at(line)
            if when is not None and first is None:
                first = when
            due = (when - first).total_seconds() if when is not None and first is not None else None
            yield due, line, f"{path.name}:{number}"


def _created_at(line: bytes) -> datetime | None:
    try:
        value = orjson.loads(line).get("created_at")
        when = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except (orjson.JSONDecodeError, AttributeError, ValueError, TypeError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


class Feeder(threading.Thread):
    """Puts items on the queue at `due / speed` seconds after start (speed 0: as fast as possible)."""

    def __init__(self, items: Iterator[Item], out: queue.Queue[RawMessage], speed: float, name: str) -> None:
        super().__init__(name=f"feeder-{name}", daemon=True)
        self.items, self.out, self.speed, self.source = items, out, speed, name
        self.stop_event = threading.Event()
        self.sent = 0

    def run(self) -> None:
        started = time.monotonic()
        try:
            for item in self.items:
                due, payload = item[0], item[1]
                if due is not None and self.speed > 0:
                    wait = started + due / self.speed - time.monotonic()
                    if wait > 0 and self.stop_event.wait(wait):
                        return
                if self.stop_event.is_set():
                    return
                raw = payload if isinstance(payload, bytes) else _stamp(payload)
                origin = item[2] if len(item) > 2 else f"{self.source}/0/{self.sent}"
                self._put(RawMessage(raw, origin))
                self.sent += 1
        except Exception:
            log.exception("feeder %s failed", self.source)
        self._put(END)

    def _put(self, message: RawMessage) -> None:
        while not self.stop_event.is_set():
            try:
                self.out.put(message, timeout=0.5)
                return
            except queue.Full:
                continue

    def stop(self) -> None:
        self.stop_event.set()


def _stamp(fields: dict[str, Any]) -> bytes:
    return orjson.dumps({"created_at": datetime.now(UTC).isoformat(), **fields})
