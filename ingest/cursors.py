"""Persisted source positions: one small JSON file per source under `{data_dir}/ingest/cursors`.

Files, not the database: an ingest process must run where only Kafka is configured, a cursor is
written by exactly one process, and an atomic rename makes each write crash-safe.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass(slots=True)
class CursorState:
    """Where a source stopped, and the keys it sent last (to drop the overlap on resume)."""

    cursor: Any = None
    recent_keys: list[str] = field(default_factory=list)


def cursor_name(*parts: str) -> str:
    """A file-safe, stable name for a source configuration, e.g. 'rss-1a2b3c4d5e'."""
    head = _SAFE.sub("-", parts[0]).strip("-") or "source"
    if len(parts) == 1:
        return head
    digest = hashlib.sha1("\n".join(parts[1:]).encode()).hexdigest()[:10]
    return f"{head}-{digest}"


class CursorStore:
    """Loads and saves one source's CursorState; writes are atomic (temp file + rename)."""

    def __init__(self, directory: Path, name: str):
        self.path = Path(directory) / f"{_SAFE.sub('-', name)}.json"

    @classmethod
    def for_settings(cls, data_dir: Path, name: str) -> CursorStore:
        return cls(Path(data_dir) / "ingest" / "cursors", name)

    def load(self) -> CursorState:
        try:
            raw = orjson.loads(self.path.read_bytes())
        except FileNotFoundError:
            return CursorState()
        except orjson.JSONDecodeError as exc:
            raise ValueError(f"cursor file {self.path} is corrupt ({exc}); delete it to start over") from None
        return CursorState(cursor=raw.get("cursor"), recent_keys=list(raw.get("recent_keys") or []))

    def save(self, state: CursorState) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".json.tmp")
        tmp.write_bytes(orjson.dumps({"cursor": state.cursor, "recent_keys": state.recent_keys}))
        os.replace(tmp, self.path)

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)

    def read_only(self, start_over: bool = False) -> CursorStore:
        """This store's state, frozen: saving and clearing do nothing (for --dry-run)."""
        return _FrozenStore(self.path, CursorState() if start_over else self.load())


class _FrozenStore(CursorStore):
    def __init__(self, path: Path, state: CursorState):
        self.path, self._state = path, state

    def load(self) -> CursorState:
        return self._state

    def save(self, state: CursorState) -> None:
        return None

    def clear(self) -> None:
        return None
