"""Following ``moved`` (issue 15): a server process that does not own the shop a ``login``,
``resume`` or ``hello`` names answers with the owner's address, and the client goes there.

The network is hostile, so a move is checked before it is followed: at most ``MAX_MOVES`` in a
row, never from ``wss://`` to ``ws://`` (a forged ``moved`` would otherwise make the client send
its password or token in clear), never back to an address already tried in the same chain (a
loop between two misconfigured servers). A refused move is ``MoveRefused``: retrying cannot fix it.
"""

from __future__ import annotations

from collections.abc import Callable

from console.client.errors import ClientError
from console.protocol.messages import Moved

MAX_MOVES = 3
"""Moves followed in a row; one is the normal case (any process to the owner), two a takeover
in between."""


class MoveRefused(ClientError):
    """A ``moved`` this client will not follow (downgrade, loop, too many): said to the user."""

    def __init__(self, message: str) -> None:
        super().__init__(None, message)


class Moves:
    """The chain of moves of one connection: starts at ``home`` (the configured address), follows
    checked moves, and goes back home when the connection ends (the home server then says where
    the shop is now, after a takeover)."""

    def __init__(self, home: str, path: str, check: Callable[[str], None] | None = None) -> None:
        """``check``: the caller's own rule for a target (the simulator: loopback only), raising
        ``ValueError`` to refuse it."""
        self.home = home
        self._check = check
        self.path = path  # "/agent" or "/buyer", added to the owner's base address
        self.current = home
        self._seen = [home]

    @property
    def moved(self) -> bool:
        """Whether the current address is not the home one."""
        return self.current != self.home

    def follow(self, moved: Moved) -> str:
        """The address to connect to next, or ``MoveRefused``."""
        target = endpoint(moved.url, self.path)
        if self.current.startswith("wss://") and not target.startswith("wss://"):
            raise MoveRefused(f"the server at {self.current} sent this connection to {target}, which is not "
                              "encrypted (wss to ws): refused, since the password or token would travel in clear. "
                              "Ask the operator to advertise a wss:// address (fenliu server --advertise)")
        if target in self._seen:
            raise MoveRefused(f"the servers send this connection round in a loop ({' → '.join([*self._seen, target])}): "
                              "refused. Ask the operator to check each server's --advertise address")
        if len(self._seen) > MAX_MOVES:
            raise MoveRefused(f"moved more than {MAX_MOVES} times in a row ({' → '.join([*self._seen, target])}): "
                              "refused. Try again later")
        if self._check is not None:
            try:
                self._check(target)
            except ValueError as exc:
                raise MoveRefused(f"the server at {self.current} sent this connection to {target}: refused ({exc})") from None
        self._seen.append(target)
        self.current = target
        return target

    def reset(self) -> None:
        """Back to the home address, for the next connection."""
        self.current = self.home
        self._seen = [self.home]


def endpoint(url: str, path: str) -> str:
    """``ws://host:port`` (or a URL already ending in ``/agent`` or ``/buyer``) with ``path``."""
    base = url.rstrip("/")
    for known in ("/agent", "/buyer"):
        if base.endswith(known):
            base = base[: -len(known)]
    return base + path
