"""Rows appended to a batch (``Store.append``): written at its commit, taken back with the
savepoint of a failed request, dropped with a failed batch; on both stores."""

from __future__ import annotations

import asyncio
from pathlib import Path

from console.server.store import Store

from .helpers import open_store, run

INSERT = "INSERT INTO agent_events (agent, seq, at, body) VALUES (?, ?, 0, ?)"


def seqs(store: Store) -> list[int]:
    return [int(r[0]) for r in store.tuples("SELECT seq FROM agent_events WHERE agent = 'a1' ORDER BY seq")]


def test_appends_are_written_at_the_commit_and_a_savepoint_takes_its_own_back(tmp_path: Path) -> None:
    store = open_store(tmp_path, synchronous="NORMAL")

    async def scenario() -> None:
        store.append(INSERT, ("a1", 1, b"one"))
        store.savepoint("request")  # a request that stands
        store.append(INSERT, ("a1", 2, b"two"))
        store.release("request")
        assert seqs(store) == []  # not written before the commit
        store.savepoint("request")  # a request that fails: its rows and its append go
        store.execute("INSERT INTO meta (key, value) VALUES ('failed', 'x')")
        store.append(INSERT, ("a1", 3, b"three"))
        store.rollback_to("request")
        assert seqs(store) == [1, 2]  # the batch's earlier appends, written for a rebuild to read
        store.append(INSERT, ("a1", 3, b"three again"))
        await store.committed()
        assert seqs(store) == [1, 2, 3]
        assert bytes(store.one("SELECT body FROM agent_events WHERE agent = 'a1' AND seq = 3")[0]) == b"three again"
        assert store.get_meta("failed") is None

    try:
        run(scenario())
    finally:
        store.close()


def test_a_failed_batch_drops_its_appends(tmp_path: Path) -> None:
    store = open_store(tmp_path, synchronous="NORMAL")

    async def scenario() -> None:
        store.append(INSERT, ("a1", 1, b"one"))
        store.append(INSERT, ("a1", 1, b"the same number again"))  # the unique index refuses it at the commit
        waiter = asyncio.ensure_future(store.committed())
        await asyncio.wait([waiter], timeout=10)
        assert waiter.done() and waiter.exception() is not None  # never acknowledged
        assert store.failure is not None and store._appends == []

    try:
        run(scenario())
    finally:
        store.close()
    store = open_store(tmp_path, synchronous="NORMAL")
    try:
        assert seqs(store) == []  # nothing of the batch reached the database
    finally:
        store.close()
