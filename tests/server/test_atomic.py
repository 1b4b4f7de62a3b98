"""A request commits all its effects or none (issue 9): a failure halfway leaves no trace.

A real server on port 0 and real clients; the failure is injected by replacing one server-internal
step in this process (``monkeypatch``), after the request has already written rows, logged an engine
input and numbered agent events. The database, the server's memory and its later answers must show
nothing of it, and the next request must work (with the next sequence number: no hole).
"""

from __future__ import annotations

import asyncio
import copy
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from console.protocol.messages import (
    Arrive,
    CloseSession,
    ConversationUpdated,
    Error,
    ErrorCode,
    MessageAdded,
    Ok,
    Routed,
    Say,
    SayAck,
)
from console.server.app import Server
from console.server.shop import Shop

from .helpers import run, running_server
from .test_live_routing import QUEUE_POLICY
from .test_reception import buyer, online

TABLES = ("messages", "conversations", "decisions", "engine_log", "agent_events", "receptions", "waits")


def _disk(server: Server) -> dict[str, list[tuple[Any, ...]]]:
    assert server.store is not None
    return {table: [tuple(r) for r in server.store.all(f"SELECT * FROM {table} ORDER BY 1")] for table in TABLES}


async def _settled(server: Server) -> None:
    """What the last requests set going is written: the coalesced KPI push (due within
    PUSH_INTERVAL) now, then its commit; so a snapshot taken after it does not race that timer."""
    assert server.shop is not None and server.store is not None
    server.shop.publisher.cancel()
    server.shop.publisher.flush()
    await server.store.committed()


def _memory(server: Server, buyers: list[str]) -> dict[str, Any]:
    shop = server.shop
    assert shop is not None and shop.driver.engine is not None
    engine = shop.driver.engine
    return {
        "rows": {b: copy.copy(shop.rows.get(b)) for b in buyers},  # copies: rows are changed in place
        "sessions": {b: engine.session(b) for b in buyers},
        "queues": [(q.pool, q.length) for q in engine.queues()],
        "agents": {a: engine.agent(a) for a in ("a1", "a2")},
        "seq": {a: shop.hub.last_seq(a) for a in ("a1", "a2")},
        "waits": {b: copy.copy(w) for b, w in shop.waits.items()},
        "told": dict(shop.queue.told),
        "live": len(shop.rows),
        # the room reads the shop's own rows, not a copy: after a rebuild, the rebuilt ones
        "room": {a: [r.wire() for r in shop.room.held_by(a)] for a in ("a1", "a2")},
    }


class Boom(RuntimeError):
    pass


def _fail_once(monkeypatch: pytest.MonkeyPatch, name: str, *, after: int = 0) -> list[int]:
    """Make ``Shop.<name>`` raise on its call number ``after`` + 1, once."""
    calls = [0]
    original = getattr(Shop, name)

    def failing(self: Shop, *args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        if calls[0] == after + 1:
            raise Boom(name)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Shop, name, failing)
    return calls


def test_a_close_that_fails_while_dequeuing_leaves_no_trace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path, policy=QUEUE_POLICY) as server:
            a1 = await online(server, "a1")
            b1, b2, b3 = [await buyer(server, name) for name in ("b1", "b2", "b3")]
            assert (await b1.request(Arrive())).to == "agent"
            assert (await b2.request(Arrive())).position == 1
            assert (await b3.request(Arrive())).position == 2
            await b1.request(Say(text="在吗", client_id="m1"))
            await a1.expect(MessageAdded)
            await _settled(server)
            disk, memory = _disk(server), _memory(server, ["b1", "b2", "b3"])

            # The close is decided, b1's row closed, b2 dequeued to a1: the second decision fails.
            _fail_once(monkeypatch, "_tell", after=1)  # what the second decision changes is pushed
            answer = await a1.request(CloseSession(conversation="b1"))
            assert isinstance(answer, Error) and answer.code is ErrorCode.INTERNAL
            assert server.store is not None
            await server.store.committed()
            assert _disk(server) == disk
            assert _memory(server, ["b1", "b2", "b3"]) == memory

            monkeypatch.undo()
            assert isinstance(await a1.request(CloseSession(conversation="b1")), Ok)
            assert (await b2.expect(Routed)).to == "agent"
            event = await a1.expect(ConversationUpdated, lambda e: e.conversation.id == "b2")
            seqs = [r[0] for r in server.store.all("SELECT seq FROM agent_events WHERE agent = 'a1' ORDER BY seq")]
            assert seqs == list(range(1, len(seqs) + 1))  # no hole where the failed close was
            assert event.seq > memory["seq"]["a1"]

    run(scenario())


