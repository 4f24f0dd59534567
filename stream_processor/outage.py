"""A stage that keeps failing logs one line when it starts, a summary now and then, one when it ends."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass
class Outage:
    """The retry state of one stage (classify, commit, live, produce), for the log and for /health."""

    stage: str
    summary_every_s: float = 30.0
    since: float | None = None
    attempts: int = 0
    last_error: str = ""
    _next_summary: float = 0.0

    @property
    def active(self) -> bool:
        return self.since is not None

    def failed(self, exc: BaseException, what: str = "failing, retrying") -> None:
        """Count a failed attempt; log only the first of a run and then one summary per interval."""
        now = time.time()
        self.attempts += 1
        self.last_error = f"{type(exc).__name__}: {exc}"[:300]
        if self.since is None:
            self.since, self._next_summary = now, now + self.summary_every_s
            log.warning("%s %s: %s", self.stage, what, self.last_error)
        elif now >= self._next_summary:
            self._next_summary = now + self.summary_every_s
            log.warning("%s still %s after %.0fs and %d attempts; last error: %s",
                        self.stage, what, now - self.since, self.attempts, self.last_error)  # fmt: skip

    def recovered(self) -> None:
        if self.since is not None:
            log.info("%s works again after %.1fs and %d failed attempts",
                     self.stage, time.time() - self.since, self.attempts)  # fmt: skip
        self.since, self.attempts, self.last_error = None, 0, ""

    def as_dict(self) -> dict[str, object]:
        return {
            "stage": self.stage,
            "since": self.since,
            "for_s": round(time.time() - self.since, 1) if self.since is not None else 0.0,
            "attempts": self.attempts,
            "error": self.last_error,
        }
