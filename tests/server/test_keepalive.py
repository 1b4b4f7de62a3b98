"""Keepalive in one sweep (console/server/keepalive.py, issue 9): a peer that answers no ping is
closed with 1011 as websockets' own keepalive did; a quiet peer that answers stays."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from websockets.exceptions import InvalidStatus
from websockets.protocol import State

from console.server.keepalive import Keepalive
from console.server.limits import Limits

from .helpers import Client, run, running_server, wait_for
from .test_reception import buyer

INTERVAL = 0.2  # seconds: one slot, visited five times a second


def test_a_silent_peer_is_closed_and_a_quiet_one_that_answers_is_kept(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path, ping_interval=INTERVAL) as server:
            quiet = await buyer(server, "b1")  # says nothing more, but its websocket answers pings
            silent = await buyer(server, "b2")
            silent.conn.transport.pause_reading()  # its process hangs: no pong, nothing sent
            sweep = server.keepalive
            assert len(sweep) == 2
            await wait_for(lambda: sweep.dropped == 1, timeout=30)
            pings = sweep.pings
            await wait_for(lambda: sweep.pings >= pings + 3, timeout=30)  # the quiet one, pinged again and again
            assert sweep.dropped == 1
            assert quiet.conn.close_code is None  # still open
            silent.conn.transport.resume_reading()  # it reads the server's close frame
            await silent.conn.wait_closed()
            assert silent.conn.close_code == 1011 and silent.conn.close_reason == "keepalive ping timeout"
            await wait_for(lambda: len(sweep) == 1)  # its handler ended: the sweep forgot it

    run(scenario())


def test_the_connection_limit_counts_the_connections_the_sweep_keeps(tmp_path: Path) -> None:
    """``Limits.max_connections``: the count is the sweep's (one owner); a closed connection frees its place."""
    async def scenario() -> None:
        async with running_server(tmp_path, limits=Limits(max_connections=2)) as server:
            first = await buyer(server, "b1")
            await buyer(server, "b2")
            with pytest.raises(InvalidStatus) as refused:
                await Client.buyer(server)
            assert refused.value.response.status_code == 503
            await first.close()
            await wait_for(lambda: len(server.keepalive) == 1)
            await buyer(server, "b3")  # its place again

    run(scenario())


class _Peer:
    """What a visit reads of a connection, without a socket: pings and closes are recorded."""

    def __init__(self) -> None:
        self.heard, self.pinged, self.silent, self.paused = True, False, 0, False
        self.protocol = SimpleNamespace(state=State.OPEN)
        self.remote_address = ("198.51.100.7", 40000)
        self.pings = 0
        self.closed: tuple[int, str] | None = None

    async def ping(self) -> None:
        self.pings += 1

    async def close(self, code: int, reason: str) -> None:
        self.closed = (code, reason)
        self.protocol.state = State.CLOSED


def test_a_visit_pings_the_silent_closes_the_unanswered_and_pings_a_paused_peer_once_it_reads() -> None:
    """The sweep's rule, visit by visit (no sockets, no clock)."""
    async def scenario() -> None:
        sweep = Keepalive(20.0, close_timeout=2.0)
        talks, answers_not, paused = _Peer(), _Peer(), _Peer()
        slot: Any = {talks, answers_not, paused}

        async def visit() -> None:
            await sweep.visit(slot)
            await asyncio.sleep(0)  # the closes' tasks run
            talks.heard = True  # it sends something between any two visits

        await visit()  # everyone was heard at the handshake
        assert sweep.pings == 0
        paused.paused = True
        await visit()
        assert (talks.pings, answers_not.pings, paused.pings) == (0, 1, 0)  # paused: ping() would wait
        paused.paused = False  # it reads again, and still says nothing
        await visit()
        assert paused.pings == 1 and paused.closed is None  # pinged now, with a whole interval to answer
        await visit()
        assert answers_not.closed == (1011, "keepalive ping timeout") and paused.closed is None
        await visit()
        assert paused.closed == (1011, "keepalive ping timeout")
        assert talks.closed is None and talks.pings == 0 and sweep.dropped == 2

    run(scenario())
