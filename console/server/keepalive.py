"""Keepalive for every connection of a server in one sweep (issue 9).

websockets' own keepalive (``ping_interval`` of ``serve``) runs a task per connection: a sleep
timer, a ping future and a timeout each, renewed every interval. At a peak (2,500 connections)
that kept about 10,000 handles in the loop's timer heap (``TimerHandle.__lt__`` 0.9 % of the
loop thread, ``Connection.keepalive`` 1.2 %) and as many objects for the collector's young passes.

Here the server serves with that keepalive off and one task does the job for all connections:
the connections are dealt round-robin into slots (one for each ``TICK`` of the interval, at most
``SLOTS``), and the task visits one slot each ``interval / slots`` seconds, so each connection is
visited once an interval and the pings are spread over it: a ping costs 15-60 µs of the loop (the
socket write; bench/keepalive.py), so the 2,000 idle connections of a peak pinged in one go would
hold the loop 75-150 ms; in 80 slots a visit takes a few milliseconds. At a visit:

- a connection that sent anything since the last visit (data, a pong, a ping of its own) is alive;
- one that sent nothing is pinged (``Connection.ping``; its waiter is not awaited: the pong shows
  as data received);
- one that was pinged at the last visit and has sent nothing since is closed, 1011 "keepalive ping
  timeout", as websockets does. A connection whose writes are paused (the peer reads nothing: its
  buffer is full) is not pinged (``ping`` would wait for the buffer to drain) but counted as
  pinged: if it still sends nothing by the next visit it is closed.

A peer that stops answering is dropped between 1 and 2 intervals after its last packet (plus one
slot's tick and the close timeout), as with websockets' keepalive (``ping_timeout`` equal to the
interval). A console's own pings (console/client, every 10 s) count as data received, so a console
connection is seldom pinged by the server.
"""

from __future__ import annotations

import asyncio
import logging
import time

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed
from websockets.frames import CloseCode
from websockets.protocol import State

log = logging.getLogger(__name__)

TICK = 0.25  # seconds between two visits at least (a smaller interval gets fewer slots)
SLOTS = 240  # at most this many slots (an interval of a minute)


class KeptConnection(ServerConnection):
    """A server connection that notes whether it received anything since the sweep last looked
    (``serve(create_connection=KeptConnection)``)."""

    heard = True  # something arrived since the last visit (the handshake counts)
    pinged = False  # pinged at the last visit, nothing heard since
    slot = -1  # where the sweep keeps it (-1: not kept)

    def data_received(self, data: bytes) -> None:
        self.heard = True
        super().data_received(data)


class Keepalive:
    """The sweep of one server's connections (see the module's docstring)."""

    def __init__(self, interval: float, *, close_timeout: float) -> None:
        if interval <= 0:
            raise ValueError(f"keepalive interval must be positive, not {interval}")
        self.interval = interval
        self.close_timeout = close_timeout
        self._slots: list[set[KeptConnection]] = [set() for _ in range(max(1, min(SLOTS, round(interval / TICK))))]
        self.tick = interval / len(self._slots)
        self._hand = 0  # the slot the next tick visits
        self._deal = 0  # the slot the next connection goes to
        self._task: asyncio.Task[None] | None = None
        self._closing: set[asyncio.Task[None]] = set()
        # figures (bench/keepalive.py, tests)
        self.pings = 0
        self.dropped = 0
        self.longest_visit = 0.0  # seconds of the longest slot visit so far

    def __len__(self) -> int:
        return sum(len(s) for s in self._slots)

    def add(self, conn: ServerConnection) -> None:
        """Keep ``conn`` alive from now on (its handler starts)."""
        assert isinstance(conn, KeptConnection), "serve(create_connection=KeptConnection)"
        conn.slot = self._deal
        self._slots[self._deal].add(conn)
        self._deal = (self._deal + 1) % len(self._slots)

    def discard(self, conn: ServerConnection) -> None:
        """Forget ``conn`` (its handler ended)."""
        if isinstance(conn, KeptConnection) and conn.slot >= 0:
            self._slots[conn.slot].discard(conn)
            conn.slot = -1

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="keepalive")

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def _run(self) -> None:
        while True:
            # relative sleeps: a late tick never brings a slot's next visit nearer than an interval,
            # so a pong always has at least ``interval`` to arrive
            await asyncio.sleep(self.tick)
            slot = self._slots[self._hand]
            self._hand = (self._hand + 1) % len(self._slots)
            if slot:
                started = time.perf_counter()
                await self.visit(slot)
                self.longest_visit = max(self.longest_visit, time.perf_counter() - started)

    async def visit(self, slot: set[KeptConnection]) -> None:
        for conn in tuple(slot):  # a ping may yield to the loop, and a handler may end meanwhile
            if conn.protocol.state is not State.OPEN:
                continue  # closing: its handler ends soon and discards it
            if conn.heard:
                conn.heard = conn.pinged = False
            elif conn.pinged:
                self._fail(conn)
            elif conn.paused:
                conn.pinged = True  # it reads nothing: ping() would wait for the buffer to drain
            else:
                try:
                    await conn.ping()  # returns at once (the writes are not paused)
                except ConnectionClosed:
                    continue
                conn.pinged = True
                self.pings += 1

    def _fail(self, conn: KeptConnection) -> None:
        log.debug("keepalive: no answer from %s within %.1f s: closing it", conn.remote_address, self.interval)
        self.dropped += 1
        task = asyncio.get_running_loop().create_task(self._close(conn), name="keepalive close")
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def _close(self, conn: KeptConnection) -> None:
        """Close as websockets' keepalive does (1011), giving up on the closing handshake after the
        close timeout (``close`` itself may wait for ever on a peer that reads nothing)."""
        try:
            async with asyncio.timeout(self.close_timeout):
                await conn.close(CloseCode.INTERNAL_ERROR, "keepalive ping timeout")
        except TimeoutError:
            conn.transport.abort()
