"""The in-memory live view of the embedded default: latest window and recent series per topic."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime

from stream_processor.sinks.base import Batch
from stream_processor.windows import WindowState, supersedes

Listener = Callable[[WindowState], None]


class MemoryLiveView:
    """Holds absolute window totals; an update wins only if it is newer or larger (replays are no-ops)."""

    name = "memory"

    def __init__(self, keep_windows: int = 180) -> None:
        self.keep_windows = keep_windows
        self._lock = threading.Lock()
        self._staged: dict[tuple[int, datetime], WindowState] = {}
        self._series: dict[int, dict[datetime, WindowState]] = {}
        self._latest: dict[int, WindowState] = {}
        self._listeners: list[Listener] = []

    def add(self, batch: Batch) -> None:
        with self._lock:
            for window in batch.windows:
                if supersedes(window, self._staged.get(window.key)):
                    self._staged[window.key] = window.copy()

    def pending(self) -> int:
        return len(self._staged)

    def discard(self) -> None:
        with self._lock:
            self._staged = {}

    def flush(self) -> list[WindowState]:
        with self._lock:
            staged, self._staged = self._staged, {}
            changed = [w for w in staged.values() if self._apply(w)]
            listeners = list(self._listeners)
        for window in changed:
            for listener in listeners:
                listener(window)
        return changed

    def _apply(self, window: WindowState) -> bool:
        series = self._series.setdefault(window.topic_id, {})
        if not supersedes(window, series.get(window.window_start)):
            return False
        series[window.window_start] = window
        for old in sorted(series)[: max(0, len(series) - self.keep_windows)]:
            del series[old]
        if supersedes(window, self._latest.get(window.topic_id)):
            self._latest[window.topic_id] = window
        return True

    def subscribe(self, listener: Listener) -> None:
        """Call `listener(window)` after each flush for every window that changed."""
        with self._lock:
            self._listeners.append(listener)

    def latest(self, topic_id: int) -> WindowState | None:
        with self._lock:
            return self._latest.get(topic_id)

    def latest_all(self) -> dict[int, WindowState]:
        with self._lock:
            return dict(self._latest)

    def series(self, topic_id: int) -> list[WindowState]:
        with self._lock:
            windows = self._series.get(topic_id, {})
            return [windows[k] for k in sorted(windows)]
