"""Periodic callbacks (rule reloads, the alert cycle) run between batches by the embedded runner."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

log = logging.getLogger(__name__)
Periodic = tuple[float, Callable[[], object]]


@dataclass
class Timers:
    """Calls each callback every `seconds`; a callback that raises is logged and tried again next time."""

    periodic: Sequence[Periodic] = ()
    _due: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        now = time.monotonic()
        self._due = [now + seconds for seconds, _ in self.periodic]

    def run_due(self) -> None:
        now = time.monotonic()
        for i, (seconds, callback) in enumerate(self.periodic):
            if now >= self._due[i]:
                self._due[i] = now + seconds
                try:
                    callback()
                except Exception:
                    log.exception("periodic task %s failed", getattr(callback, "__name__", callback))
