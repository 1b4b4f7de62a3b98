"""The PostgreSQL store's own guarantees (pgstore.py), beside what the server tests check on both stores."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import pq

from console.protocol.codec import ProtocolError
from console.server import pgstore
from console.server.pgstore import PgStore, StoreFailed, translate
from console.server.repository import events as events_sql
from tests.server.helpers import run


def test_nothing_is_acknowledged_before_the_wal_flush_returns(pg_url: str, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """COMMIT runs without waiting for the flush; what waits for the batch runs only once the flush
    thread's synchronous commit has returned."""
    gate, entered = threading.Event(), threading.Event()
    real = pgstore._FlushThread.flush_wal

    def held(conn: psycopg.Connection[Any]) -> None:
        entered.set()
        gate.wait(30)
        real(conn)

    monkeypatch.setattr(pgstore._FlushThread, "flush_wal", staticmethod(held))

    async def scenario() -> None:
        store = PgStore(pg_url, shop="flushes", local_dir=tmp_path)
        try:
            done: list[str] = []
            store.set_meta("k", "v")
            store.after_commit(lambda: done.append("acked"))
            waiter = asyncio.ensure_future(store.committed())
            while not entered.is_set():  # the batch commits, the thread starts its flush and is held
                await asyncio.sleep(0.01)
            for _ in range(5):  # anything the thread scheduled before its flush has run by now
                await asyncio.sleep(0)
            assert store._gen == 1 and done == [] and not waiter.done()
            with psycopg.connect(pg_url, autocommit=True) as other:  # committed, visible, not yet acknowledged
                assert other.execute("SELECT value FROM shop_flushes.meta WHERE key = 'k'").fetchone() == ("v",)
            gate.set()
            await asyncio.wait_for(waiter, 30)
            assert done == ["acked"]
        finally:
            gate.set()
            store.close()

    run(scenario())


def _reopen(pg_url: str, shop: str, tmp_path: Path) -> PgStore:
    """The shop opened again once the abandoned store's backend has gone: PostgreSQL ends a
    backend (and frees its advisory lock) a moment after its client hangs up, longer on a loaded
    machine."""
    deadline = time.monotonic() + 10.0
    while True:
        try:
            return PgStore(pg_url, shop=shop, local_dir=tmp_path)
        except pgstore.ShopOwned:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def test_a_failed_statement_outside_a_savepoint_fails_the_store(pg_url: str, tmp_path: Path) -> None:
    """PostgreSQL aborts the whole transaction: its COMMIT would be a silent ROLLBACK, so the batch
    must fail (fail-stop), never pass for committed."""

    async def scenario() -> None:
        store = PgStore(pg_url, shop="aborted", local_dir=tmp_path)
        try:
            store.set_meta("before", "1")
            with pytest.raises(StoreFailed):
                store.execute("INSERT INTO accounts (id, role, password_hash, created_at) VALUES (?, ?, ?, ?)",
                              ("x", "nobody-role", "h", 0.0))  # the CHECK refuses it
            with pytest.raises(StoreFailed):
                await store.committed()
            assert store.failure is not None
        finally:
            store.abandon()
        again = _reopen(pg_url, "aborted", tmp_path)
        try:
            assert again.get_meta("before") is None  # the whole batch, never acknowledged, is gone
        finally:
            again.close()

    run(scenario())


def test_a_request_inside_a_savepoint_can_fail_alone(pg_url: str, tmp_path: Path) -> None:
    async def scenario() -> None:
        store = PgStore(pg_url, shop="savepoint", local_dir=tmp_path)
        try:
            store.set_meta("kept", "1")
            store.execute("SAVEPOINT request")
            # the write is sent in the pipeline: its error comes at the latest with the request's
            # RELEASE (or with the next statement, once its answer is in: the test below)
            store.execute("INSERT INTO accounts (id, role, password_hash, created_at) VALUES (?, ?, ?, ?)",
                          ("x", "nobody-role", "h", 0.0))
            with pytest.raises(psycopg.errors.CheckViolation):
                store.set_meta("lost", "1")
                store.execute("RELEASE request")
            store.execute("ROLLBACK TO request")
            store.execute("RELEASE request")
            # or with the write's own answer, when it is asked for
            store.execute("SAVEPOINT request")
            cursor = store.execute("INSERT INTO accounts (id, role, password_hash, created_at) VALUES (?, ?, ?, ?)",
                                   ("y", "nobody-role", "h", 0.0))
            with pytest.raises(psycopg.errors.CheckViolation):
                assert cursor.rowcount
            store.execute("ROLLBACK TO request")
            store.execute("RELEASE request")
            await store.committed()
            assert store.failure is None and store.get_meta("kept") == "1" and store.get_meta("lost") is None
        finally:
            store.close()

    run(scenario())


