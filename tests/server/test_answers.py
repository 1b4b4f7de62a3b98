"""A connection's answers: sent once the commit holding them is durable, in the order of its
requests, while the connection reads on (issue 9, answers.py).

The WAL's fsync is the operating system's (``os.fsync``), wrapped so the test decides when it
returns: while it is held, the server reads and handles a buyer's pipelined frames and may send
none of their answers; released, they come in the order sent, the refused ones in their place.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import gc
import os
import threading
import weakref
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.frames import Frame

from console.protocol.messages import (
    Arrive,
    Claim,
    Error,
    ErrorCode,
    GetKpis,
    GetSnapshot,
    Kpis,
    Rate,
    Say,
    SayAck,
    Search,
    SearchResults,
    Snapshot,
)
from console.server import agents as agents_module
from console.server import store as store_module
from console.server.driver import EngineDriver
from console.server.frames import ServedConnection
from console.server.limits import Limits

from .helpers import Client, run, running_server, wait_for
from .test_reception import buyer


class _HeldFsync:
    """os.fsync that waits while the test holds it, then returns (or fails, as a full disk)."""

    def __init__(self) -> None:
        self.go = threading.Event()
        self.go.set()
        self.held = threading.Event()  # an fsync is waiting
        self.error: OSError | None = None
        self._real = os.fsync

    def __call__(self, fd: int) -> None:
        if not self.go.is_set():
            self.held.set()
            assert self.go.wait(10)
        if self.error is not None:
            raise self.error
        self._real(fd)


async def _pipelined(server: Any, fsync: _HeldFsync
                     ) -> tuple[Client, list[tuple[Any, bool]], list[str | None], asyncio.Task[None]]:
    """A buyer sends four frames at once while the fsync is held: a message, a refused request
    (no agent to rate: ``conflict``, raised inside its request), a message, and one over its rate.
    Returns what it receives, each with whether the fsync had been let go by then, and the rids."""
    b1 = await buyer(server, "b1")
    await b1.request(Arrive())  # no agent online: queued, no session to rate
    fsync.go.clear()
    received: list[tuple[Any, bool]] = []

    async def read() -> None:  # until the server closes the connection
        with contextlib.suppress(ConnectionClosed):
            while True:
                message = await b1._next(10)
                received.append((message, fsync.go.is_set()))

    reader = asyncio.create_task(read())
    rids = [await b1.send(Say(text="在吗", client_id="m1")), await b1.send(Rate(score=5)),
            await b1.send(Say(text="还在吗", client_id="m3")), await b1.send(Say(text="?", client_id="m4"))]
    # every frame handled (m3 is in the open batch or the one awaiting its fsync), the fsync held
    await wait_for(lambda: server.store.one("SELECT 1 FROM messages WHERE client_id = 'm3'") is not None
                   and fsync.held.is_set())
    await (await b1.conn.ping())  # a barrier: whatever the server wrote before its pong has come
    await asyncio.sleep(0)
    assert received == []  # nothing answered before the commit holding it is durable
    return b1, received, rids, reader


async def _four_answers(server: Any, fsync: _HeldFsync, error: OSError | None = None
                        ) -> tuple[Client, list[tuple[Any, bool]], list[str | None], asyncio.Task[None]]:
    """``_pipelined``, then the fsync let go (failing with ``error``, if any) before anything else,
    the server's stop included (it syncs); returns once the four answers have come."""
    try:
        b1, received, rids, reader = await _pipelined(server, fsync)
    finally:
        fsync.error = error
        fsync.go.set()
    await wait_for(lambda: len(received) == 4)
    return b1, received, rids, reader


@pytest.mark.sqlite_only  # the SQLite store's WAL fsync thread
def test_answers_wait_for_their_commit_and_keep_the_request_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fsync = _HeldFsync()
    monkeypatch.setattr(store_module.os, "fsync", fsync)

    async def scenario() -> None:
        async with running_server(tmp_path, limits=Limits(buyer_rate=0.001, buyer_burst=5)) as server:
            b1, received, rids, reader = await _four_answers(server, fsync)
            messages = [m for m, _ in received]
            assert all(after for _, after in received)
            assert [type(m) for m in messages] == [SayAck, Error, SayAck, Error]
            assert [m.rid for m in messages] == [rids[0], rids[1], rids[2], None]
            assert messages[1].code is ErrorCode.CONFLICT and messages[3].code is ErrorCode.RATE_LIMITED
            assert [messages[0].client_id, messages[2].client_id] == ["m1", "m3"]
            reader.cancel()
            await b1.close()

    try:
        run(scenario())
    finally:
        fsync.go.set()


