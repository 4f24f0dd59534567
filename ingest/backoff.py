"""Reconnect delays (exponential with jitter) and the Retry-After header, free of I/O."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


@dataclass(slots=True)
class Backoff:
    """Exponential backoff with full jitter, reset after a connection that delivered data."""

    initial_s: float = 0.5
    max_s: float = 60.0
    factor: float = 2.0
    jitter: bool = True
    attempt: int = 0
    _rng: random.Random = field(default_factory=random.Random, repr=False)

    def next_delay(self) -> float:
        """The delay before the next attempt; grows until max_s."""
        ceiling = min(self.max_s, self.initial_s * self.factor**self.attempt)
        self.attempt += 1
        if not self.jitter:
            return ceiling
        return self._rng.uniform(ceiling / 2, ceiling)

    def reset(self) -> None:
        self.attempt = 0


def retry_after_seconds(value: str | None, now: datetime | None = None, default: float = 30.0) -> float:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date); never negative."""
    if not value:
        return default
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
