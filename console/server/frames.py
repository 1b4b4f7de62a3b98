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
from websockets.frames import Frame, Opcode
from websockets.protocol import Event

from console.protocol.codec import ProtocolError, error_for
from console.protocol.limits import CLOSE_POLICY, CLOSE_TRY_LATER, RateLimit
from console.protocol.messages import Error, ErrorCode, Moved
from console.server.answers import FAILED, Answers
from console.server.keepalive import KeptConnection
from console.server.limits import Doorway, Limits
from console.server.store import StoreFailed

log = logging.getLogger(__name__)

_DATA = (Opcode.TEXT, Opcode.BINARY)


class ShopMoved(Exception):
    """The shop a ``login``/``resume``/``hello`` names is owned by another server process, reached
    at ``url``: the answer is ``moved`` (issue 15), and nothing was done here."""

    def __init__(self, shop: str, url: str) -> None:
        super().__init__(f"shop {shop} is served at {url}")
        self.shop, self.url = shop, url


class ServedConnection(KeptConnection):
    """The server's connections (``serve(create_connection=ServedConnection)``): kept alive by the
    sweep (``KeptConnection``), and with a way around websockets' queue of received messages.

    While its serving task waits in ``recv`` with nothing queued, a whole data frame goes to
    ``direct`` (set by ``serve_frames``) before it would be queued: ``direct`` serves it at once
    and says so, or says no and the frame is queued as usual. The task has then served every
    frame before this one, so the order holds; a frame that comes while the task is busy (or
    while an earlier frame is still queued) is queued, and served by the task in its turn."""

    direct: Callable[[bytes], bool] | None = None

    def process_event(self, event: Event) -> None:
        direct = self.direct
        if direct is not None and isinstance(event, Frame) and event.fin and event.opcode in _DATA:
            frames = self.recv_messages.frames
            waiter = frames.get_waiter
            if waiter is not None and not waiter.done() and not frames.queue:
                data = event.data
                if direct(data if type(data) is bytes else bytes(data)):
                    return
        super().process_event(event)

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        # CPython 3.11's socket transport keeps a bound method of itself (``_read_ready_cb``): a
        # cycle, so a closed connection's transport and socket objects wait for the collector's
        # full pass over everything, the sweep (collector.py: 0.6-0.8 s with the loop held at a
        # peak, and some 500 such objects a second meanwhile with 100 new buyers a second).
        # 3.12 drops it at close (gh-100348); here, once the transport is done with the protocol.
        transport = self.transport
        if getattr(transport, "_read_ready_cb", None) is not None:
            transport._read_ready_cb = None  # type: ignore[attr-defined]


def peer_address(conn: ServerConnection) -> str:
    """The peer's IP address (the unit of the per-address bounds)."""
    remote = conn.remote_address
    return str(remote[0]) if remote else "?"


def answer_failure(answers: Answers, exc: Exception, rid: str | None, what: str) -> None:
    """The answer to a request that raised ``exc`` (the connection goes on)."""
    if isinstance(exc, ProtocolError):
        exc.rid = exc.rid or rid
        answers.send(error_for(exc))
    elif isinstance(exc, ShopMoved):  # the client goes there (issue 15); this connection stays as it was
        answers.send(Moved(rid=rid, shop=exc.shop, url=exc.url))
    elif isinstance(exc, StoreFailed):  # logged once by the store; the server is stopping (store.py)
        answers.send(Error(rid=rid, code=ErrorCode.INTERNAL, message=FAILED))
    else:
        log.error("%s request failed", what, exc_info=exc)
        answers.send(Error(rid=rid, code=ErrorCode.INTERNAL, message=FAILED))


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
    serve_now: Callable[[Any], None],
    now_ok: Callable[[Any], bool],
) -> None:
    """Serve frames until the peer leaves (``ConnectionClosed`` propagates) or ``on_request``
    returns False. ``rate`` is (frames per second, burst). Every answer, refusals included, goes
    through ``answers`` (the connection's order, answers.py).

    ``serve_now`` serves a request at once, without awaiting anything (what ``on_request`` does
    for it), for the requests ``now_ok`` accepts; once the peer is greeted those are served from
    the connection's ``data_received`` while this task waits for a frame with none queued
    (``ServedConnection.process_event``): no future, no task wake-up, no coroutine per frame (issue
    9: a tenth of a message's cost). Everything else, and every frame that comes while this task
    is busy, takes the task's path, so the frames are still served in the order they came."""
    address = peer_address(conn)
    if not doorway.enter(address):
        await answers.hub.close_now(conn, CLOSE_TRY_LATER, "too many connections from your address are not logged in")
        return
    waiting = True  # holds a place in the doorway
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limits.hello_timeout  # not moved by frames: junk does not buy time
    bucket = RateLimit(*rate)
    strikes = RateLimit(1.0, float(limits.rate_strikes))

    def direct(raw: bytes) -> bool:
        """Serve one frame now if it is a request ``now_ok`` accepts and the rate allows it
        (a refusal spends no token); False, with nothing done, leaves it to the task's path."""
        try:
            request = decode(raw)  # no state: a refused frame is decoded again on the task's path
        except Exception:  # ProtocolError: answered on the task's path, in its turn
            return False
        if not now_ok(request) or not bucket.allow(loop.time()):
            return False
        try:
            serve_now(request)
        except Exception as exc:
            answer_failure(answers, exc, request.rid, what)
        return True

    try:
        while True:
            if waiting and greeted():
                waiting = False
                doorway.leave(address)
                if isinstance(conn, ServedConnection):
                    conn.direct = direct
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
            except ConnectionClosed:
                raise
            except Exception as exc:
                answer_failure(answers, exc, rid, what)
    finally:
        if isinstance(conn, ServedConnection):
            conn.direct = None
        answers.hub.flush_to(conn)  # the handler returns next and websockets closes: what is queued goes first
        if waiting:
            doorway.leave(address)
