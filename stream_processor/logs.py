"""Structured logs: one JSON object per line, with topic/partition/offset/post id when a message is named."""

from __future__ import annotations

import logging
import sys
import time
from datetime import UTC, datetime
from typing import Any

import orjson

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """Every `extra=` field becomes a key, so logs can be filtered by topic, partition, offset or post."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                out[key] = value
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(out, default=str).decode()


LIBRARY_LOGGERS = ("aiokafka", "kafka", "faust", "mode")


class RepeatFilter(logging.Filter):
    """Lets one record per (logger, message template) through every `every_s` seconds; the next one
    after a pause says how many were held back. An outage of a client library (aiokafka retrying a
    dead broker) then costs a few lines a minute instead of thousands. Only the libraries' loggers are
    filtered: ours log an outage once per state change (`outage.py`) and every dead letter once."""

    def __init__(self, every_s: float = 30.0, loggers: tuple[str, ...] = LIBRARY_LOGGERS) -> None:
        super().__init__()
        self.every_s, self.loggers = every_s, loggers
        self._seen: dict[tuple[str, object], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING or record.name.split(".")[0] not in self.loggers:
            return True
        key = (record.name, record.msg)
        now = time.monotonic()
        last, held = self._seen.get(key, (float("-inf"), 0))
        if now - last < self.every_s:
            self._seen[key] = (last, held + 1)
            return False
        self._seen[key] = (now, 0)
        if held:
            record.msg = f"{record.msg} (and {held} more like it in the last {now - last:.0f}s)"
        return True


def json_handler(stream: Any = None) -> logging.Handler:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    return handler


def configure(level: str = "info", json: bool = True) -> None:
    """Set up the root logger once for a process (JSON lines by default, plain text for people)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = json_handler() if json else logging.StreamHandler(sys.stderr)
    if not json:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(level.upper())
    for noisy in ("alembic", "aiokafka", "kafka", "faust", "mode"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))


def message_fields(origin: str | None, post_key: str | None = None) -> dict[str, Any]:
    """The `extra=` fields naming one message: topic, partition and offset from "topic/partition/offset"."""
    fields: dict[str, Any] = {"post_id": post_key}
    if origin:
        parts = origin.rsplit("/", 2)
        if len(parts) == 3:
            topic, partition, offset = parts
            fields.update(topic=topic, partition=int(partition), offset=int(offset))
        else:
            fields["origin"] = origin
    return fields
