"""The WAL checkpoint runs in the store's sync thread, never in a COMMIT on the loop (issue 9).

Real SQLite, real ``-shm`` file: the wal-index is read the way ``_WalSyncer`` reads it, and what it
says is checked against what SQLite does (a restart after a complete checkpoint, frames piling up
when nobody checkpoints).
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from console.server import store as store_module
from console.server.store import Store, WalState, may_checkpoint, read_wal_state

from .helpers import run

pytestmark = pytest.mark.sqlite_only  # the SQLite store's WAL

ROW = "x" * 30000  # about eight pages a row: few commits fill the WAL (the suite stays short)


async def _write(store: Store, rows: int, start: int = 0) -> None:
    """``rows`` batches of one row each, each awaited (so each is a COMMIT and a sync)."""
    for i in range(start, start + rows):
        store.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (f"k{i}", ROW))
        await store.committed()


def test_the_thread_copies_the_loop_completes_and_the_wal_restarts(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_module._WalSyncer, "COPY_FRAMES", 256)  # a short WAL: the suite stays short
    monkeypatch.setattr(store_module._WalSyncer, "RESTART_FRAMES", 1000)
    store = Store(tmp_path / "fenliu.db")

    async def scenario() -> None:
        await _write(store, 500)
        syncer = store._syncer
        assert syncer is not None and syncer.checkpoints
        assert store.db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0  # COMMIT never checkpoints
        state = syncer._wal_state()
        assert state is not None
        # some 4,000 frames were written: the thread copied most of them, the loop completed its
        # checkpoints and the WAL restarted each time it reached RESTART_FRAMES
        assert syncer.copied >= 2 * syncer.RESTART_FRAMES
        assert state.frames <= 2 * syncer.RESTART_FRAMES

    try:
        run(scenario())
    finally:
        store.close()
    reopened = Store(tmp_path / "fenliu.db")
    try:
        assert reopened.one("PRAGMA integrity_check")[0] == "ok"
        assert reopened.one("SELECT COUNT(*) FROM meta WHERE key LIKE 'k%'")[0] == 500
    finally:
        reopened.close()


def test_without_the_thread_nothing_checkpoints(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The serving connection's COMMIT copies nothing: with the thread's checkpoints stopped the
    frames pile up past SQLite's automatic threshold (1,000 pages) and none is backfilled."""
    monkeypatch.setattr(store_module._WalSyncer, "_copy", lambda self: None)
    store = Store(tmp_path / "fenliu.db")

    async def scenario() -> None:
        await _write(store, 200)
        assert store._syncer is not None
        state = store._syncer._wal_state()
        assert state is not None and state.frames > 1500 and state.backfilled == 0

    try:
        run(scenario())
    finally:
        store.close()


def test_no_checkpoint_starts_until_the_writer_restarted_the_wal(tmp_path: Path) -> None:
    """The WAL-reset bug's guard, on SQLite's own wal-index: after a complete checkpoint the
    thread may not start another until the writer has restarted the WAL and committed after it."""
    store = Store(tmp_path / "fenliu.db")

    async def scenario() -> None:
        await _write(store, 10)
        syncer = store._syncer
        assert syncer is not None
        assert may_checkpoint(syncer._wal_state())  # frames wait to be copied
        syncer.COPY_AFTER = 0.0
        with syncer.lock:
            syncer._copy()
        state = syncer._wal_state()
        assert state is not None and state.reset_pending  # everything copied: the next commit restarts
        assert not may_checkpoint(state)
        await _write(store, 1, start=10)  # the writer restarts the WAL and writes after it
        state = syncer._wal_state()
        assert state is not None and not state.reset_pending and state.backfilled == 0 and state.frames > 0
        assert may_checkpoint(state)

    try:
        run(scenario())
    finally:
        store.close()


def _shm(frames: int, backfilled: int, *, second: int | None = None, init: int = 1) -> bytes:
    header = struct.pack("=IIIBBHI", 3007000, 0, 7, init, 0, 4096, frames) + bytes(28)
    other = header if second is None else struct.pack("=IIIBBHI", 3007000, 0, 7, init, 0, 4096, second) + bytes(28)
    return header + other + struct.pack("=I", backfilled) + bytes(36)


def test_reading_the_wal_index() -> None:
    assert read_wal_state(3, _shm(10, 3)) == WalState(frames=10, backfilled=3)
    assert read_wal_state(3, _shm(10, 3, second=11)) is None  # a writer between the two copies
    assert read_wal_state(10, _shm(0, 0)) is None  # a restart under way: nBackfill changed meanwhile
    assert read_wal_state(0, _shm(10, 0, init=0)) is None  # not initialised
    assert read_wal_state(0, _shm(10, 0)[:100]) is None  # short read


def test_when_a_checkpoint_may_start() -> None:
    assert may_checkpoint(WalState(frames=10, backfilled=3))
    assert not may_checkpoint(WalState(frames=10, backfilled=10))  # restart pending
    assert not may_checkpoint(WalState(frames=0, backfilled=0))  # nothing to copy
    assert may_checkpoint(WalState(frames=5, backfilled=0))  # after a restart
    assert not may_checkpoint(None)  # the wal-index could not be read now


def test_reading_the_wal_index_leaves_sqlites_locks_held(tmp_path: Path) -> None:
    """SQLite's locks on the ``-shm`` file are POSIX record locks: closing any descriptor of the
    file drops all of this process's. The thread once opened and closed it for each read; another
    process's connection then took the "dead man switch" lock (byte 128, sqlite.org/walformat.html)
    as if nobody had the database open and set the file up afresh, truncating it under the server's
    mapping: SIGBUS. Here, after the thread's reads, another process must still find that lock held."""
    import subprocess
    import sys

    store = Store(tmp_path / "fenliu.db")
    probe = ("import fcntl, os, sys\n"
             "fd = os.open(sys.argv[1], os.O_RDWR)\n"
             "try:\n"
             "    fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, 128)\n"
             "except OSError:\n"
             "    print('held')\n"
             "else:\n"
             "    print('free')\n")

    async def scenario() -> None:
        await _write(store, 3)
        syncer = store._syncer
        assert syncer is not None and syncer.checkpoints  # it has read the wal-index (at least 3 times)
        assert syncer._wal_state() is not None
        done = subprocess.run([sys.executable, "-c", probe, str(tmp_path / "fenliu.db-shm")],
                              capture_output=True, text=True, timeout=30)
        assert done.stdout.strip() == "held", done

    try:
        run(scenario())
    finally:
        store.close()
