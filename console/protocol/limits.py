"""The bounds of the protocol: frame size, message rate, logins, connections (docs/PROTOCOL.md "Limits").

These constants are the one place the numbers live: the server's ``Limits`` takes its defaults
from here, and a test reads the "Limits" table of docs/PROTOCOL.md and compares it with them.
``RateLimit`` is a token bucket with the clock passed in, so the server drives it with its own
``time.monotonic()`` and tests drive it with plain numbers.
"""

from __future__ import annotations

from console.protocol.codec import MAX_MESSAGE_BYTES
from console.protocol.messages import (
    IMAGE_CHUNK_BYTES,
    IMAGE_PART_BYTES,
    MAX_BUYER_LIST,
    MAX_BUYER_TAGS,
    MAX_HISTORY,
    MAX_IMAGE_BYTES,
    MAX_IMAGE_PIXELS,
    MAX_NOTE,
    MAX_ORDER_ITEMS,
    MAX_PHRASE_BATCH,
    MAX_PHRASE_TEXT,
    MAX_PHRASES,
    MAX_SEARCH_HITS,
    MAX_SEARCH_QUERY,
)

__all__ = [
    "MAX_MESSAGE_BYTES",
    "MAX_HISTORY",
    "MAX_BUYER_LIST",
    "MAX_SEARCH_QUERY",
    "MAX_SEARCH_HITS",
    "MAX_NOTE",
    "MAX_BUYER_TAGS",
    "MAX_ORDER_ITEMS",
    "MAX_PHRASES",
    "MAX_PHRASE_BATCH",
    "MAX_PHRASE_TEXT",
    "MAX_IMAGE_BYTES",
    "MAX_IMAGE_PIXELS",
    "IMAGE_CHUNK_BYTES",
    "IMAGE_PART_BYTES",
    "UPLOADS_PER_CONNECTION",
    "UPLOAD_BUDGET",
    "UPLOAD_IDLE",
    "MAX_CONNECTIONS",
    "MAX_CONNECTIONS_PER_USER",
    "AGENT_RATE",
    "AGENT_BURST",
    "BUYER_RATE",
    "BUYER_BURST",
    "RATE_STRIKES",
    "HELLO_TIMEOUT",
    "PRELOGIN_PER_ADDRESS",
    "LOGIN_FAILURES",
    "LOGIN_ACCOUNT_FAILURES",
    "LOGIN_WINDOW",
    "LOGIN_LOCKOUT",
    "LOGIN_LOCKOUT_CAP",
    "LOGIN_HASH_WORKERS",
    "LOGIN_HASH_QUEUE",
    "LOGIN_HASHES_PER_ADDRESS",
    "CLOSE_POLICY",
    "CLOSE_REVOKED",
    "CLOSE_TRY_LATER",
    "RateLimit",
]

UPLOAD_BUDGET = 64 * 1024 * 1024
"""Bytes reserved (each upload's declared size) by every image upload in progress on the server together."""
UPLOADS_PER_CONNECTION = 2
"""Image uploads in progress on one connection at once."""
UPLOAD_IDLE = 60.0
"""Seconds without a chunk after which an upload may be dropped to make room for another."""
MAX_CONNECTIONS = 10_000
"""Open websockets on the server, both endpoints together; more are refused at the handshake."""
MAX_CONNECTIONS_PER_USER = 4
"""Consoles logged in as one user at once; the oldest is closed when a fifth logs in."""
AGENT_RATE = 50.0
"""Sustained frames per second per ``/agent`` connection."""
AGENT_BURST = 200.0
"""Frames an ``/agent`` connection may send at once after a quiet spell."""
BUYER_RATE = 20.0
"""Sustained frames per second per ``/buyer`` connection."""
BUYER_BURST = 60.0
"""Frames a ``/buyer`` connection may send at once after a quiet spell."""
RATE_STRIKES = 20
"""Frames dropped for the rate (forgiven at one per second) before the connection is closed."""
HELLO_TIMEOUT = 10.0
"""Seconds from the handshake within which a connection must log in (``/buyer``: say hello)."""
PRELOGIN_PER_ADDRESS = 200
"""Connections from one address that have not logged in / said hello yet; more are closed at once."""
LOGIN_FAILURES = 5
"""Failed password logins for one user name from one address (in ``LOGIN_WINDOW``) before a lockout."""
LOGIN_ACCOUNT_FAILURES = 20
"""Failed password logins for one user name from all addresses before only clean addresses may try."""
LOGIN_WINDOW = 300.0
"""Seconds a failed login is remembered."""
LOGIN_LOCKOUT = 30.0
"""The first lockout, in seconds; it doubles with each further failure, up to ``LOGIN_LOCKOUT_CAP``."""
LOGIN_LOCKOUT_CAP = 900.0
LOGIN_HASH_WORKERS = 2
"""Password hashes computed at once (the worker threads of the hash pool)."""
LOGIN_HASH_QUEUE = 8
"""Password logins waiting for a hash worker; more are refused at once (``rate_limited``)."""
LOGIN_HASHES_PER_ADDRESS = 2
"""Password logins from one address being hashed or waiting at once; more are refused at once."""
CLOSE_POLICY = 1008
"""Close code: too slow to log in, too many frames, or a fifth console of one user."""
CLOSE_TRY_LATER = 1013
"""Close code: too many connections from this address are not logged in yet; retry later."""
CLOSE_REVOKED = 4003
"""Close code: the account was disabled or its password changed while the console was logged in;
the console stops reconnecting and asks its user to log in again."""


class RateLimit:
    """A token bucket: ``allow(now)`` spends one token or says no."""

    def __init__(self, rate: float = BUYER_RATE, burst: float = BUYER_BURST) -> None:
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