def test_a_write_error_read_by_a_later_statement_fails_its_request_alone(pg_url: str, tmp_path: Path) -> None:
    """psycopg reads whatever answers have arrived each time it sends in the pipeline, and
    PostgreSQL sends an error at once: a failed write's error can come out of any later statement
    of its request, not only the RELEASE's sync. The sleep makes that happen every time (it is not
    a timing check): the error is raised once, by that statement, the connection leaves pipeline
    mode, and the request's ROLLBACK TO and the next requests work."""
    bad = ("INSERT INTO accounts (id, role, password_hash, created_at) VALUES (?, ?, ?, ?)",
           ("x", "nobody-role", "h", 0.0))

    async def scenario() -> None:
        store = PgStore(pg_url, shop="early_error", local_dir=tmp_path)
        try:
            store.set_meta("kept", "1")
            db: Any = store.db
            for later in ("a write", "RELEASE", "SAVEPOINT"):
                store.execute("SAVEPOINT request")
                store.execute(*bad)
                time.sleep(0.2)  # the error's answer is in before the next statement is sent
                with pytest.raises(psycopg.errors.CheckViolation):
                    if later == "a write":
                        store.set_meta("lost", "1")
                    elif later == "SAVEPOINT":  # any statement of the request: a nested savepoint too
                        store.execute("SAVEPOINT inner")
                    store.execute("RELEASE request")
                assert not db.pending and db.raw.pgconn.pipeline_status == pq.PipelineStatus.OFF
                assert store.failure is None
                store.execute("ROLLBACK TO request")
                store.execute("RELEASE request")
            store.execute("SAVEPOINT request")  # the next request
            store.set_meta("after", "1")
            store.execute("RELEASE request")
            await store.committed()
            assert store.failure is None and store.get_meta("kept") == "1" and store.get_meta("after") == "1"
            assert store.get_meta("lost") is None
        finally:
            store.close()

    run(scenario())


def test_a_connection_lost_inside_a_request_still_stops_the_store(pg_url: str, tmp_path: Path) -> None:
    """The same path with the connection cut (not a write's error): fatal, as before."""
    async def scenario() -> None:
        store = PgStore(pg_url, shop="lost_mid_request", local_dir=tmp_path)
        try:
            store.set_meta("kept", "1")
            await store.committed()
            db: Any = store.db
            store.execute("SAVEPOINT request")
            store.set_meta("lost", "1")
            with psycopg.connect(pg_url, autocommit=True) as other:
                other.execute("SELECT pg_terminate_backend(%s)", (db.raw.info.backend_pid,))
            time.sleep(0.2)
            with pytest.raises(StoreFailed):
                store.set_meta("lost", "2")
                store.execute("RELEASE request")
            assert store.failure is not None
        finally:
            store.close()

    run(scenario())


def test_text_with_nul_is_refused_as_invalid_before_reaching_the_database(pg_url: str, tmp_path: Path) -> None:
    store = PgStore(pg_url, shop="nul", local_dir=tmp_path)
    try:
        with pytest.raises(ProtocolError, match="NUL"):
            store.set_meta("k", "a\x00b")
        store.set_meta("k", "ok")
        store.flush()
        assert store.failure is None and store.get_meta("k") == "ok"
    finally:
        store.close()


def test_the_dialect_layer() -> None:
    assert translate("SELECT * FROM t WHERE a = ? AND b LIKE '%x' ESCAPE '\\'") == (
        "SELECT * FROM t WHERE a = %s AND b ILIKE '%%x' ESCAPE '\\'", False)
    assert translate("INSERT OR IGNORE INTO policy_history (seq, by, source) VALUES (?, ?, ?)")[0] == (
        "INSERT INTO policy_history (seq, by, source) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING")
    assert translate("INSERT INTO waits (agent, buyer, started) VALUES (?, ?, ?)") == (
        "INSERT INTO waits (agent, buyer, started) VALUES (%s, %s, %s) RETURNING id", True)
    assert translate("SELECT 1 WHERE IFNULL(a, '?') = ? ORDER BY rowid")[0] == (
        "SELECT 1 WHERE COALESCE(a, '?') = %s ORDER BY id")


