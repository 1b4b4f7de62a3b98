"""The bounds of the protocol: frame size, message rate, connections (docs/PROTOCOL.md "Limits").

``RateLimit`` is a token bucket with the clock passed in, so the server drives it with its own
``time.monotonic()`` and tests drive it with plain numbers.
"""

from __future__ import annotations

from console.protocol.codec import MAX_MESSAGE_BYTES

__all__ = [
    "MAX_MESSAGE_BYTES",
    "MAX_CONNECTIONS",
    "MAX_CONNECTIONS_PER_USER",
    "RATE_PER_SECOND",
    "RATE_BURST",
    "LOGIN_FAILURES_PER_MINUTE",
    "RateLimit",
]

MAX_CONNECTIONS = 10_000
"""Open websockets on the server, both endpoints together; more are refused at the handshake."""
MAX_CONNECTIONS_PER_USER = 4
"""Consoles logged in as one user at once; the oldest is closed when a fifth logs in."""
RATE_PER_SECOND = 20.0
"""Sustained frames per second per connection."""
RATE_BURST = 40.0
"""Frames a connection may send at once after a quiet spell."""
LOGIN_FAILURES_PER_MINUTE = 5
"""Failed logins per user per minute before ``rate_limited``."""


class RateLimit:
    """A token bucket: ``allow(now)`` spends one token or says no."""

    def __init__(self, rate: float = RATE_PER_SECOND, burst: float = RATE_BURST) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self.rate = rate
        self.burst = burst
        self._tokens = burst
        self._last: float | None = None

    def allow(self, now: float) -> bool:
        """Whether one more frame at time ``now`` (seconds, any monotonic origin) is allowed."""
        if self._last is not None and now > self._last:
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        if self._last is None or now > self._last:
            self._last = now
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False
