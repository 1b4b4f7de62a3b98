"""Restarts and reconnects: nothing acknowledged is lost, nothing arrives twice (CONSOLE.md §5)."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.protocol.messages import (
    Arrive,
    ConversationUpdated,
    Entry,
    Error,
    Event,
    KpisUpdated,
    LoginOk,
    MessageAdded,
    Open,
    Reply,
    ReplyAck,
    Resume,
    Say,
    Snapshot,
    Why,
)
from console.reception.model import Section
from console.routing.events import Reason, Status

from .helpers import Client, run, running_server
from .test_reception import buyer, online


def test_restart_keeps_conversations_messages_routing_and_accounts(tmp_path: Path) -> None:
    async def first_life() -> None:
        async with running_server(tmp_path) as server:
            a1 = await online(server, "a1")
            b1 = await buyer(server, "b1", "王小姐")
            await b1.request(Arrive(entry=Entry.PRODUCT_DETAIL))
            await b1.request(Say(text="在吗", client_id="m1"))
            ack = await a1.request(Reply(conversation="b1", text="在的", client_id="c1"))
            assert isinstance(ack, ReplyAck)
            await b1.request(Say(text="发什么快递", client_id="m2"))

    async def second_life() -> None:
        async with running_server(tmp_path, seed=False) as server:
            a1 = await Client.agent(server)
            _, snapshot = await a1.login("a1")
            assert snapshot.status is Status.ONLINE  # routing state came back (grace period running)
            [row] = snapshot.conversations
            assert row.id == "b1" and row.name == "王小姐" and row.section is Section.PENDING
            assert row.holder == "agent:a1" and row.unread == 1  # since the reply
            history = await a1.request(Open(conversation="b1"))
            assert [m.text for m in history.messages] == ["在吗", "在的", "发什么快递"]
            # the resent reply is still recognised after the restart
            again = await a1.request(Reply(conversation="b1", text="在的", client_id="c1"))
            assert isinstance(again, ReplyAck) and again.duplicate and again.message_id == ack_id(history)
            why = await a1.request(Why(conversation="b1"))
            assert [d.why for d in why.decisions] == [Reason.GROUP]
            # the same buyer re-arriving stays in the open session (R9.1)
            b1 = await buyer(server, "b1")
            routed = await b1.request(Arrive(entry=Entry.PRODUCT_DETAIL))
            assert routed.why is Reason.OPEN_SESSION and routed.name == "小美"

    run(first_life())
    run(second_life())


def ack_id(history) -> int:  # type: ignore[no-untyped-def]
    return next(m.id for m in history.messages if m.client_id == "c1")


def test_reconnect_replays_missed_events_in_order_once(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path) as server:
            a1 = await online(server, "a1")
            b1 = await buyer(server, "b1")
            await b1.request(Arrive(entry=Entry.PRODUCT_DETAIL))
            last = (await a1.expect(ConversationUpdated)).seq
            await a1.close()
            # while the console is away: three buyer messages
            for i in range(3):
                await b1.request(Say(text=f"消息{i}", client_id=f"m{i}"))
            fresh = await Client.agent(server)  # a token to resume with (the console keeps its own)
            ok_login, _snap = await fresh.login("a1")
            await fresh.close()
            back = await Client.agent(server)
            resumed = await back.request(Resume(token=ok_login.token, last_seq=last))
            assert isinstance(resumed, LoginOk) and resumed.resumed
            events = await back.drain(lambda m: isinstance(m, Event) and m.seq == resumed.seq)
            seqs = [m.seq for m in events if isinstance(m, Event)]
            assert seqs == list(range(last + 1, resumed.seq + 1))  # in order, none missing, none twice
            texts = [m.message.text for m in events if isinstance(m, MessageAdded)]
            assert texts == ["消息0", "消息1", "消息2"]
            assert not any(isinstance(m, Snapshot) for m in events)
            # live events continue after the replayed ones
            await b1.request(Say(text="还在吗", client_id="m9"))
            live = await back.expect(MessageAdded)
            assert live.seq > resumed.seq and live.message.text == "还在吗"

    run(scenario())


def test_resume_from_the_future_gets_a_snapshot(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path) as server:
            a1 = await Client.agent(server)
            ok, _ = await a1.login("a1")
            other = await Client.agent(server)
            answer = await other.request(Resume(token=ok.token, last_seq=ok.seq + 1000))
            assert isinstance(answer, LoginOk) and not answer.resumed
            snap = await other.expect(Snapshot)
            assert snap.seq == answer.seq
            refused = await other.request(Resume(token=ok.token))
            assert isinstance(refused, Error)

    run(scenario())


@pytest.mark.sqlite_only  # SQLite schema migration
def test_a_version_1_database_is_migrated_keeping_its_events(tmp_path: Path) -> None:
    """Schema 1 kept agent_events WITHOUT ROWID; opening it with this fenliu converts it in place."""
    import sqlite3

    from console.server.store import DB_NAME, SCHEMA_VERSION, Store

    tmp_path.mkdir(exist_ok=True)
    old = sqlite3.connect(tmp_path / DB_NAME)
    old.executescript("""
        CREATE TABLE schema_version (version INTEGER NOT NULL);
        INSERT INTO schema_version VALUES (1);
        CREATE TABLE agent_events (agent TEXT NOT NULL, seq INTEGER NOT NULL, at REAL NOT NULL,
                                   body BLOB NOT NULL, PRIMARY KEY (agent, seq)) WITHOUT ROWID;
        INSERT INTO agent_events VALUES ('a1', 1, 0, x'7b7d'), ('a1', 2, 0, x'5b5d'), ('a2', 1, 0, x'3130');
    """)
    old.commit()
    old.close()
    store = Store.open(tmp_path)
    try:
        rows = store.all("SELECT agent, seq, body FROM agent_events ORDER BY agent, seq")
        assert [(r["agent"], r["seq"], bytes(r["body"])) for r in rows] == [("a1", 1, b"{}"), ("a1", 2, b"[]"), ("a2", 1, b"10")]
        assert store.one("SELECT version FROM schema_version")["version"] == SCHEMA_VERSION
        with pytest.raises(sqlite3.IntegrityError):  # a mark's (agent, seq) is unique (schema 7: the marks only)
            store.db.execute("INSERT INTO agent_events (agent, seq, at, body) VALUES ('a1', 1, 0, x'00')")
    finally:
        store.close()


@pytest.mark.sqlite_only  # SQLite schema migration
def test_a_version_2_database_keeps_its_messages_and_client_ids_become_per_author(tmp_path: Path) -> None:
    """Schema 2 had UNIQUE (conversation, client_id) on messages; 3 has it per author (issue 10)."""
    import sqlite3

    from console.server.store import DB_NAME, SCHEMA_VERSION, Store

    tmp_path.mkdir(exist_ok=True)
    old = sqlite3.connect(tmp_path / DB_NAME)
    old.executescript("""
        CREATE TABLE schema_version (version INTEGER NOT NULL);
        INSERT INTO schema_version VALUES (2);
        CREATE TABLE buyers (id TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL, created_at REAL NOT NULL);
        INSERT INTO buyers VALUES ('b1', 'b1', 'consumer', 0);
        CREATE TABLE messages (id INTEGER PRIMARY KEY, conversation TEXT NOT NULL REFERENCES buyers(id),
            author TEXT NOT NULL, text TEXT NOT NULL, at REAL NOT NULL, agent TEXT, client_id TEXT,
            UNIQUE (conversation, client_id));
        CREATE INDEX messages_conversation ON messages(conversation, id);
        INSERT INTO messages VALUES (7, 'b1', 'buyer', '在吗', 1, NULL, 'c1'), (9, 'b1', 'agent', '在的', 2, 'a1', 'r1');
    """)
    old.commit()
    old.close()
    store = Store.open(tmp_path)
    try:
        assert store.one("SELECT version FROM schema_version")["version"] == SCHEMA_VERSION == 7
        rows = store.all("SELECT id, author, client_id FROM messages ORDER BY id")
        assert [tuple(r) for r in rows] == [(7, "buyer", "c1"), (9, "agent", "r1")]
        indexes = {r["name"] for r in store.all("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert "messages_client" in indexes and "messages_conversation" not in indexes  # one index (issue 9)
        store.db.execute("INSERT INTO messages (conversation, author, text, at, agent, client_id)"
                         " VALUES ('b1', 'buyer', 'x', 3, NULL, 'r1')")  # the agent's client_id, the buyer's message
        with pytest.raises(sqlite3.IntegrityError):  # the same author twice is still refused
            store.db.execute("INSERT INTO messages (conversation, author, text, at, agent, client_id)"
                             " VALUES ('b1', 'buyer', 'y', 4, NULL, 'c1')")
    finally:
        store.close()



def test_a_resume_across_the_upgrade_replays_the_old_pair_and_the_view_folds_it(tmp_path: Path) -> None:
    """Issue 9: events an older server stored for a message (``conversation``, then ``message``
    without its row) are replayed as they are, and the client's view takes the row from them."""
    from msgspec.structs import replace

    from console.client.view import AgentView
    from console.protocol.messages import Message
    from console.reception.model import Author

    async def scenario() -> None:
        async with running_server(tmp_path) as server:
            a1 = await online(server, "a1")
            b1 = await buyer(server, "b1")
            await b1.request(Arrive(entry=Entry.PRODUCT_DETAIL))
            row = (await a1.expect(ConversationUpdated)).conversation
            # b1's reception changed a1's tiles: their coalesced push (KpiPublisher, within
            # PUSH_INTERVAL) comes first. Had its timer fired while the login below waited for its
            # commit and fsync, the snapshot would hold the new tiles and the push would follow it
            # as event seq + 1, so the resume would replay it too (seen under load: an extra
            # KpisUpdated before the planted pair).
            await a1.expect(KpisUpdated)
            ok_login, snapshot = await (fresh := await Client.agent(server)).login("a1")
            await fresh.close()
            await a1.close()
            view = AgentView()
            view.apply(snapshot)
            after = replace(row, last_text="旧的一条", unread=1)
            old = Message(id=900, conversation="b1", author=Author.BUYER, text="旧的一条", at=after.last_at)
            shop = server.shop
            assert shop is not None
            with shop.atomic():  # what a server of session 4 wrote to agent_events for one buyer message
                shop.hub.push("a1", lambda seq: ConversationUpdated(seq=seq, conversation=after))
                shop.hub.push("a1", lambda seq: MessageAdded(seq=seq, message=old))
            await shop.committed()
            back = await Client.agent(server)
            resumed = await back.request(Resume(token=ok_login.token, last_seq=snapshot.seq))
            assert isinstance(resumed, LoginOk) and resumed.resumed
            events = await back.drain(lambda m: isinstance(m, Event) and m.seq == resumed.seq)
            replayed = [m for m in events if isinstance(m, Event)]
            assert [type(e) for e in replayed] == [ConversationUpdated, MessageAdded]
            for event in replayed:
                view.apply(event)  # type: ignore[arg-type]
            assert view.conversations["b1"] == after and view.seq == resumed.seq
            await back.close()

    run(scenario())


