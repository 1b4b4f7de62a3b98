"""Bounds on what one client can cost the server: message rate, connections not logged in yet.

CONSOLE.md §5 and issues 6 and 10: every size and rate is bounded. The numbers are
``console.protocol.limits`` (docs/PROTOCOL.md "Limits"); ``Limits`` gathers them so tests and
``fenliu server`` options can change them. The token bucket is ``console.protocol.limits.RateLimit``
(driven with the loop's monotonic clock); login throttling is ``console.server.logins``.
"""

from __future__ import annotations

from dataclasses import dataclass

from console.protocol import limits as protocol


@dataclass(frozen=True, slots=True)
class Limits:
    """The server's bounds; the defaults suit a shop on one machine, tests may tighten them."""

    max_connections: int = protocol.MAX_CONNECTIONS
    agent_rate: float = protocol.AGENT_RATE  # frames per second per agent connection, sustained
    agent_burst: float = protocol.AGENT_BURST
    buyer_rate: float = protocol.BUYER_RATE  # per buyer connection
    buyer_burst: float = protocol.BUYER_BURST
    rate_strikes: int = protocol.RATE_STRIKES  # dropped frames (forgiven 1/s) before the close
    hello_timeout: float = protocol.HELLO_TIMEOUT  # from the handshake, whatever is sent meanwhile
    prelogin_per_address: int = protocol.PRELOGIN_PER_ADDRESS
    login_failures: int = protocol.LOGIN_FAILURES  # per user name and address
    login_account_failures: int = protocol.LOGIN_ACCOUNT_FAILURES  # per user name, all addresses
    login_window: float = protocol.LOGIN_WINDOW  # failures older than this are forgotten
    login_lockout: float = protocol.LOGIN_LOCKOUT  # first lockout; doubles with each further failure
    login_lockout_cap: float = protocol.LOGIN_LOCKOUT_CAP
    hash_workers: int = protocol.LOGIN_HASH_WORKERS
    hash_queue: int = protocol.LOGIN_HASH_QUEUE
    hashes_per_address: int = protocol.LOGIN_HASHES_PER_ADDRESS


class Doorway:
    """Counts the connections of each address that have not logged in (said hello) yet.

    Issue 10: connections that never log in must not fill ``max_connections``. Each is closed at
    its hello deadline (``console.server.frames``), and one address holds at most
    ``per_address`` of them at once.
    """

    def __init__(self, per_address: int) -> None:
        self.per_address = per_address
        self._waiting: dict[str, int] = {}

    def enter(self, address: str) -> bool:
        """Take a place for a new connection from ``address``; False when that address is full."""
        count = self._waiting.get(address, 0)
        if count >= self.per_address:
            return False
        self._waiting[address] = count + 1
        return True

    def leave(self, address: str) -> None:
        count = self._waiting.get(address, 0) - 1
        if count > 0:
            self._waiting[address] = count
        else:
            self._waiting.pop(address, None)

    def waiting(self, address: str) -> int:
        return self._waiting.get(address, 0)