@pytest.mark.sqlite_only
def test_a_failed_commit_answers_internal_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The fsync fails (a full disk): the pending answers of the requests that changed something
    become ``internal``, the refusals queued between them stay as they were, all in order, and
    the server stops serving (fail-stop). The shop reads its memory back once, not once per answer."""
    fsync = _HeldFsync()
    monkeypatch.setattr(store_module.os, "fsync", fsync)
    checks: list[object] = []
    ahead_of_log = EngineDriver.ahead_of_log
    monkeypatch.setattr(EngineDriver, "ahead_of_log", lambda self: checks.append(self) or ahead_of_log(self))

    async def scenario() -> None:
        async with running_server(tmp_path, limits=Limits(buyer_rate=0.001, buyer_burst=5)) as server:
            _, received, rids, reader = await _four_answers(
                server, fsync, OSError(errno.ENOSPC, "No space left on device"))
            messages = [m for m, _ in received]
            assert all(isinstance(m, Error) for m in messages)
            assert [m.code for m in messages] == [ErrorCode.INTERNAL, ErrorCode.CONFLICT, ErrorCode.INTERNAL,
                                                  ErrorCode.RATE_LIMITED]
            assert [m.rid for m in messages] == [rids[0], rids[1], rids[2], None]
            assert server.failure is not None
            assert len(checks) == 1  # two answers lost, one read-back (Shop.batch_lost)
            await asyncio.wait_for(reader, 10)  # the server closed the connection (fail-stop)

    try:
        run(scenario())
    finally:
        fsync.go.set()


def test_a_consoles_pipelined_requests_are_answered_in_order(tmp_path: Path) -> None:
    """A snapshot (made once its commit stands), a refusal and a read, sent at once: answered in
    that order, the refusal held behind the pending snapshot."""

    async def scenario() -> None:
        async with running_server(tmp_path) as server:
            a1 = await Client.agent(server)
            await a1.login("a1")
            rids = [await a1.send(GetSnapshot()), await a1.send(Claim(conversation="nobody")), await a1.send(GetKpis())]
            seen = await a1.drain(lambda m: isinstance(m, Kpis))
            answers = [m for m in seen if isinstance(m, Snapshot | Error | Kpis)]
            assert [type(m) for m in answers] == [Snapshot, Error, Kpis]
            assert [answers[1].rid, answers[2].rid] == rids[1:]
            await a1.close()

    run(scenario())


def test_frames_that_come_while_a_request_awaits_wait_their_turn(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A search (served off the loop) is held while two reads come behind it: the reads, which
    are otherwise served as their frame arrives (frames.py ``ServedConnection``), are answered
    after the search, in order; once nothing is in flight the next read is served at once."""
    go = threading.Event()
    received = [0]  # data frames the server got
    real_candidates = agents_module.search_candidates
    real_event = ServedConnection.process_event

    def held_candidates(*args: Any) -> Any:
        assert go.wait(10)
        return real_candidates(*args)

    def counted(conn: ServedConnection, event: Any) -> None:
        received[0] += isinstance(event, Frame)
        real_event(conn, event)

    def served_at_once(conn: ServedConnection) -> Any:
        direct = conn.direct
        assert direct is not None

        def spy(raw: bytes) -> bool:
            done = direct(raw)
            served[0] += done
            return done

        return spy

    served = [0]
    monkeypatch.setattr(agents_module, "search_candidates", held_candidates)
    monkeypatch.setattr(ServedConnection, "process_event", counted)

    async def scenario() -> None:
        async with running_server(tmp_path) as server:
            a1 = await Client.agent(server)
            await a1.login("a1")
            before = received[0]
            rids = [await a1.send(Search(query="hello")), await a1.send(GetKpis()), await a1.send(GetKpis())]
            await wait_for(lambda: received[0] >= before + 3)  # all three are in, the search held
            go.set()
            seen = await a1.drain(lambda m: isinstance(m, Kpis) and m.rid == rids[2])
            answers = [m for m in seen if isinstance(m, SearchResults | Kpis)]
            assert [type(m) for m in answers] == [SearchResults, Kpis, Kpis]
            assert [m.rid for m in answers] == rids
            conn = next(c for c in server._ws.connections if isinstance(c, ServedConnection) and c.direct)
            conn.direct = served_at_once(conn)
            rid = await a1.send(GetKpis())
            await a1.drain(lambda m: isinstance(m, Kpis) and m.rid == rid)
            assert served == [1]  # nothing in flight: served as its frame came
            await a1.close()

    try:
        run(scenario())
    finally:
        go.set()


def test_a_closed_connections_transport_is_freed_without_the_collector(tmp_path: Path) -> None:
    """A buyer's connection comes and goes: the server's side of it (its transport, its socket)
    is freed by reference counting, not left in a cycle for the collector's sweep (frames.py
    ``ServedConnection.connection_lost``; CPython 3.11's transport refers to itself)."""

    async def scenario() -> None:
        async with running_server(tmp_path) as server:
            b1 = await buyer(server, "b1")
            assert server._ws is not None
            conn = next(iter(server._ws.connections))
            transport = weakref.ref(conn.transport)
            del conn
            await b1.close()
            await wait_for(lambda: not server._ws.connections and len(server.keepalive) == 0)
            await asyncio.sleep(0)  # the transport's own connection_lost callback
            assert transport() is None

    gc.disable()  # only reference counts free it
    try:
        run(scenario())
    finally:
        gc.enable()
