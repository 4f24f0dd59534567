"""One way to wait for a service that is away: capped exponential backoff on tenacity, free of I/O."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    wait_exponential,
    wait_random_exponential,
)
from tenacity.wait import wait_base

T = TypeVar("T")


class ServiceUnavailable(RuntimeError):
    """A service (database, cache, broker) cannot be reached: wait and try again, what was staged is
    kept. The other kind of failure, a message that cannot be processed, is dead-lettered instead."""


@dataclass(frozen=True, slots=True)
class Policy:
    """Delays initial_s, 2·initial_s, … up to max_s; with jitter each is drawn from [delay/2, delay]
    (several clients that lost the same server do not come back in step)."""

    initial_s: float = 0.5
    max_s: float = 60.0
    jitter: bool = False

    def wait(self) -> wait_base:
        if not self.jitter:
            return wait_exponential(multiplier=self.initial_s, max=self.max_s)
        half = wait_exponential(multiplier=self.initial_s / 2, max=self.max_s / 2)
        return half + wait_random_exponential(multiplier=self.initial_s / 2, max=self.max_s / 2)

    def retry_forever(
        self,
        attempt: Callable[[int], T],
        on_failure: Callable[[BaseException], None],
        sleep: Callable[[float], None],
    ) -> T:
        """`attempt(n)` (n = 1, 2, …) until it returns; every failure goes to `on_failure`, then
        `sleep(delay)`, which may raise to give up (a process that is stopping)."""
        retrying = Retrying(
            wait=self.wait(),
            retry=retry_if_exception_type(Exception),
            sleep=sleep,
            before_sleep=lambda state: on_failure(_error(state)),
            reraise=True,
        )
        for trial in retrying:
            with trial:
                return attempt(trial.retry_state.attempt_number)
        raise AssertionError("unreachable: tenacity retries without a stop condition")


@dataclass(slots=True)
class Backoff:
    """The same policy for a loop that keeps its own count (reconnecting streams): `next_delay` after a
    failure, `reset` after a connection that delivered data. Jitter on by default."""

    initial_s: float = 0.5
    max_s: float = 60.0
    jitter: bool = True
    attempt: int = 0
    _wait: wait_base | None = field(default=None, repr=False)

    def next_delay(self) -> float:
        """The delay before the next attempt; grows until max_s."""
        if self._wait is None:
            self._wait = Policy(self.initial_s, self.max_s, self.jitter).wait()
        self.attempt += 1
        state = RetryCallState(_COUNTER, None, (), {})
        state.attempt_number = self.attempt
        return float(self._wait(state))

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


_COUNTER = Retrying()  # what a RetryCallState belongs to; Backoff only reads the wait from it


def _error(state: RetryCallState) -> BaseException:
    outcome = state.outcome
    error = outcome.exception() if outcome is not None else None
    return error if error is not None else RuntimeError("attempt failed")
