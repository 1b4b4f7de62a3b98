"""The store's commits: acknowledgements wait for the fsync that covers them; fsyncs coalesce.

The fsync is the operating system's (``os.fsync``), wrapped here so the test decides when it
returns: nothing of the store is replaced.
"""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path

import pytest

from console.server import store as store_module
from console.server.store import Store

from .helpers import run

pytestmark = pytest.mark.sqlite_only  # the SQLite store's WAL fsync thread


class _GatedFsync:
    """os.fsync that waits for the test to open the gate; counts calls."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.calls = 0
        self.started = threading.Event()
        self._real = os.fsync

    def __call__(self, fd: int) -> None:
        self.calls += 1
        self.started.set()
        assert self.gate.wait(10)
        self._real(fd)


def test_after_commit_waits_for_the_fsync_and_fsyncs_coalesce(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store(tmp_path / "fenliu.db")  # synchronous="FULL": the server's setting
    fsync = _GatedFsync()
    monkeypatch.setattr(store_module.os, "fsync", fsync)

    async def scenario() -> None:
        ran: list[int] = []
        store.execute("INSERT INTO meta (key, value) VALUES ('a', '1')")
        store.after_commit(lambda: ran.append(1))
        first = asyncio.ensure_future(store.committed())
        await asyncio.to_thread(fsync.started.wait, 10)  # COMMIT done, its fsync under way
        assert store.one("SELECT value FROM meta WHERE key = 'a'") is not None  # committed...
        assert ran == [] and not first.done()  # ...but not acknowledged before it is synced
        later = []
        for n in range(2, 7):  # five more batches, each in its own loop turn, while the fsync runs
            store.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (f"k{n}", str(n)))
            store.after_commit(lambda n=n: ran.append(n))
            later.append(asyncio.ensure_future(store.committed()))
            await asyncio.sleep(0)
            await asyncio.sleep(0)
        assert ran == []
        fsync.gate.set()
        await asyncio.wait_for(asyncio.gather(first, *later), 10)
        assert ran == [1, 2, 3, 4, 5, 6]  # in order
        # the first fsync plus one for the five batches committed while it ran (and the folder's
        # fsync when the WAL was first opened; it has no gate of its own here)
        assert fsync.calls <= 3

    try:
        run(scenario())
    finally:
        fsync.gate.set()
        store.close()


def test_without_fsync_ask_nothing_waits(tmp_path: Path) -> None:
    store = Store(tmp_path / "fenliu.db", synchronous="OFF")

    async def scenario() -> None:
        ran: list[str] = []
        store.execute("INSERT INTO meta (key, value) VALUES ('a', '1')")
        store.after_commit(lambda: ran.append("a"))
        await store.committed()
        assert ran == ["a"]

    try:
        run(scenario())
    finally:
        store.close()


def test_close_syncs_and_runs_what_waits(tmp_path: Path) -> None:
    store = Store(tmp_path / "fenliu.db")
    ran: list[str] = []

    async def scenario() -> None:
        store.execute("INSERT INTO meta (key, value) VALUES ('a', '1')")
        store.after_commit(lambda: ran.append("a"))
        store.close()  # a clean stop in the middle of a loop turn

    run(scenario())
    assert ran == ["a"]
    reopened = Store(tmp_path / "fenliu.db")
    try:
        assert reopened.get_meta("a") == "1"
    finally:
        reopened.close()


def test_stop_closes_the_store_even_if_the_snapshot_fails(tmp_path: Path) -> None:
    """Server.stop: the clean-stop snapshot raises (its folder became a file), the database is
    still committed and closed and the data folder released."""
    import shutil

    from console.server.store import FolderLock

    from .helpers import running_server

    async def scenario() -> None:
        async with running_server(tmp_path) as server:
            store = server.store
            assert store is not None
            store.set_meta("written", "before stop")  # pending when stop begins
            snapshots = tmp_path / "data" / "snapshots"
            shutil.rmtree(snapshots)
            snapshots.write_text("not a folder")
            with pytest.raises(OSError):
                await server.stop()
            assert server.store is None
            with pytest.raises(Exception, match="closed"):
                store.one("SELECT 1")
            assert FolderLock.holder(tmp_path / "data") is None
            snapshots.unlink()  # the context manager stops it again: let that snapshot succeed
            snapshots.mkdir()

    run(scenario())
    reopened = Store.open(tmp_path / "data")
    try:
        assert reopened.get_meta("written") == "before stop"
    finally:
        reopened.close()