@pytest.mark.sqlite_only  # SQLite schema objects
def test_a_trigger_or_index_with_an_old_text_is_replaced_on_open(tmp_path: Path) -> None:
    """``CREATE … IF NOT EXISTS`` alone keeps an old definition for ever: a database whose
    ``waits_answered`` trigger and ``waits_open`` index have older texts gets the code's on open."""
    import sqlite3

    from console.server.repository.migrations import definition
    from console.server.repository.schema import SCHEMA, WAIT_ANSWERED
    from console.server.store import DB_NAME, Store

    Store.open(tmp_path).close()
    old = sqlite3.connect(tmp_path / DB_NAME)
    old.executescript("""
        DROP TRIGGER waits_answered;
        CREATE TRIGGER waits_answered AFTER INSERT ON messages WHEN 0 BEGIN SELECT 1; END;
        DROP INDEX waits_open;
        CREATE INDEX waits_open ON waits(buyer);
    """)
    old.close()
    store = Store.open(tmp_path)
    try:
        stored = {r["name"]: r["sql"] for r in store.all(
            "SELECT name, sql FROM sqlite_master WHERE name IN ('waits_answered', 'waits_open')")}
        index = next(s for s in SCHEMA if "waits_open" in s)
        assert definition(stored["waits_answered"]) == definition(WAIT_ANSWERED)
        assert definition(stored["waits_open"]) == definition(index)
        # and the trigger in force is the code's: an agent's message answers the open wait
        store.execute("INSERT INTO buyers (id, name, kind, created_at) VALUES ('b1', 'b', 'consumer', 0)")
        store.execute("INSERT INTO waits (buyer, started) VALUES ('b1', 1)")
        store.execute("INSERT INTO messages (conversation, author, text, at, agent) VALUES ('b1', 'agent', 'hi', 2, 'a1')")
        assert tuple(store.one("SELECT agent, answered FROM waits")) == ("a1", 2)
    finally:
        store.close()


