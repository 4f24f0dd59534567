"""Sign-in throttling decisions without I/O: an exponential wait after each failure, then a lockout."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sentimon.storage.accounts import Attempts


@dataclass(frozen=True, slots=True)
class Policy:
    max_failures: int = 5  # for one name
    max_failures_per_client: int = 20
    base_delay_s: float = 1.0
    max_delay_s: float = 60.0
    lockout_s: float = 900.0

    def limit(self, key: str) -> int:
        return self.max_failures_per_client if key.startswith("client:") else self.max_failures


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether a sign-in may be tried now; if not, for how long it must wait and whether locked."""

    wait_s: float = 0.0
    locked: bool = False

    @property
    def allowed(self) -> bool:
        return self.wait_s <= 0

    def message(self) -> str:
        if self.locked:
            minutes = max(1, math.ceil(self.wait_s / 60))
            return f"Too many failed sign-ins: locked for {minutes} min. Ask an admin if this was not you."
        return f"Too many failed sign-ins: wait {max(1, math.ceil(self.wait_s))} s before trying again."


def keys(name: str, client: str | None) -> list[str]:
    """The counters a sign-in touches: its name's and its client's."""
    found = [f"name:{' '.join(name.split()).casefold()[:64]}"]
    if client:
        found.append(f"client:{client[:64]}")
    return found


def _forgotten(a: Attempts, now: datetime, policy: Policy) -> bool:
    unlocked = a.locked_until is None or a.locked_until <= now
    return unlocked and (now - a.last_failure_at).total_seconds() >= policy.lockout_s


def delay_s(failures: int, policy: Policy) -> float:
    """The wait after the n-th failure in a row: base, 2 x base, 4 x base, … up to the maximum."""
    if failures <= 0 or policy.base_delay_s <= 0:
        return 0.0
    return min(policy.base_delay_s * 2 ** min(failures - 1, 30), policy.max_delay_s)


def verdict(attempts: dict[str, Attempts], now: datetime, policy: Policy) -> Verdict:
    """The strictest wait among the counters: a lockout, else the delay since the last failure."""
    worst = Verdict()
    for a in attempts.values():
        if a.locked_until is not None and a.locked_until > now:
            v = Verdict((a.locked_until - now).total_seconds(), locked=True)
        elif _forgotten(a, now, policy) or (a.locked_until is not None and a.locked_until <= now):
            continue
        else:
            due = a.last_failure_at + timedelta(seconds=delay_s(a.failures, policy))
            v = Verdict(max(0.0, (due - now).total_seconds()))
        if (v.locked, v.wait_s) > (worst.locked, worst.wait_s):
            worst = v
    return worst


def after_failure(key: str, before: Attempts | None, now: datetime, policy: Policy) -> Attempts:
    """The counter after one more failure: a lockout once it reaches the key's limit."""
    fresh = (
        before is None
        or _forgotten(before, now, policy)
        or (before.locked_until is not None and before.locked_until <= now)
    )
    failures = 1 if fresh or before is None else before.failures + 1
    locked = now + timedelta(seconds=policy.lockout_s) if failures >= policy.limit(key) else None
    return Attempts(failures, now, locked)
