"""One open websocket to the server: requests matched to their answers, pushes handed on.

The protocol answers requests in the order they were sent, each answer repeating the request's
``rid``. A ``Link`` numbers its requests, keeps a future per request, and reads frames in one task:
an answer resolves its future (an ``error`` raises ``ClientError`` in the caller), everything
else (events, buyer-side pushes) goes to ``on_push`` synchronously, in arrival order. An error
without ``rid`` (a frame the server could not even parse, or one dropped by its rate limit) is the
answer to the oldest request still waiting, since answers come in order.

When the connection ends, every waiting request fails with ``ConnectionLost`` and ``closed`` is
set; the owner (``AgentClient``, ``BuyerClient``) decides whether to reconnect.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

import msgspec
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from console.client.errors import ClientError, ConnectionLost, Redirected, RequestTimeout
from console.protocol.codec import ProtocolError, decode_for_agent, decode_for_buyer, encode
from console.protocol.messages import Error, Moved, Request, Response

log = logging.getLogger(__name__)

R = TypeVar("R")


REQUEST_TIMEOUT = 15.0
"""Seconds to wait for an answer before the connection is considered stuck."""
CLOSE_TIMEOUT = 3.0


# What the server sends, decoded by the protocol's own decoders (bounded by MAX_PUSH_BYTES).
decode_agent_push = decode_for_agent
decode_buyer_push = decode_for_buyer


class Link:
    """Owns one ``ClientConnection`` and its reader task."""

    def __init__(
        self,
        conn: ClientConnection,
        decode: Callable[[bytes | str], Any],
        on_push: Callable[[Any], None],
        *,
        rid_prefix: str = "r",
    ) -> None:
        self.conn = conn
        self._decode = decode
        self._on_push = on_push
        self._rids = itertools.count(1)
        self._prefix = rid_prefix
        self._pending: OrderedDict[str, asyncio.Future[Any]] = OrderedDict()
        self.closed = asyncio.Event()
        self.close_reason = ""
        self._reader = asyncio.create_task(self._read(), name="fenliu-link-reader")

    @property
    def is_open(self) -> bool:
        return not self.closed.is_set()

    async def request(self, message: Request, answer: type[R], timeout: float = REQUEST_TIMEOUT) -> R:
        """Send ``message`` with a fresh rid and return its answer, which must be an ``answer``.

        Raises ``ClientError`` (the server refused), ``ConnectionLost`` (no connection, or it
        dropped before the answer) or ``RequestTimeout`` (the link is then aborted).
        """
        if self.closed.is_set():
            raise ConnectionLost("the connection is closed")
        rid = f"{self._prefix}{next(self._rids)}"
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        # A caller cancelled while shielded leaves this future behind; its outcome is then nobody's.
        future.add_done_callback(lambda done: done.cancelled() or done.exception())
        self._pending[rid] = future
        try:
            await self.conn.send(encode(msgspec.structs.replace(message, rid=rid)).decode())  # type: ignore[arg-type]
            try:
                result = await asyncio.wait_for(asyncio.shield(future), timeout)
            except TimeoutError:
                self.abort("no answer in time")
                raise RequestTimeout() from None
        except ConnectionClosed:
            raise ConnectionLost() from None
        finally:
            self._pending.pop(rid, None)
        if isinstance(result, Error):
            raise ClientError.from_error(result)
        if isinstance(result, Moved):  # another process owns the shop (issue 15): the owner follows it
            raise Redirected(result)
        if not isinstance(result, answer):
            raise ClientError(None, f"unexpected answer {type(result).__name__} to {type(message).__name__}")
        return result

    async def send(self, message: Request) -> None:
        """Send without waiting for an answer (the answer, if any, arrives as a push)."""
        try:
            await self.conn.send(encode(message).decode())  # type: ignore[arg-type]
        except ConnectionClosed:
            raise ConnectionLost() from None

    async def _read(self) -> None:
        try:
            async for raw in self.conn:
                try:
                    message = self._decode(raw)
                except ProtocolError as exc:
                    log.warning("ignoring a frame from the server that is not a valid message: %s", exc.message)
                    continue
                self._dispatch(message)
        except ConnectionClosed:
            pass
        except Exception:  # a bug of ours must not leave requests hanging
            log.exception("link reader failed")
        finally:
            code, reason = self.conn.close_code, self.conn.close_reason
            self.close_reason = f"{code} {reason or ''}".strip() if code is not None else "connection lost"
            self.closed.set()
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(ConnectionLost())
            self._pending.clear()

    def _dispatch(self, message: Any) -> None:
        if isinstance(message, Response):
            rid = message.rid
            if rid is not None and rid in self._pending:
                future = self._pending.pop(rid)
                if not future.done():
                    future.set_result(message)
                return
            if rid is None and isinstance(message, Error) and self._pending:
                _, future = self._pending.popitem(last=False)  # answers come in order
                if not future.done():
                    future.set_result(message)
                return
        self._on_push(message)

    def abort(self, why: str = "") -> None:
        """Drop the connection at once (a stuck server); the reader then reports it closed."""
        if why:
            log.info("dropping the connection: %s", why)
        transport = self.conn.transport
        if transport is not None:
            transport.abort()

    async def close(self) -> None:
        """Close politely, waiting at most ``CLOSE_TIMEOUT`` seconds, then stop the reader."""
        try:
            await asyncio.wait_for(self.conn.close(), CLOSE_TIMEOUT)
        except (TimeoutError, ConnectionClosed, OSError):
            self.abort()
        try:
            await asyncio.wait_for(self._reader, CLOSE_TIMEOUT)
        except TimeoutError:
            self._reader.cancel()
