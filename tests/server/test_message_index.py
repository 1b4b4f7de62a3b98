"""One b-tree of messages keyed by conversation (issue 9): ``messages_client`` keeps a resend
stored once and serves every read of a conversation's messages; the earlier second index,
``messages_conversation (conversation, id)``, is gone, from a new database and from an old one."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from console.reception.model import Author
from console.server.repository import Repository
from console.server.repository.panel import PanelRepository
from console.server.repository.search import messages_like, messages_like_in
from console.server.store import DB_NAME, Store

FULL_SCAN = re.compile(r"\bSCAN (messages|m)\b")
"""A plan line that reads the whole messages table (SQLite names a full scan ``SCAN t``; an
index lookup is ``SEARCH t USING ...``)."""


def _history(store: Store, buyers: int = 300, each: int = 6) -> None:
    """Buyers with a few messages each (bot lines without a client id among them)."""
    store.db.executemany("INSERT INTO buyers (id, name, kind, created_at) VALUES (?, ?, 'consumer', 0)",
                         [(f"b{i}", f"b{i}") for i in range(buyers)])
    store.db.executemany(
        "INSERT INTO messages (conversation, author, text, at, agent, client_id) VALUES (?, ?, ?, ?, ?, ?)",
        [(f"b{i}", author, "在吗", n * buyers + i, "a1" if author == "agent" else None,
          None if author == "bot" else f"c{n}")
         for n, author in enumerate(["buyer", "bot", "agent", "buyer", "agent", "buyer"][:each])
         for i in range(buyers)])
    store.db.commit()


@pytest.mark.sqlite_only  # SQLite's trace callback and query plans
def test_every_read_of_a_conversations_messages_looks_it_up_by_the_index(tmp_path: Path) -> None:
    """No read by conversation becomes a full scan of ``messages`` (the statements run, as traced,
    each explained on a store with history)."""
    store = Store.open(tmp_path, synchronous="NORMAL")
    try:
        _history(store)
        seen: list[str] = []
        store.db.set_trace_callback(seen.append)
        repo, panel = Repository(store), PanelRepository(store)
        messages, more = repo.history("b7", 4)
        assert [m.author for m in messages] == [Author.AGENT, Author.BUYER, Author.AGENT, Author.BUYER] and more
        assert [m.id for m in messages] == sorted(m.id for m in messages)  # oldest first, the latest 4
        assert repo.find_client_message("b7", "c0", Author.BUYER) is not None
        assert not repo.has_image("b7", "0" * 64)
        times = panel.message_times("b7", 0)
        assert len(times) == 6 and times == sorted(times) and sum(t <= 900 for t in times) == 3
        assert [m.at for m in panel.messages_between("b7", 300, None, 2)] == [307, 607]
        assert len(messages_like(store, "%在%", 10**9, {"b7", "b8"}, 50)) == 12
        assert len(messages_like_in(store, "%在%", 10**9, 0, {"b7"}, 50)) == 6
        store.db.set_trace_callback(None)
        reads = [s for s in seen if s.lstrip().upper().startswith("SELECT") and "messages" in s]
        assert len(reads) == 7
        for sql in reads:
            plan = [str(r[3]) for r in store.db.execute("EXPLAIN QUERY PLAN " + sql)]
            assert not any(FULL_SCAN.search(line) for line in plan), (sql, plan)
    finally:
        store.close()


@pytest.mark.sqlite_only  # a SQLite file; PostgreSQL's: tests/pg/test_pgstore.py
def test_a_database_of_before_keeps_its_messages_in_one_index(tmp_path: Path) -> None:
    """A database of before (schema 6 with two indexes, the client one partial) with history: on
    open its ``messages_conversation`` goes and ``messages_client`` covers every message; the messages
    stay, a resend is still refused, bot lines without a client id still pass."""
    store = Store.open(tmp_path, synchronous="NORMAL")
    _history(store, buyers=20)
    store.close()
    old = sqlite3.connect(tmp_path / DB_NAME)
    old.executescript("""
        DROP INDEX messages_client;
        CREATE INDEX messages_conversation ON messages(conversation, id);
        CREATE UNIQUE INDEX messages_client
            ON messages(conversation, author, IFNULL(agent, ''), client_id) WHERE client_id IS NOT NULL;
        UPDATE schema_version SET version = 6;
    """)
    old.close()
    store = Store.open(tmp_path, synchronous="NORMAL")
    try:
        indexes = {str(r["name"]): str(r["sql"]) for r in store.all(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'messages'")}
        assert list(indexes) == ["messages_client"] and "WHERE" not in indexes["messages_client"]
        assert store.one("SELECT COUNT(*) FROM messages")[0] == 120
        repo = Repository(store)
        assert repo.insert_message("b3", Author.BUYER, "again", 9e5, None, "c0") is None  # a resend
        assert repo.insert_message("b3", Author.AGENT, "again", 9e5, "a2", "c2") is not None  # another agent
        assert repo.insert_message("b3", Author.BOT, "hi", 9e5, None, None) is not None
        assert repo.insert_message("b3", Author.BOT, "hi", 9e5, None, None) is not None
        assert len(repo.history("b3", 50)[0]) == 9
    finally:
        store.close()
