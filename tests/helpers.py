"""Test helpers; `wait_until` is the one place where tests may sleep, always under a deadline."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(
    cond: Callable[[], T],
    timeout: float = 10.0,
    interval: float = 0.05,
    *,
    message: str | None = None,
    ignore: tuple[type[BaseException], ...] = (),
) -> T:
    """Poll cond() until it returns something truthy and return that; fail after timeout seconds.

    Exceptions listed in `ignore` count as "not yet" (a server still starting, say); the last one is
    chained to the failure so the reason shows."""
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while True:
        try:
            result = cond()
            if result:
                return result
        except ignore as exc:
            last_error = exc
        if time.monotonic() >= deadline:
            what = message or getattr(cond, "__name__", "condition")
            raise AssertionError(f"timed out after {timeout:.1f}s waiting for {what}") from last_error
        time.sleep(interval)