def test_a_request_s_writes_are_answered_in_one_round_trip(pg_url: str, tmp_path: Path) -> None:
    """BEGIN, the request's savepoint and its writes go in the pipeline and are answered together at
    its RELEASE; a write outside any request is answered at once; COMMIT is one more."""
    async def scenario() -> None:
        store = PgStore(pg_url, shop="trips", local_dir=tmp_path)
        db = store.db
        try:
            before = db.round_trips  # type: ignore[attr-defined]
            store.execute("SAVEPOINT request")
            for i in range(5):
                store.set_meta(f"k{i}", str(i))
            note = store.execute("INSERT INTO buyers (id, name, kind, created_at) VALUES (?, ?, ?, ?)",
                                 ("b1", "B", "consumer", 0.0))
            assert db.round_trips == before  # type: ignore[attr-defined]  # nothing answered yet
            store.execute("RELEASE request")
            assert db.round_trips == before + 1  # type: ignore[attr-defined]
            assert note.rowcount == 1  # read from the answers already there
            store.set_meta("outside", "1")  # no savepoint: answered at once
            assert db.round_trips == before + 2  # type: ignore[attr-defined]
            await store.committed()
            assert db.round_trips == before + 3  # type: ignore[attr-defined]  # COMMIT
            assert [store.get_meta(f"k{i}") for i in range(5)] == ["0", "1", "2", "3", "4"]
        finally:
            store.close()

    run(scenario())


def test_the_owner_gives_keys_from_the_sequence_without_waiting(pg_url: str, tmp_path: Path) -> None:
    """An insert's ``lastrowid`` is known when it is sent (a key from a block of the table's own
    sequence), is the row's key once committed, and never repeats: not after a rolled-back
    request, not under the next owner, not for a writer using the sequence's default."""
    assert pgstore.with_own_id("INSERT INTO waits (agent, buyer, started) VALUES (?, ?, ?)") == (
        "INSERT INTO waits (id, agent, buyer, started) VALUES (%s, %s, %s, %s)", "waits", "id")
    assert pgstore.with_own_id("INSERT INTO meta (key, value) VALUES (?, ?)") is None  # no identity key
    assert pgstore.with_own_id("INSERT INTO waits (id, agent, buyer, started) VALUES (?, ?, ?, ?)") is None
    assert pgstore.with_own_id("INSERT INTO waits (agent, buyer, started) SELECT a, b, c FROM x") is None

    def wait(store: PgStore, buyer: str) -> int:
        store.execute("SAVEPOINT request")
        trips = store.db.round_trips  # type: ignore[attr-defined]
        key = int(store.execute("INSERT INTO waits (agent, buyer, started) VALUES (?, ?, ?)",
                                (None, buyer, 0.0)).lastrowid or 0)
        if buyer not in ("warm", "next"):  # (those take a block)
            assert store.db.round_trips == trips  # type: ignore[attr-defined]
        store.execute("RELEASE request")
        return key

    async def scenario() -> list[int]:
        store = PgStore(pg_url, shop="keys", local_dir=tmp_path)
        try:
            wait(store, "warm")  # takes the first block
            keys = [wait(store, f"b{i}") for i in range(3)]
            store.execute("SAVEPOINT request")
            store.execute("INSERT INTO waits (agent, buyer, started) VALUES (?, ?, ?)", (None, "gone", 0.0))
            store.execute("ROLLBACK TO request")
            store.execute("RELEASE request")
            keys.append(wait(store, "after"))
            await store.committed()
            stored = {r["buyer"]: r["id"] for r in store.all("SELECT id, buyer FROM waits")}
            assert [stored[b] for b in ("b0", "b1", "b2", "after")] == keys and "gone" not in stored
            assert keys == sorted(set(keys))
        finally:
            store.close()
        other = pgstore.connect(pg_url, "shop_keys")
        try:  # a writer without our keys (a tool) takes the sequence's next one: no collision
            tool_key = other.execute("INSERT INTO waits (buyer, started) VALUES ('tool', 0) RETURNING id").fetchone()[0]
        finally:
            other.close()
        again = PgStore(pg_url, shop="keys", local_dir=tmp_path)
        try:
            next_key = wait(again, "next")
            await again.committed()
        finally:
            again.close()
        return [*keys, tool_key, next_key]

    keys = run(scenario())
    assert keys == sorted(set(keys))