def test_a_buyer_message_that_fails_halfway_is_not_stored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path) as server:
            a1 = await online(server, "a1")
            b1 = await buyer(server, "b1")
            assert (await b1.request(Arrive(entry="product_detail"))).name == "小美"
            await _settled(server)
            disk, memory = _disk(server), _memory(server, ["b1"])

            # stored, waited on, logged to the engine, numbered for a1: then telling a1 fails
            calls = _fail_once(monkeypatch, "_publish")
            answer = await b1.request(Say(text="在吗", client_id="m1"))
            assert isinstance(answer, Error) and answer.code is ErrorCode.INTERNAL and calls[0] == 1
            assert server.store is not None
            await server.store.committed()
            assert _disk(server) == disk
            assert _memory(server, ["b1"]) == memory

            monkeypatch.undo()
            ack = await b1.request(Say(text="在吗", client_id="m1"))  # the resend is new, not a duplicate
            assert isinstance(ack, SayAck) and not ack.duplicate
            added = await a1.expect(MessageAdded, lambda e: e.seq > memory["seq"]["a1"])
            assert added.message.text == "在吗"
            assert added.conversation is not None and added.conversation.last_text == "在吗"  # its row, one event
            assert added.seq == memory["seq"]["a1"] + 1  # no hole

    run(scenario())


class _CommitFails:
    """The store's connection, whose next COMMIT after a buyer message is stored fails (as a full
    disk or an I/O error would make it)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db
        self.armed = False
        self.failed = 0

    def execute(self, sql: str, params: Any = ()) -> Any:
        if sql.startswith("INSERT INTO messages"):
            self.armed = True
        elif sql == "COMMIT" and self.armed:
            self.armed = False
            self.failed += 1
            if "psycopg" in type(self._db).__module__ or "pgstore" in type(self._db).__module__:
                import psycopg  # the PostgreSQL store's connection: its own kind of failure

                raise psycopg.OperationalError("could not write to file (injected)")
            raise sqlite3.OperationalError("disk I/O error (injected)")
        return self._db.execute(sql, params)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._db, name)


def test_a_failed_commit_leaves_the_server_as_its_database(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path) as server:
            a1 = await online(server, "a1")
            b1 = await buyer(server, "b1")
            assert (await b1.request(Arrive(entry="product_detail"))).name == "小美"
            await b1.request(Say(text="在吗", client_id="m1"))
            await a1.expect(MessageAdded)
            assert server.store is not None
            await _settled(server)
            disk, memory = _disk(server), _memory(server, ["b1"])

            real = server.store.db
            failing = _CommitFails(real)
            server.store.db = failing  # type: ignore[assignment]
            answer = await b1.request(Say(text="还在吗", client_id="m2"))
            server.store.db = real
            assert failing.failed == 1
            assert isinstance(answer, Error) and answer.code is ErrorCode.INTERNAL
            assert _disk(server) == disk
            assert _memory(server, ["b1"]) == memory  # rebuilt from the database, not ahead of it

            # then the store's fail-stop (store.py): the server serves nothing more ...
            await asyncio.wait_for(server.failed.wait(), 10)

        # ... and a start on the same folder goes on from the database: the message was never
        # acknowledged, so the buyer sends it again; the agent's numbers have no hole, no repeat
        async with running_server(tmp_path) as server:
            a1 = await online(server, "a1")
            b1 = await buyer(server, "b1")
            ack = await b1.request(Say(text="还在吗", client_id="m2"))
            assert isinstance(ack, SayAck) and not ack.duplicate
            added = await a1.expect(MessageAdded, lambda e: e.message.client_id == "m2")
            assert added.seq > memory["seq"]["a1"]
            assert server.store is not None
            seqs = [int(r["seq"]) for r in server.store.all(
                "SELECT seq FROM agent_events WHERE agent = 'a1' ORDER BY seq")]
            assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))  # no hole, no repeat

    run(scenario())

