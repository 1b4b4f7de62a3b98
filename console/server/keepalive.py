"""Keepalive for every connection of a server in one sweep (issue 9).

websockets' own keepalive (``ping_interval`` of ``serve``) runs a task per connection: a sleep
timer, a ping future and a timeout each, renewed every interval (a cancelled timeout stays in the
loop's timer heap until its deadline): 2,500-5,000 handles in the heap at 2,500 connections, 4 with
the sweep (bench/keepalive.py). A peak's profile showed ``Connection.keepalive`` 1.2 % of the loop
thread and ``TimerHandle.__lt__`` 0.9 %, and the tasks' share of the collector's young passes.

Here the server serves with that keepalive off and one task does the job for all connections.
Each connection is visited twice an interval: the connections are dealt round-robin into slots
(one for each ``TICK`` of half the interval, at most ``SLOTS``) and the task visits one slot each
``TICK`` or so, so the pings are spread over the interval: a ping costs 15-60 µs of the loop (the
socket write; bench/keepalive.py), so the 2,000 idle connections of a peak pinged in one go would
hold the loop 75-150 ms; a visit of one slot (40 of them at 20 s) takes a few milliseconds.
At a visit:

- a connection that sent anything since the last visit (data, a pong, a ping of its own) is alive;
- one that sent nothing since the last visit (half an interval) is pinged (``Connection.ping``; its
  waiter is not awaited: the pong shows as data received), so a silent peer that answers is pinged
  once an interval (every other visit), as websockets pinged it, and a peer that speaks on its own
  (a console's client pings every 10 s) is not pinged at all;
- one pinged two visits ago (an interval: websockets' ``ping_timeout`` equal to the interval) that
  has sent nothing since is closed, 1011 "keepalive ping timeout", as websockets does. A connection
  whose writes are paused (the peer reads nothing and its buffers are full) is not pinged (``ping``
  would wait for the drain): it is closed if it stays silent and paused for two visits, and pinged
  as any other once it reads again.

A peer that stops answering is dropped at most 2 intervals after its last packet (plus a tick and
the close timeout), as with websockets' keepalive.
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
SLOTS = 240  # at most this many slots (an interval of two minutes)
PONG_VISITS = 2  # visits (half an interval each) a pinged or paused connection has to send something


class KeptConnection(ServerConnection):
    """A server connection that notes whether it received anything since the sweep last looked
    (``serve(create_connection=KeptConnection)``)."""

    heard = True  # something arrived since the last visit (the handshake counts)
    pinged = False  # a ping is out, nothing heard since
    silent = 0  # visits with nothing heard since the ping (or while its writes were paused)
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
        slots = max(1, min(SLOTS, round(interval / 2 / TICK)))
        self._slots: list[set[KeptConnection]] = [set() for _ in range(slots)]
        self.tick = interval / 2 / slots  # each slot visited twice an interval
        self._hand = 0  # the slot the next tick visits
        self._deal = 0  # the slot the next connection goes to
        self._count = 0  # connections kept (the server's count of connections served, limits.max_connections)
        self._task: asyncio.Task[None] | None = None
        self._closing: set[asyncio.Task[None]] = set()
        # figures (bench/keepalive.py, tests)
        self.pings = 0
        self.dropped = 0
        self.longest_visit = 0.0  # seconds of the longest slot visit so far

    def __len__(self) -> int:
        return self._count

    def add(self, conn: ServerConnection) -> None:
        """Keep ``conn`` alive from now on (its handler starts)."""
        assert isinstance(conn, KeptConnection), "serve(create_connection=KeptConnection)"
        conn.slot = self._deal
        self._slots[self._deal].add(conn)
        self._count += 1
        self._deal = (self._deal + 1) % len(self._slots)

    def discard(self, conn: ServerConnection) -> None:
        """Forget ``conn`` (its handler ended)."""
        if isinstance(conn, KeptConnection) and conn.slot >= 0:
            self._slots[conn.slot].remove(conn)
            conn.slot = -1
            self._count -= 1

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="keepalive")

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def _run(self) -> None:
        while True:
            # relative sleeps: a late tick never brings a slot's next visit nearer than half an
            # interval, so a pong always has at least ``interval`` to arrive
            await asyncio.sleep(self.tick)
            slot = self._slots[self._hand]
            self._hand = (self._hand + 1) % len(self._slots)
            if slot:
                started = time.perf_counter()
                try:
                    await self.visit(slot)
                except Exception:  # a bug here must not end every connection's keepalive
                    log.exception("keepalive: a visit failed")
                self.longest_visit = max(self.longest_visit, time.perf_counter() - started)

    async def visit(self, slot: set[KeptConnection]) -> None:
        for conn in tuple(slot):  # a ping may yield to the loop, and a handler may end meanwhile
            if conn.protocol.state is not State.OPEN:
                continue  # closing: its handler ends soon and discards it
            if conn.heard:
                conn.heard = conn.pinged = False
                conn.silent = 0
            elif conn.pinged or conn.paused:  # paused: it reads nothing (ping() would wait for the drain)
                conn.silent += 1
                if conn.silent >= PONG_VISITS:
                    self._fail(conn)
            else:  # a ping, and a whole interval (PONG_VISITS visits) for something to come back
                try:
                    await conn.ping()  # returns at once (the writes are not paused)
                except ConnectionClosed:
                    continue
                conn.pinged = True
                conn.silent = 0
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
