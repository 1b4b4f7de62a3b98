"""The receive loop both endpoints share: greet in time, stay under the rate, get typed errors.

Each frame is decoded and handed to the endpoint's ``on_request``; a refused frame gets the
protocol's typed error (with its request id when one could be read), a failure of ours an
``internal`` error with no detail (the traceback goes to the log, never to the peer), and the
connection goes on either way (CONSOLE.md §5). Two things end it (issue 10): not logging in
(saying hello) within ``hello_timeout`` of the handshake, whatever is sent meanwhile, and going on
sending over the rate after ``rate_strikes`` dropped frames (close code 1008). A connection that
has not logged in holds a place in its address's ``Doorway`` until it does.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from console.protocol.codec import ProtocolError, error_for
from console.protocol.limits import CLOSE_POLICY, CLOSE_TRY_LATER, RateLimit
from console.protocol.messages import Error, ErrorCode, Moved
from console.server.answers import FAILED, Answers
from console.server.limits import Doorway, Limits
from console.server.store import StoreFailed

log = logging.getLogger(__name__)


class ShopMoved(Exception):
    """The shop a ``login``/``resume``/``hello`` names is owned by another server process, reached
    at ``url``: the answer is ``moved`` (issue 15), and nothing was done here."""

    def __init__(self, shop: str, url: str) -> None:
        super().__init__(f"shop {shop} is served at {url}")
        self.shop, self.url = shop, url


def peer_address(conn: ServerConnection) -> str:
    """The peer's IP address (the unit of the per-address bounds)."""
    remote = conn.remote_address
    return str(remote[0]) if remote else "?"


async def serve_frames(
    conn: ServerConnection,
    answers: Answers,
    *,
    limits: Limits,
    rate: tuple[float, float],
    doorway: Doorway,
    decode: Callable[[bytes | str], Any],
    greeted: Callable[[], bool],
    hello_first: str,
    on_request: Callable[[Any], Awaitable[bool]],
    what: str,
) -> None:
    """Serve frames until the peer leaves (``ConnectionClosed`` propagates) or ``on_request``
    returns False. ``rate`` is (frames per second, burst). Every answer, refusals included, goes
    through ``answers`` (the connection's order, answers.py)."""
    address = peer_address(conn)
    if not doorway.enter(address):
        await answers.hub.close_now(conn, CLOSE_TRY_LATER, "too many connections from your address are not logged in")
        return
    waiting = True  # holds a place in the doorway
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limits.hello_timeout  # not moved by frames: junk does not buy time
    bucket = RateLimit(*rate)
    strikes = RateLimit(1.0, float(limits.rate_strikes))
    try:
        while True:
            if waiting and greeted():
                waiting = False
                doorway.leave(address)
            # decode=False: the frame's bytes as they came, text or binary; ``decode`` reads them
            # (msgspec checks the UTF-8 itself: invalid text is ``malformed``, PROTOCOL.md), where
            # a str would be decoded by websockets and encoded back by the codec (issue 9)
            if waiting:
                try:
                    raw = await asyncio.wait_for(conn.recv(decode=False), max(0.0, deadline - loop.time()))
                except TimeoutError:
                    await answers.hub.close_now(conn, CLOSE_POLICY, hello_first)
                    return
            else:  # logged in: no deadline, so no wait_for (a coroutine and a frame less per frame, issue 9)
                raw = await conn.recv(decode=False)
            now = loop.time()  # monotonic
            if not bucket.allow(now):
                if not strikes.allow(now):
                    log.warning("%s %s: closed, kept sending over its rate", what, address)
                    await answers.settle()  # the answers its earlier requests are owed go first
                    await answers.hub.close_now(conn, CLOSE_POLICY, "too many messages")
                    return
                answers.send(Error(code=ErrorCode.RATE_LIMITED, message="too many messages; slow down"))
                continue
            rid = None
            try:
                request = decode(raw)
                rid = request.rid
                if not await on_request(request):
                    return
            except ProtocolError as exc:
                exc.rid = exc.rid or rid
                answers.send(error_for(exc))
            except ShopMoved as exc:  # the client goes there (issue 15); this connection stays as it was
                answers.send(Moved(rid=rid, shop=exc.shop, url=exc.url))
            except ConnectionClosed:
                raise
            except StoreFailed:  # logged once by the store; the server is stopping (store.py)
                answers.send(Error(rid=rid, code=ErrorCode.INTERNAL, message=FAILED))
            except Exception:
                log.exception("%s request failed", what)
                answers.send(Error(rid=rid, code=ErrorCode.INTERNAL, message=FAILED))
    finally:
        answers.hub.flush_to(conn)  # the handler returns next and websockets closes: what is queued goes first
        if waiting:
            doorway.leave(address)