@pytest.mark.sqlite_only  # SQLite schema migration; PostgreSQL's: tests/pg/test_pgstore.py
def test_a_version_6_database_gets_its_event_log_indexed_by_marks(tmp_path: Path) -> None:
    """Schema 6 indexed every agent event by (agent, seq); 7 indexes one in MARK_EVERY and keeps
    each agent's last number in ``agent_event_tops``, taken from the log once, at the migration."""
    import sqlite3

    from console.server.repository import events as events_sql
    from console.server.store import DB_NAME, SCHEMA_VERSION, Store

    Store.open(tmp_path).close()
    old = sqlite3.connect(tmp_path / DB_NAME)
    old.executescript("""
        DROP INDEX agent_events_mark;
        DROP TABLE agent_event_tops;
        CREATE UNIQUE INDEX agent_events_seq ON agent_events (agent, seq);
        UPDATE schema_version SET version = 6;
    """)
    old.executemany("INSERT INTO agent_events (agent, seq, at, body) VALUES (?, ?, 0, ?)",
                    [(agent, seq, f"{agent}{seq}".encode()) for seq in range(1, 101) for agent in ("a1", "a2")])
    old.commit()
    old.close()
    store = Store.open(tmp_path)
    try:
        assert store.one("SELECT version FROM schema_version")["version"] == SCHEMA_VERSION == 7
        indexes = {r[0] for r in store.tuples("SELECT name FROM sqlite_master WHERE type = 'index'"
                                              " AND tbl_name = 'agent_events'")}
        assert indexes == {"agent_events_mark"}
        assert store.tuples("SELECT agent, seq, id FROM agent_event_tops ORDER BY agent") == [("a1", 100, 199), ("a2", 100, 200)]
        assert events_sql.last_event_seqs(store) == {"a1": 100, "a2": 100}
        assert events_sql.events_between(store, "a2", 90, 92, 10**6) == [b"a291", b"a292"]
        with pytest.raises(sqlite3.IntegrityError):  # a mark is unique
            store.db.execute("INSERT INTO agent_events (agent, seq, at, body) VALUES ('a1', 65, 0, x'00')")
    finally:
        store.close()