def test_a_made_schema_is_checked_in_one_query_and_remade_when_its_statements_change(
        pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 15: a takeover opens every shop of the dead owner; a schema the same statements made is
    not made again (no DDL, no database-wide lock), but one made by other statements is."""
    PgStore(pg_url, shop="ddl", local_dir=tmp_path).close()  # made
    with psycopg.connect(pg_url, autocommit=True) as conn:
        assert conn.execute("SELECT value FROM shop_ddl.meta WHERE key = 'pg_schema'").fetchone() \
            == (pgstore.schema_digest(),)
        conn.execute("ALTER TABLE shop_ddl.decisions DROP COLUMN owner")  # what older statements made
    ran: list[str] = []
    real = psycopg.Connection.execute

    def counted(self: psycopg.Connection[Any], query: Any, *args: Any, **kwargs: Any) -> Any:
        ran.append(str(query))
        return real(self, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Connection, "execute", counted)
    PgStore(pg_url, shop="ddl", local_dir=tmp_path).close()  # same digest: checked only
    assert not any("CREATE" in q or "ALTER" in q for q in ran), ran
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("UPDATE shop_ddl.meta SET value = 'other statements' WHERE key = 'pg_schema'")
    ran.clear()
    PgStore(pg_url, shop="ddl", local_dir=tmp_path).close()  # another digest: made again
    assert any("ALTER TABLE decisions ADD COLUMN IF NOT EXISTS owner" in q for q in ran)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM information_schema.columns WHERE table_schema = 'shop_ddl'"
                            " AND table_name = 'decisions' AND column_name = 'owner'").fetchone() == (1,)


def test_each_decision_names_the_process_that_held_the_shop(pg_url: str, tmp_path: Path) -> None:
    """The owner's connection writes ``fenliu.owner`` into every decision row (the failover bench
    compares them); a store opened without the lock (a command) names none."""
    async def scenario() -> None:
        store = PgStore(pg_url, shop="owners", local_dir=tmp_path)
        try:
            assert store.owner is not None and str(__import__("os").getpid()) in store.owner
            store.execute("INSERT INTO decisions (buyer, event, target, why, rule, at) VALUES (?, ?, ?, ?, ?, ?)",
                          ("b1", "arrive", "a1", "least_load", "R8.2", 1.0))
            await store.committed()
            first = store.owner
        finally:
            store.close()
        store = PgStore(pg_url, shop="owners", local_dir=tmp_path)
        try:
            assert store.owner != first  # a new incarnation is another owner, even in the same process
            store.execute("INSERT INTO decisions (buyer, event, target, why, rule, at) VALUES (?, ?, ?, ?, ?, ?)",
                          ("b1", "arrive", "a1", "least_load", "R8.2", 2.0))
            await store.committed()
            second = store.owner
        finally:
            store.close()
        tool = PgStore(pg_url, shop="owners", own=False, local_dir=tmp_path)
        try:
            tool.execute("INSERT INTO decisions (buyer, event, target, why, rule, at) VALUES (?, ?, ?, ?, ?, ?)",
                         ("b1", "arrive", "a1", "least_load", "R8.2", 3.0))
            tool.flush()
        finally:
            tool.close()
        with psycopg.connect(pg_url, autocommit=True) as conn:
            rows = conn.execute("SELECT owner FROM shop_owners.decisions ORDER BY id").fetchall()
        assert rows == [(first,), (second,), (None,)]

    run(scenario())


def test_an_index_made_by_an_older_statement_is_made_again(pg_url: str, tmp_path: Path) -> None:
    """Issue 9: ``CREATE INDEX IF NOT EXISTS`` keeps an old definition for ever; once the schema's
    statements change (another digest), an index whose own statement changed is replaced."""
    PgStore(pg_url, shop="idx", local_dir=tmp_path).close()
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("DROP INDEX shop_idx.waits_open")
        conn.execute("CREATE INDEX waits_open ON shop_idx.waits (started)")  # an older statement's index
        conn.execute("UPDATE shop_idx.meta SET value = 'older' WHERE key IN ('pg_schema', 'pg_index:waits_open')")
    PgStore(pg_url, shop="idx", local_dir=tmp_path).close()
    with psycopg.connect(pg_url, autocommit=True) as conn:
        (definition,) = conn.execute("SELECT indexdef FROM pg_indexes WHERE schemaname = 'shop_idx'"
                                     " AND indexname = 'waits_open'").fetchone()
        assert definition.endswith("(buyer) WHERE (answered IS NULL)"), definition


def test_a_shop_of_before_gets_a_resend_index_over_every_message(pg_url: str, tmp_path: Path) -> None:
    """Issue 9, as SQLite's migration: a shop made by the earlier statements (the client index
    partial) gets ``messages_client`` over every message and keeps ``messages_conversation``
    (PostgreSQL only, pg.py ``MESSAGES_CONVERSATION_PG``); a resend is still refused, bot lines
    without a client id pass."""
    PgStore(pg_url, shop="msgidx", local_dir=tmp_path).close()
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("INSERT INTO shop_msgidx.buyers VALUES ('b1', 'b1', 'consumer', 0)")
        conn.execute("INSERT INTO shop_msgidx.messages (conversation, author, text, at, client_id)"
                     " VALUES ('b1', 'buyer', 'x', 1, 'c1'), ('b1', 'bot', 'y', 2, NULL)")
        conn.execute("DROP INDEX shop_msgidx.messages_client")
        conn.execute("CREATE UNIQUE INDEX messages_client ON shop_msgidx.messages"
                     " (conversation, author, COALESCE(agent, ''), client_id) WHERE client_id IS NOT NULL")
        conn.execute("UPDATE shop_msgidx.meta SET value = 'older' WHERE key IN ('pg_schema', 'pg_index:messages_client')")
    PgStore(pg_url, shop="msgidx", local_dir=tmp_path).close()
    with psycopg.connect(pg_url, autocommit=True) as conn:
        indexes = dict(conn.execute("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'shop_msgidx'"
                                    " AND tablename = 'messages' AND indexname <> 'messages_pkey'").fetchall())
        assert set(indexes) == {"messages_client", "messages_conversation", "messages_text_trgm"}, indexes
        assert "WHERE" not in indexes["messages_client"], indexes
        insert = ("INSERT INTO shop_msgidx.messages (conversation, author, text, at, client_id)"
                  " VALUES ('b1', %s, 'z', 3, %s) ON CONFLICT DO NOTHING RETURNING id")
        assert conn.execute(insert, ("buyer", "c1")).fetchone() is None  # a resend
        assert conn.execute(insert, ("bot", None)).fetchone() is not None
        assert conn.execute("SELECT count(*) FROM shop_msgidx.messages").fetchone() == (3,)


def test_a_shop_of_schema_6_gets_its_event_log_indexed_by_marks(pg_url: str, tmp_path: Path) -> None:
    """Issue 9, as SQLite's migration 6 -> 7: ``agent_events_seq (agent, seq)`` goes,
    ``agent_events_mark`` (one event in MARK_EVERY) comes, each agent's last number is taken into
    ``agent_event_tops`` once."""
    PgStore(pg_url, shop="marks", local_dir=tmp_path).close()
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("DROP INDEX shop_marks.agent_events_mark")
        conn.execute("DROP TABLE shop_marks.agent_event_tops")
        conn.execute("CREATE UNIQUE INDEX agent_events_seq ON shop_marks.agent_events (agent, seq)")
        conn.execute("INSERT INTO shop_marks.agent_events (agent, seq, at, body)"
                     " SELECT 'a' || (n % 2 + 1), n / 2 + 1, 0, 'x' FROM generate_series(0, 199) AS n")
        conn.execute("UPDATE shop_marks.schema_version SET version = 6")
        conn.execute("UPDATE shop_marks.meta SET value = 'older' WHERE key = 'pg_schema'")
    store = PgStore(pg_url, shop="marks", local_dir=tmp_path)
    try:
        assert events_sql.last_event_seqs(store) == {"a1": 100, "a2": 100}
        assert events_sql.events_between(store, "a2", 90, 92, 10**6) == [b"x", b"x"]
    finally:
        store.close()
    with psycopg.connect(pg_url, autocommit=True) as conn:
        indexes = {r[0] for r in conn.execute("SELECT indexname FROM pg_indexes WHERE schemaname = 'shop_marks'"
                                              " AND tablename = 'agent_events'")}
        assert indexes == {"agent_events_pkey", "agent_events_mark"}, indexes
        assert conn.execute("SELECT version FROM shop_marks.schema_version").fetchone() == (7,)
        assert conn.execute("SELECT agent, seq FROM shop_marks.agent_event_tops ORDER BY agent").fetchall() == \
            [("a1", 100), ("a2", 100)]
