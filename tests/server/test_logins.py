"""The login throttle's bookkeeping on a clock of our own (no server): console/server/logins.py."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from console.server.limits import Limits
from console.server.logins import LoginThrottle

pytestmark = pytest.mark.sqlite_only  # no store in these tests


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


LIMITS = Limits(login_failures=3, login_account_failures=5, login_window=300.0, login_lockout=30.0,
                login_lockout_cap=120.0)


def test_a_lockout_doubles_up_to_the_cap_and_ends() -> None:
    clock = Clock()
    throttle = LoginThrottle(dataclasses.replace(LIMITS, login_account_failures=100), clock)
    waits = []
    for _ in range(6):
        throttle.take("a1", "x")
        waits.append(throttle.retry_after("a1", "x"))
    assert waits == [0.0, 0.0, 30.0, 60.0, 120.0, 120.0]
    clock.now += 121
    assert throttle.retry_after("a1", "x") == 0.0
    assert throttle.retry_after("a1", "y") == 0.0  # never another address


def test_a_right_password_gives_its_place_back() -> None:
    clock = Clock()
    throttle = LoginThrottle(LIMITS, clock)
    throttle.take("a1", "x")
    throttle.take("a1", "x")
    stamp = throttle.take("a1", "x")  # the third, in flight: the lock is set before its hash
    assert throttle.retry_after("a1", "x") > 0
    throttle.succeeded("a1", "x", stamp)
    assert throttle.retry_after("a1", "x") == 0.0


def test_an_account_under_attack_is_open_only_to_clean_addresses_until_the_window_passes() -> None:
    clock = Clock()
    throttle = LoginThrottle(LIMITS, clock)
    for i in range(5):
        throttle.take("a1", f"10.0.0.{i}")
        clock.now += 1
    assert throttle.retry_after("a1", "10.0.0.0") > 0  # failed once, and the account is under attack
    assert throttle.retry_after("a1", "192.168.1.9") == 0.0  # the owner elsewhere
    assert throttle.retry_after("a2", "10.0.0.0") == 0.0  # other names from that address
    clock.now += 300
    assert throttle.retry_after("a1", "10.0.0.0") == 0.0


@given(st.lists(st.tuples(st.sampled_from(["a1", "a2", "ghost"]), st.sampled_from(["x", "y"]),
                          st.sampled_from([0.0, 0.0, 1.0, 10.0, 29.0, 31.0, 61.0, 121.0])), max_size=60))
def test_never_more_than_the_allowed_tries_within_a_lockout(attempts: list[tuple[str, str, float]]) -> None:
    """Whatever the interleaving (steps of 0 are concurrent attempts, still being hashed), a
    (name, address) never gets more than ``login_failures`` tries within ``login_lockout`` seconds."""
    clock = Clock()
    throttle = LoginThrottle(LIMITS, clock)
    admitted: dict[tuple[str, str], list[float]] = {}
    for name, address, step in attempts:
        clock.now += step
        if throttle.retry_after(name, address) > 0:
            continue
        throttle.take(name, address)
        times = admitted.setdefault((name, address), [])
        times.append(clock.now)
        if len(times) > LIMITS.login_failures:
            assert times[-1] - times[-1 - LIMITS.login_failures] >= LIMITS.login_lockout, (name, address, times)
