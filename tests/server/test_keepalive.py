"""Keepalive in one sweep (console/server/keepalive.py, issue 9): a peer that answers no ping is
closed with 1011 as websockets' own keepalive did; a quiet peer that answers stays."""

from __future__ import annotations

from pathlib import Path

import pytest
from websockets.exceptions import InvalidStatus

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
