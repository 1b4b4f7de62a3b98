"""The receive loop both endpoints share: greet in time, stay under the rate, get typed errors.

Each frame is decoded and handed to the endpoint's ``on_request``; a refused frame gets the
protocol's typed error (with its request id when one could be read), a failure of ours an
``internal`` error with no detail (the traceback goes to the log, never to the peer), and the
connection goes on either way (CONSOLE.md §5).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from console.protocol.codec import ProtocolError, error_for
from console.protocol.messages import Error, ErrorCode
from console.server.hub import Hub
from console.server.limits import TokenBucket
from console.server.store import StoreFailed

log = logging.getLogger(__name__)


async def serve_frames(
    conn: ServerConnection,
    hub: Hub,
    *,
    bucket: TokenBucket,
    decode: Callable[[bytes | str], Any],
    greeted: Callable[[], bool],
    hello_timeout: float,
    hello_first: str,
    on_request: Callable[[Any], Awaitable[bool]],
    what: str,
) -> None:
    """Serve frames until the peer leaves (``ConnectionClosed`` propagates) or ``on_request``
    returns False. Before ``greeted()`` each frame must come within ``hello_timeout`` seconds."""
    while True:
        try:
            raw = await asyncio.wait_for(conn.recv(), None if greeted() else hello_timeout)
        except TimeoutError:
            await conn.close(1008, hello_first)
            return
        if not bucket.allow():
            hub.reply(conn, Error(code=ErrorCode.RATE_LIMITED, message="too many messages; slow down"))
            continue
        rid = None
        try:
            request = decode(raw)
            rid = request.rid
            if not await on_request(request):
                return
        except ProtocolError as exc:
            exc.rid = exc.rid or rid
            hub.reply(conn, error_for(exc))
        except ConnectionClosed:
            raise
        except StoreFailed:  # logged once by the store; the server is stopping (store.py)
            hub.reply(conn, Error(rid=rid, code=ErrorCode.INTERNAL, message="the server failed; nothing was changed"))
        except Exception:
            log.exception("%s request failed", what)
            hub.reply(conn, Error(rid=rid, code=ErrorCode.INTERNAL, message="the server failed; nothing was changed"))
