"""Sign-in throttling: the wait doubles with each failure, N failures lock out, old ones are forgotten."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dashboard.throttle import Policy, after_failure, delay_s, keys, verdict
from sentimon.storage.accounts import Attempts

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
POLICY = Policy(max_failures=3, max_failures_per_client=5, base_delay_s=2, max_delay_s=10, lockout_s=600)


def _fail(key: str, n: int, at: datetime = T0) -> Attempts:
    state = None
    for _ in range(n):
        state = after_failure(key, state, at, POLICY)
    assert state is not None
    return state


def test_the_wait_doubles_with_each_failure_up_to_the_maximum() -> None:
    assert [delay_s(n, POLICY) for n in range(6)] == [0, 2, 4, 8, 10, 10]
    assert delay_s(3, Policy(base_delay_s=0)) == 0


def test_a_sign_in_right_after_a_failure_must_wait() -> None:
    one = {"name:ana": _fail("name:ana", 1)}
    assert not verdict(one, T0 + timedelta(seconds=1), POLICY).allowed
    assert verdict(one, T0 + timedelta(seconds=1), POLICY).wait_s == 1
    assert verdict(one, T0 + timedelta(seconds=2), POLICY).allowed
    two = {"name:ana": _fail("name:ana", 2)}
    assert not verdict(two, T0 + timedelta(seconds=3), POLICY).allowed  # 4 s after the second


def test_the_limit_of_failures_locks_the_name_out_for_the_lockout_period() -> None:
    state = _fail("name:ana", 3)
    assert state.locked_until == T0 + timedelta(seconds=600)
    v = verdict({"name:ana": state}, T0 + timedelta(seconds=60), POLICY)
    assert v.locked and not v.allowed and "locked for 9 min" in v.message()
    assert verdict({"name:ana": state}, T0 + timedelta(seconds=601), POLICY).allowed
    # After the lockout the count starts again.
    assert after_failure("name:ana", state, T0 + timedelta(seconds=601), POLICY).failures == 1


def test_a_client_has_its_own_higher_limit() -> None:
    assert _fail("client:10.0.0.1", 3).locked_until is None
    assert _fail("client:10.0.0.1", 5).locked_until is not None


def test_failures_long_ago_are_forgotten() -> None:
    old = _fail("name:ana", 2)
    later = T0 + timedelta(seconds=700)
    assert verdict({"name:ana": old}, later, POLICY).allowed
    assert after_failure("name:ana", old, later, POLICY).failures == 1


def test_the_strictest_counter_decides() -> None:
    attempts = {"name:bo": _fail("name:bo", 1), "client:1.2.3.4": _fail("client:1.2.3.4", 5)}
    assert verdict(attempts, T0 + timedelta(seconds=5), POLICY).locked


def test_counters_are_per_name_and_per_client() -> None:
    assert keys("  Ana   Lima ", "10.0.0.1") == ["name:ana lima", "client:10.0.0.1"]
    assert keys("ana", None) == ["name:ana"]
