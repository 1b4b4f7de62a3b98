"""Bounds on what one client can cost the server: message rate, failed logins, connection count.

CONSOLE.md §5 and issue 6: every size and rate is bounded, login attempts are throttled. These
classes read ``time.monotonic`` (wall-clock steps must not lift a lockout) unless a clock is given.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from console.protocol.limits import MAX_CONNECTIONS


@dataclass(frozen=True, slots=True)
class Limits:
    """The server's bounds; the defaults suit a shop on one machine, tests may tighten them."""

    max_connections: int = MAX_CONNECTIONS
    agent_rate: float = 50.0  # messages per second per agent connection, sustained
    agent_burst: float = 200.0
    buyer_rate: float = 20.0  # per buyer connection
    buyer_burst: float = 60.0
    login_failures: int = 5  # failures allowed (per account and per address) before a lockout
    login_window: float = 300.0  # failures older than this are forgotten
    login_lockout: float = 30.0  # first lockout; doubles with each further failure, up to the cap
    login_lockout_cap: float = 900.0
    hello_timeout: float = 10.0  # a connection must log in / say hello this soon


class TokenBucket:
    """``allow()`` is True while the client stays under ``rate`` per second with ``burst`` slack."""

    __slots__ = ("rate", "burst", "tokens", "stamp", "clock")

    def __init__(self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.clock = clock
        self.stamp = clock()

    def allow(self) -> bool:
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


@dataclass
class _Failures:
    times: list[float] = field(default_factory=list)
    locked_until: float = 0.0


class LoginThrottle:
    """Counts failed logins per account name and per client address; locks out with backoff.

    The check comes before the password is looked at, so a locked-out guesser learns nothing,
    and a correct password does not get through a lockout either.
    """

    def __init__(self, limits: Limits, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self.clock = clock
        self._by_key: dict[str, _Failures] = {}

    def retry_after(self, *keys: str) -> float:
        """Seconds until these keys may try again (0: go ahead)."""
        now = self.clock()
        wait = 0.0
        for key in keys:
            entry = self._by_key.get(key)
            if entry is not None:
                wait = max(wait, entry.locked_until - now)
        return wait

    def failed(self, *keys: str) -> None:
        now = self.clock()
        for key in keys:
            entry = self._by_key.setdefault(key, _Failures())
            entry.times = [t for t in entry.times if now - t < self.limits.login_window]
            entry.times.append(now)
            excess = len(entry.times) - self.limits.login_failures
            if excess >= 0:
                lockout = min(self.limits.login_lockout * (2 ** excess), self.limits.login_lockout_cap)
                entry.locked_until = now + lockout
        if len(self._by_key) > 100_000:  # bound the memory an address-spraying attacker can use
            self._by_key = {k: v for k, v in self._by_key.items() if v.locked_until > now}

    def succeeded(self, *keys: str) -> None:
        for key in keys:
            self._by_key.pop(key, None)
