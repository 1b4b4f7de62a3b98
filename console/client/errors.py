"""Typed failures of the client: the server's refusals and the connection's troubles.

A request either returns the server's typed answer or raises one of these. ``ClientError.code``
is the server's ``ErrorCode`` when the server refused (so the UI can say "not your conversation"
for ``forbidden``), and ``None`` when no answer came at all (the connection is down or dropped,
or the answer took too long).
"""

from __future__ import annotations

from console.protocol.messages import Error, ErrorCode, Moved


class ClientError(Exception):
    """A request failed. ``code``/``field`` come from the server's ``error`` when it sent one."""

    def __init__(self, code: ErrorCode | None, message: str, field: str | None = None) -> None:
        super().__init__(message if code is None else f"{code.value}: {message}")
        self.code = code
        self.message = message
        self.field = field

    @classmethod
    def from_error(cls, error: Error) -> ClientError:
        return cls(error.code, error.message, error.field)

    def __repr__(self) -> str:
        code = None if self.code is None else self.code.value
        return f"{type(self).__name__}({code!r}, {self.message!r}, field={self.field!r})"


class Redirected(ClientError):
    """The server answered ``moved``: another server process owns the shop (issue 15); the
    clients follow it (moves.py)."""

    def __init__(self, moved: Moved) -> None:
        super().__init__(None, f"the shop {moved.shop} is served at {moved.url}")
        self.moved = moved


class NotConnected(ClientError):
    """The client is not online now; the request was not sent (replies go to the outbox instead)."""

    def __init__(self, message: str = "not connected to the server") -> None:
        super().__init__(None, message)


class ConnectionLost(ClientError):
    """The connection dropped after the request was sent and before its answer came.

    The server may or may not have done it; only idempotent requests (``reply`` with its
    ``client_id``) are resent automatically.
    """

    def __init__(self, message: str = "the connection was lost before the answer came") -> None:
        super().__init__(None, message)


class RequestTimeout(ClientError):
    """No answer came in time; the connection is treated as stuck and dropped (it reconnects)."""

    def __init__(self, message: str = "the server did not answer in time") -> None:
        super().__init__(None, message)


TRANSIENT_CODES: frozenset[ErrorCode] = frozenset({ErrorCode.RATE_LIMITED})
"""Refusals worth trying again later (a queued reply stays in the outbox)."""
