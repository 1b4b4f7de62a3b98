"""The server's SQLite database: schema, connection settings and batched commits.

One file, ``DATA_DIR/fenliu.db``, holds everything the server keeps across restarts (CONSOLE.md
§4): accounts and tokens, buyers, conversations, messages, orders, ratings, routing decisions with
their reasons, the engine's input log (ARCHITECTURE.md "Persistence of routing state"), each
agent's outgoing event log (for resume, CONSOLE.md §5) and the facts the KPI tiles are counted from.

Durability settings, and why:

- ``journal_mode=WAL``: readers never block the writer and a commit is one sequential append.
- Durable acknowledgements (``synchronous="FULL"``, the server's setting): an acknowledgement is a
  promise (CONSOLE.md §5: "a server restart, even a kill, loses no acknowledged message"), and
  after a power cut too. SQLite's own ``FULL`` keeps it by fsyncing the WAL inside ``COMMIT``,
  on the event loop (p50 5 ms, p99 16 ms a commit on the development disk: a quarter of the
  loop's time at a peak). Here SQLite runs ``synchronous=NORMAL`` (``COMMIT`` appends to the WAL
  without syncing: a killed process already loses nothing) and a thread of ours fsyncs the
  ``-wal`` file; what waits for a batch (``after_commit`` actions, ``committed()`` waiters) runs
  on the loop once an fsync begun after its ``COMMIT`` has returned. Writes made while an fsync
  runs stay in one open transaction, committed when it returns and synced by the next fsync
  (group commit across loop turns as well as within one: one COMMIT, each page written once). Why this is
  enough: in WAL mode a commit is frames appended to the ``-wal`` file; fsyncing that file makes
  them durable whoever wrote them. Checkpoints run off the loop too (``_WalSyncer``): the
  thread copies the WAL into the database on a connection of its own while the loop goes on
  committing, and the loop only completes a checkpoint, a few frames, when the WAL is long
  (SQLite's automatic one, 1,000 pages copied inside a ``COMMIT``, stopped the loop 25-55 ms at a
  peak). A checkpoint fsyncs the WAL before copying and the database after (``NORMAL`` does that
  much), so frames overwritten by a WAL restart are already in a synced database. The WAL is only
  deleted when the last connection closes; the thread re-opens it when its inode changes.
  The other candidate, a writer thread with its own connection for every write, was not taken:
  every read of the server would need to see its own uncommitted writes across two connections.
  Two connections that checkpoint are the setting of SQLite's "WAL-reset bug" (3.7.0 to 3.51.2;
  this machine has 3.40.1): ``may_checkpoint`` says how the thread stays clear of it.
  Other values (``"NORMAL"``, ``"OFF"``: benchmarks) go to SQLite as they are, with no fsync.
- ``foreign_keys=ON``: a message or token cannot point at a conversation or account that is not
  there.

Batching: ``execute`` opens a transaction on the first write and schedules ``flush`` for the next
loop turn, so all writes of one loop turn share one commit; under load, no sooner than
``COMMIT_WINDOW`` after the last commit, so that one commit holds the requests of several turns. Code that must not act before its
writes are durable either awaits ``committed()`` or registers the action with ``after_commit``
(the hub sends pushes that way), so nothing is sent to a client before the commit that holds it.

Failure: a write, ``COMMIT`` or fsync that fails with a full disk, an I/O error or the like
(``StoreFailed``) rolls the batch back, drops every action and waiter not yet durable (their
acknowledgements never go out) and refuses all later writes; ``on_failure`` callbacks are told,
and the server stops (fail-stop: what it holds in memory may include changes SQLite rolled back,
so it must not serve another request; a restart rebuilds everything from the database).
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import struct
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

from console.server.repository import fold, meta, migrations
from console.server.repository.schema import SCHEMA_VERSION as SCHEMA_VERSION

log = logging.getLogger(__name__)

DB_NAME = "fenliu.db"

def default_data_dir() -> Path:
    """The per-user data folder (CONSOLE.md §4: nothing else to install or configure)."""
    return Path(platformdirs.user_data_dir("fenliu", appauthor=False))


DatabaseError = sqlite3.DatabaseError
"""What SQLite raises for a database it cannot read (damage found past the header): named here so
the server's start catches it without importing sqlite3 (the SQL's home and the stores do)."""


class StoreError(Exception):
    """The database cannot be opened, is of an unknown schema version, or can no longer be written."""


class BadDatabase(StoreError):
    """The database file cannot be used as it is (damaged, cut short, read-only, not a database).

    The message is a paragraph for the person starting the server: what is wrong, what to do.
    The file is left as it was found (``check_file`` only reads; SQLite is not let near a file
    that fails it)."""


SQLITE_MAGIC = b"SQLite format 3\x00"


def _restore_advice(path: Path, *, recover: bool = True) -> str:
    advice = (f"Restore it from your backup (with the server stopped: copy the backup over {path} and "
            f"delete {path.name}-wal and {path.name}-shm beside it if they are there), or start the "
            f"server with --data pointing at another folder to begin an empty shop there.")
    return advice + (f" `sqlite3 {path} .recover` may save part of what is in it." if recover else "")


def check_file(path: Path) -> None:
    """Refuse, with a paragraph, a database file that is not one, is cut short or cannot be written.

    Reads the 100-byte header and the sizes only (a full integrity check would read the whole
    file, seconds on a big shop). Damage deeper in the file shows when SQLite reads it, and
    ``corrupt`` turns that into the same kind of paragraph."""
    folder = path.parent
    if not path.exists():
        if folder.exists() and not os.access(folder, os.W_OK | os.X_OK):
            raise BadDatabase(f"the data folder {folder} cannot be written by this user, so fenliu cannot "
                              "create its database there. Make it writable, or start the server with --data "
                              "pointing at a folder you can write.")
        return
    if not path.is_file():
        raise BadDatabase(f"{path} is not a file. Move it away, or start the server with --data pointing at "
                          "another folder.")
    try:
        with path.open("rb") as file:
            header = file.read(100)
    except OSError as exc:
        raise BadDatabase(f"{path} cannot be read ({exc.strerror}). Give this user read and write access to "
                          "it and its folder, or start the server with --data pointing at another folder.") from None
    size = path.stat().st_size
    if size == 0:
        raise BadDatabase(f"{path} is empty (0 bytes): the database was cut off or never written. "
                          + _restore_advice(path, recover=False) + " To start a new shop in this folder, delete the empty file.")
    if not header.startswith(SQLITE_MAGIC):
        raise BadDatabase(f"{path} is not a fenliu database: it is not an SQLite file at all (another file was "
                          "put in its place, or its beginning was overwritten). Nothing was changed. "
                          + _restore_advice(path, recover=False))
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    counted = header[24:28] == header[92:96]  # the page count is valid only then (file format docs)
    # A checkpoint writes page 1 (with the new count) before the pages past the file's end: killed
    # in between, the file is shorter than its count while the WAL beside it still holds them all.
    counted = counted and not _wal_has_frames(path.with_name(path.name + "-wal"), page_size)
    if len(header) < 100 or page_size < 512 or size % page_size or (counted and size < pages * page_size):
        expected = f"; its header says {pages * page_size:,}" if counted else ""
        raise BadDatabase(f"{path} is cut short ({size:,} bytes{expected}): part of the database is missing, "
                          "so fenliu cannot use it and has not changed it. " + _restore_advice(path))
    for needed in (path, folder, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if needed.exists() and not os.access(needed, os.W_OK):
            raise BadDatabase(f"{needed} is read-only for this user, and the server must write to its database "
                              f"(and create {path.name}-wal and {path.name}-shm beside it). Make the file and its "
                              f"folder writable (see `ls -l {folder}`), or copy the file to a writable folder and "
                              "start the server with --data pointing there. Nothing was changed.")


def _wal_has_frames(wal: Path, page_size: int) -> bool:
    """Whether ``wal`` is a write-ahead log of pages of ``page_size`` holding at least one frame
    (its 32-byte header: magic, version, page size; https://sqlite.org/fileformat.html#the_write_ahead_log)."""
    try:
        with wal.open("rb") as file:
            head = file.read(32)
        size = wal.stat().st_size
    except OSError:
        return False
    return (len(head) == 32 and head[:4] in (b"\x37\x7f\x06\x82", b"\x37\x7f\x06\x83")
            and int.from_bytes(head[8:12], "big") == page_size and size >= 32 + 24 + page_size)


def corrupt(path: Path, error: sqlite3.Error) -> BadDatabase:
    """The paragraph for damage SQLite found while reading (``database disk image is malformed``)."""
    return BadDatabase(f"{path} is damaged: SQLite reports \"{error}\" while reading it. fenliu stopped before "
                       "changing anything. " + _restore_advice(path))


class FolderInUse(StoreError):
    """Another running server holds the data folder (its lock file is locked)."""

    def __init__(self, folder: Path, pid: int | None) -> None:
        self.folder, self.pid = folder, pid
        who = f"PID {pid}" if pid else "a process whose PID could not be read"
        super().__init__(
            f"the data folder {folder} is in use by another fenliu server ({who}). Two servers on one "
            "folder would both accept writes and break each other's routing. Stop that server first "
            "(or wait for it to finish stopping), or start this one with --data pointing at another folder."
        )


class FolderLock:
    """The data folder's lock: held by the server that opened it, for as long as it runs.

    ``fcntl.flock`` on ``DATA/server.lock`` (exclusive, non-blocking), with the holder's PID
    written in the file so a second server can name it. The operating system releases the lock
    when the process ends however it ends (kill -9 included), so a stale file never blocks a
    start. Where ``fcntl`` is missing (Windows) the folder is not locked.
    """

    NAME = "server.lock"

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / self.NAME
        self._fd: int | None = None

    def acquire(self) -> None:
        try:
            import fcntl
        except ImportError:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            pid = _read_pid(fd)
            os.close(fd)
            raise FolderInUse(self.folder, pid) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # the file stays: unlinking it would race with the next server
            self._fd = None

    @classmethod
    def holder(cls, folder: Path) -> int | None:
        """The PID of the server holding ``folder`` (0 if unreadable), or None when none does."""
        try:
            import fcntl
        except ImportError:
            return None
        try:
            fd = os.open(folder / cls.NAME, os.O_RDONLY)
        except OSError:
            return None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except OSError:
                return _read_pid(fd) or 0
            fcntl.flock(fd, fcntl.LOCK_UN)
            return None
        finally:
            os.close(fd)


def _read_pid(fd: int) -> int | None:
    try:
        return int(os.pread(fd, 32, 0).decode().strip())
    except (OSError, ValueError):
        return None


class StoreFailed(StoreError):
    """A write, commit or fsync failed: the database is behind what this process holds in memory.

    Raised by every write after the failure, and given to the ``committed()`` waiters of the
    batches that did not become durable. The server stops (fail-stop, ARCHITECTURE.md
    "Persistence"): its engine, rows and sequence counters may hold changes SQLite rolled back, and
    only a restart from the database is known to be right.
    """


# SQLite result codes (the low byte of an extended code) that mean the file cannot take writes.
_FATAL_CODES = frozenset({
    getattr(sqlite3, "SQLITE_IOERR", 10), getattr(sqlite3, "SQLITE_FULL", 13),
    getattr(sqlite3, "SQLITE_CORRUPT", 11), getattr(sqlite3, "SQLITE_CANTOPEN", 14),
    getattr(sqlite3, "SQLITE_READONLY", 8), getattr(sqlite3, "SQLITE_NOTADB", 26),
})


def is_fatal(exc: sqlite3.Error) -> bool:
    """A full disk, an I/O error, a damaged or read-only file: not a constraint or a busy lock."""
    return _is_fatal(exc)


def _is_fatal(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    return code is not None and (code & 0xFF) in _FATAL_CODES


class SyncThread:
    """A thread that makes commits durable off the loop and reports, by generation, what is.

    ``request(gen)`` says "commits up to ``gen`` have returned"; the thread reads the highest
    request, runs ``_sync()`` once (so requests made while one runs coalesce into the next: group
    commit) and calls ``done(gen)`` on the loop, or ``failed(exc)`` for an error of ``errors``
    and ends. A subclass sets its own fields before calling ``__init__``, which starts the thread.
    """

    errors: tuple[type[BaseException], ...] = (OSError,)

    def __init__(self, loop: asyncio.AbstractEventLoop, done: Callable[[int], None],
                 failed: Callable[[Any], None], name: str) -> None:
        self.loop = loop
        self._done = done
        self._failed = failed
        self._wanted = 0
        self._synced = 0
        self._stopping = False
        self._cv = threading.Condition()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def request(self, gen: int) -> None:
        with self._cv:
            if gen > self._wanted:
                self._wanted = gen
                self._cv.notify()

    def stop(self) -> None:
        """Finish the sync in flight and the ones requested, then end the thread."""
        with self._cv:
            self._stopping = True
            self._cv.notify()
        self._thread.join()
        self._close()

    def _sync(self) -> None:
        raise NotImplementedError

    def _close(self) -> None:
        """What the thread held (after it ended)."""

    def _run(self) -> None:
        while True:
            with self._cv:
                while self._wanted <= self._synced and not self._stopping:
                    self._cv.wait()
                if self._wanted <= self._synced:
                    return  # stopping, nothing left
                target = self._wanted
            try:
                self._sync()
            except self.errors as exc:
                self._call(self._failed, exc)
                return
            self._synced = target
            self._call(self._done, target)
            try:
                self._after_sync()
            except self.errors as exc:
                self._call(self._failed, exc)
                return

    def _after_sync(self) -> None:
        """Work done after a sync has been reported (the loop may commit meanwhile)."""

    def _call(self, callback: Callable[[Any], None], arg: Any) -> None:
        try:
            self.loop.call_soon_threadsafe(callback, arg)
        except RuntimeError:  # the loop is closed: nobody is waiting any more
            pass


# The wal-index header at the start of the ``-shm`` file (https://sqlite.org/walformat.html,
# "The WAL-Index Header"), in the host's byte order: two copies of a 48-byte header (equal unless
# a writer is between them), then the checkpoint information.
_SHM_HEADER = 48
_SHM_READ = 136  # both copies and the checkpoint information
_WAL_INDEX_VERSION = 3007000
_U32 = struct.Struct("=I")
_AUTOCHECKPOINT = 1000  # SQLite's default: pages in the WAL before a COMMIT checkpoints it


@dataclass(frozen=True)
class WalState:
    """What the wal-index says of the WAL: ``frames`` written (``mxFrame``), ``backfilled``
    (``nBackfill``: copied into the database by a checkpoint)."""

    frames: int
    backfilled: int

    @property
    def reset_pending(self) -> bool:
        """A checkpoint copied every frame: the writer's next transaction restarts the WAL."""
        return self.backfilled > 0 and self.backfilled == self.frames

    @property
    def to_copy(self) -> int:
        return max(0, self.frames - self.backfilled)


def read_wal_state(backfilled_before: int, shm: bytes) -> WalState | None:
    """The state in the first bytes of a ``-shm`` file, or ``None`` if it cannot be trusted now.

    Read as SQLite's own readers do: the two header copies must be equal (a writer updates the
    second, then the first). ``nBackfill`` (offset 96) is read before the header
    (``backfilled_before``) and after it (in ``shm``): a WAL restart writes the header
    (``mxFrame`` 0), then sets ``nBackfill`` to 0, so a restart under way shows as two different
    values and the state is not trusted."""
    if len(shm) < _SHM_READ:
        return None
    first, second = shm[:_SHM_HEADER], shm[_SHM_HEADER:2 * _SHM_HEADER]
    backfilled_after = _U32.unpack_from(shm, 2 * _SHM_HEADER)[0]
    if first != second or backfilled_before != backfilled_after:
        return None
    if _U32.unpack_from(first, 0)[0] != _WAL_INDEX_VERSION or not first[12]:  # iVersion, isInit
        return None
    return WalState(frames=_U32.unpack_from(first, 16)[0], backfilled=backfilled_after)


def may_checkpoint(state: WalState | None) -> bool:
    """Whether the sync thread may start a checkpoint now (see ``_WalSyncer``).

    Never while a WAL restart is pending or under way: a checkpoint that starts while the writer
    restarts the WAL just after a complete checkpoint is SQLite's "WAL-reset bug" (3.7.0 to 3.51.2,
    https://sqlite.org/wal.html#walresetbug). The serving connection, the only writer, is also the
    only other checkpointer (``Store._finish_checkpoint``, under the same lock), so a restart only
    ever follows a complete checkpoint; from then until the writer has restarted the WAL and
    committed frames after it, the thread starts none."""
    return state is not None and not state.reset_pending and state.to_copy > 0


class ShmFile:
    """One descriptor on a database's ``-shm`` file, open until the database's connections are
    closed, for reading the wal-index header.

    SQLite's locks on that file are POSIX record locks, which belong to the process: closing any
    descriptor of the file drops all of them. Opening and closing it for each read (as the sync
    thread did) let another process's connection (a reader, ``fenliu accounts``, a backup) find it
    unlocked and set it up afresh, truncating it while this process had it mapped: the server died
    of SIGBUS (seen in the kill -9 fault test, whose harness reads the database), and without the
    locks the two could also disagree on the WAL."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def read(self, size: int, offset: int) -> bytes:
        """Raises OSError (no file yet) or AttributeError (no ``pread``: Windows)."""
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        return os.pread(self._fd, size, offset)

    def close(self) -> None:
        """Only once no connection of this process has the database open."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class _WalSyncer(SyncThread):
    """fsyncs the ``-wal`` file, and copies the WAL into the database, both off the loop.

    fsync: an fsync covers every byte written to the file before it starts, by any descriptor, so
    commit ``gen`` is durable once an fsync begun after it returns. The file is opened read-write
    (never written here): Windows flushes only handles opened for writing. The descriptor is
    re-opened when the file's inode changes (the WAL is deleted when the last connection closes
    and created again by the next writer); the folder is fsynced once per new file so its
    directory entry survives a power cut too.

    Checkpoints: SQLite's automatic checkpoint copies 1,000 pages inside a ``COMMIT`` on the loop,
    25-55 ms at a peak (issue 9). The serving connection runs ``wal_autocheckpoint=0`` instead, and
    after reporting a sync this thread copies what waits (``COPY_FRAMES`` frames, or any after
    ``COPY_AFTER`` seconds) on a connection of its own, with ``PRAGMA wal_checkpoint(PASSIVE)``:
    it waits for nobody and the loop goes on committing. Such a checkpoint rarely completes, and
    SQLite restarts the WAL only in a write transaction that began after a complete one, so once
    the WAL holds ``RESTART_FRAMES`` the thread sets ``restart_due`` and the loop finishes the job
    right after a ``COMMIT`` (``Store._finish_checkpoint``): a few frames left to copy instead of a
    thousand. Both run ``synchronous=NORMAL``: a checkpoint fsyncs the WAL before copying and the
    database before it marks frames as copied, so frames a restart overwrites are already in a
    synced database. The two never run at once (``lock``); when the thread may start one is
    ``may_checkpoint``. Where the wal-index cannot be read (no ``-shm`` file, no ``pread``), the
    thread does not checkpoint and the serving connection keeps SQLite's automatic checkpoint
    (``checkpoints`` is False). A writer in another process (``fenliu accounts`` beside a
    running server) still checkpoints by itself, as any second SQLite connection does.
    """

    # At a peak (10 WAL frames per answered message, 10,000 a second at 1,000/s) bigger batches
    # copy a page changed by several commits once, and the loop completes a checkpoint 4x less
    # often: against 256/1,000, shop_cpu 0.88x (the loop 0.90x, this thread 0.80x; 5 rounds), 5.1
    # against 6.3 pages copied per answered message. 8,192/2,048 was worse on the loop (a longer
    # WAL to look pages up in). The WAL file grows to about 16 MB.
    COPY_FRAMES = 1024  # frames waiting before the thread copies them
    COPY_AFTER = 1.0  # seconds before it copies anyway, if any frame waits
    RESTART_FRAMES = 4000  # WAL frames (16 MB) before the loop completes a checkpoint
    errors = (OSError, sqlite3.Error)

    def __init__(self, wal: Path, loop: asyncio.AbstractEventLoop,
                 done: Callable[[int], None], failed: Callable[[BaseException], None], shm: ShmFile) -> None:
        self.wal = wal
        self.shm = shm  # the store's: closed after its connection, never by this thread (see ShmFile)
        self.database = wal.with_name(wal.name.removesuffix("-wal"))
        self._fd: int | None = None
        self._db: sqlite3.Connection | None = None
        self._last_checkpoint = time.monotonic()
        self.lock = threading.Lock()  # held by whoever checkpoints
        self.restart_due = False  # set here, read and cleared by the loop
        self.checkpoints = any(self._wal_state() is not None for _ in range(3))
        self.copied = 0  # frames this thread has copied (tests, benchmarks)
        super().__init__(loop, done, failed, "fenliu-wal-sync")

    @staticmethod
    def sync_file(wal: Path) -> None:
        """fsync ``wal`` in the calling thread (no loop: command-line tools, start, close)."""
        try:
            fd = os.open(wal, os.O_RDWR | getattr(os, "O_BINARY", 0))
        except FileNotFoundError:
            return
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def _close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self._db is not None:
            self._db.close()
            self._db = None

    def _sync(self) -> None:
        fd = self._fd
        try:
            current = os.stat(self.wal).st_ino
        except FileNotFoundError:
            return  # no WAL: every commit is in the database file, synced by its checkpoint
        if fd is not None and os.fstat(fd).st_ino != current:
            os.close(fd)
            fd = self._fd = None
        if fd is None:
            fd = self._fd = os.open(self.wal, os.O_RDWR | getattr(os, "O_BINARY", 0))
            fsync_dir(self.wal.parent)
        os.fsync(fd)

    def _wal_state(self) -> WalState | None:
        try:
            before = self.shm.read(4, 2 * _SHM_HEADER)  # nBackfill, then the header and nBackfill again
            head = self.shm.read(_SHM_READ, 0)
        except (OSError, AttributeError):  # no -shm file yet; AttributeError: no pread (Windows)
            return None
        if len(before) < 4:
            return None
        return read_wal_state(_U32.unpack(before)[0], head)

    def _after_sync(self) -> None:
        if self.checkpoints:
            with self.lock:
                self._copy()

    def _copy(self) -> None:
        state = self._wal_state()
        if not may_checkpoint(state):
            return
        assert state is not None
        if state.to_copy < self.COPY_FRAMES and time.monotonic() - self._last_checkpoint < self.COPY_AFTER:
            return
        try:
            if self._db is None:
                self._db = sqlite3.connect(self.database, isolation_level=None, check_same_thread=False)
                self._db.execute("PRAGMA synchronous=NORMAL")
            busy, _, copied = self._db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        except sqlite3.Error as exc:
            if _is_fatal(exc):
                raise
            log.warning("WAL checkpoint skipped: %s", exc)  # a lock held elsewhere: the next sync tries again
            return
        finally:
            self._last_checkpoint = time.monotonic()
        if not busy and copied > state.backfilled:
            self.copied += copied - state.backfilled
        if state.frames >= self.RESTART_FRAMES:
            self.restart_due = True


def fsync_dir(folder: Path) -> None:
    """Make a folder's entries (a created or renamed file) durable; a no-op where folders cannot
    be opened (Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # Windows: folders cannot be opened; their entries are durable anyway
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class Store:
    """The one SQLite connection of the server, with per-loop-turn batched commits.

    ``PgStore`` (console/server/pgstore.py) is the same store on PostgreSQL: it keeps this
    batching and its guarantees and replaces the connection-level hooks (``errors``, ``_fatal``,
    ``_new_syncer``, ``_fsync_wal``)."""

    dialect = "sqlite"
    errors: tuple[type[BaseException], ...] = (sqlite3.Error,)  # what the connection raises
    # Seconds at least between two COMMITs under load (group commit over a window): a batch
    # opened right after a commit waits this long for more requests, so at a peak one COMMIT
    # writes each changed page once for a dozen requests; a batch after a quiet moment commits
    # in the same loop turn.
    COMMIT_WINDOW = 0.005
    _committed_at = 0.0  # time.monotonic() of the last COMMIT
    # Seconds at least between two indexings of new messages for search (``_index_new_messages``
    # at a COMMIT): FTS5 writes a segment per indexing and merges them, which at one indexing per
    # commit was a fifth of a message's CPU (issue 9). A search scans the few messages not indexed
    # yet itself (console/server/search.py), so it still finds every committed message.
    INDEX_EVERY = 0.25
    _indexed_at = 0.0  # time.monotonic() of the last indexing at a COMMIT
    _shm: ShmFile | None = None  # SQLite's -shm file (ShmFile); None for a store with no such file (PostgreSQL)

    def __init__(self, path: Path, *, synchronous: str = "FULL") -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        check_file(path)
        # "FULL" is a promise (an acknowledged write survives a power cut), kept by fsyncing the
        # WAL ourselves off the loop; SQLite itself runs NORMAL (no fsync in COMMIT). Other
        # values ("NORMAL", "OFF": benchmarks, throwaway folders) go to SQLite as they are.
        self.durable = synchronous.upper() == "FULL"
        # isolation_level=None: we issue BEGIN/COMMIT ourselves, so a batch is exactly one
        # transaction whatever the statements are.
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        try:
            self.db.row_factory = sqlite3.Row
            self.db.execute("PRAGMA busy_timeout=5000")
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute(f"PRAGMA synchronous={'NORMAL' if self.durable else synchronous}")
            self.db.execute("PRAGMA foreign_keys=ON")
            fold.register(self.db)  # a search's scans on the loop fold case as the index does
        except sqlite3.DatabaseError as exc:
            self.db.close()
            raise corrupt(path, exc) if _is_fatal(exc) else exc from None
        self._start_batching()
        self._shm = ShmFile(path.with_name(path.name + "-shm"))  # closed after self.db (ShmFile)
        try:
            self._migrate()
        except sqlite3.DatabaseError as exc:
            self.db.close()
            if not _is_fatal(exc):
                raise
            raise corrupt(path, exc) from None
        except BaseException:
            self.db.close()
            raise

    def _start_batching(self) -> None:
        """The batch and sync state every store starts with (``PgStore`` too)."""
        self._in_tx = False
        self._flush_scheduled = False
        self._gen = 0  # batches committed
        self._synced = 0  # batches known durable (fsynced, or not asked to be)
        # what waits for a batch, in order: (batch, after-commit action or committed() waiter,
        # the action's failure callback)
        self._queue: deque[tuple[int, Callable[[], None] | asyncio.Future[None],
                                 Callable[[BaseException], None] | None]] = deque()
        self._syncer: _WalSyncer | None = None
        self._commit_after_sync = False  # a batch waits for the fsync in flight (flush)
        self._appends: list[tuple[str, Sequence[Any]]] = []  # rows written at the commit (append)
        self._marks: list[int] = []  # len(_appends) at each open savepoint
        self.failure: BaseException | None = None
        self._on_failure: list[Callable[[BaseException], None]] = []

    @classmethod
    def open(cls, data_dir: Path | None = None, **kwargs: Any) -> Store:
        directory = data_dir if data_dir is not None else default_data_dir()
        return cls(directory / DB_NAME, **kwargs)

    @property
    def wal_path(self) -> Path:
        return self.path.with_name(self.path.name + "-wal")

    # -- schema ---------------------------------------------------------------------------

    def _migrate(self) -> None:
        """Bring the database to ``SCHEMA_VERSION`` in one transaction: which upgrade steps run and
        in what order is decided here, their SQL is ``repository/migrations.py``'s."""
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            version = migrations.schema_version(db)
            if version is not None and version > SCHEMA_VERSION:
                raise StoreError(
                    f"{self.path}: database schema version {version} is newer than this fenliu ({SCHEMA_VERSION})"
                )
            if version == 1:  # 1 -> 2: agent_events becomes a rowid table
                migrations.agent_events_aside(db)
            # 2 -> 3: messages lose UNIQUE (conversation, client_id) for a per-author unique index
            old_messages = version is not None and version < 3 and migrations.has_table(db, "messages")
            if old_messages:
                migrations.messages_aside(db)
            if version is not None and not old_messages:
                migrations.add_message_kinds(db)  # 5 -> 6, before the schema's statements may refer to the columns
            migrations.create_schema(db)
            migrations.drop_messages_conversation(db)  # its reads use messages_client (issue 9)
            migrations.event_marks(db)  # 6 -> 7: the agents' event log indexed by a mark (issue 9)
            if version == 1:
                migrations.agent_events_back(db)
            if old_messages:
                migrations.messages_back(db)
            migrations.index_messages(db)  # last: after any migration that rebuilt the messages table
            migrations.wait_answered(db)  # so is the trigger on it
            if version is not None and version < 6:
                migrations.audit_statuses(db)  # 5 -> 6: the status history the engine log still holds
            if version is None or version < SCHEMA_VERSION:
                migrations.set_schema_version(db, SCHEMA_VERSION, first=version is None)
            db.execute("COMMIT")
        except BaseException:
            try:
                db.execute("ROLLBACK")
            except sqlite3.Error:
                pass  # BEGIN itself failed: nothing to roll back
            raise
        if self.durable:
            self._fsync_wal()

    def _index_new_messages(self) -> int:
        """Index every message after the highest indexed one (the number indexed)."""
        return migrations.index_new_messages(self.db)

    # -- writes -----------------------------------------------------------------------------

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        """Run a write inside the current batch (opened on demand, committed next loop turn)."""
        self._begin()
        try:
            return self.db.execute(sql, params)
        except self.errors as exc:
            self._check(exc)
            raise

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> sqlite3.Cursor:
        self._begin()
        try:
            return self.db.executemany(sql, rows)
        except self.errors as exc:
            self._check(exc)
            raise

    def append(self, sql: str, row: Sequence[Any]) -> None:
        """Add one INSERT to the batch, written at its commit by one ``executemany`` per statement.

        For append-only rows that nothing reads back before they are committed (each agent's event
        log: ``Hub.attach`` reads only committed numbers): a statement per batch instead of one
        per row (issue 9). A savepoint's rollback takes its appends back; a failure drops them."""
        self._begin()
        self._appends.append((sql, row))

    def savepoint(self, name: str) -> None:
        """Open a savepoint in the batch (a request's writes, ``Shop.atomic``)."""
        self.execute(f"SAVEPOINT {name}")
        self._marks.append(len(self._appends))

    def release(self, name: str) -> None:
        """Keep what was written since the savepoint, as part of the batch."""
        self.execute(f"RELEASE {name}")
        if self._marks:
            self._marks.pop()

    def rollback_to(self, name: str) -> None:
        """Undo what was written since the savepoint (its appends too) and close it. What the
        batch's earlier requests appended is written now, where a rebuild from the database (the
        engine's ``reload``) reads it."""
        del self._appends[self._marks.pop() if self._marks else 0:]
        self.execute(f"ROLLBACK TO {name}")
        self.execute(f"RELEASE {name}")
        try:
            self._write_appends()
        except self.errors as exc:
            self._check(exc)
            raise

    def _write_appends(self) -> None:
        appends, self._appends = self._appends, []
        self._marks.clear()
        groups: dict[str, list[Sequence[Any]]] = {}
        for sql, row in appends:
            groups.setdefault(sql, []).append(row)
        for sql, rows in groups.items():
            self.db.executemany(sql, rows)

    def _check(self, exc: BaseException) -> None:
        """A full disk or an I/O error mid-batch: the batch cannot commit (constraint errors can)."""
        if self._fatal(exc):
            self._fail(exc)
            raise StoreFailed(f"{self.path}: {exc}") from exc

    def _fatal(self, exc: BaseException) -> bool:
        return isinstance(exc, sqlite3.Error) and _is_fatal(exc)

    def _begin(self) -> None:
        if self.failure is not None:
            raise StoreFailed(f"{self.path}: writes stopped after a failed commit ({self.failure})")
        if not self._in_tx:
            self.db.execute("BEGIN")
            self._in_tx = True
        self._schedule()

    def _schedule(self) -> None:
        if self._flush_scheduled:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop (command-line tools): the caller flushes
        self._flush_scheduled = True
        wait = self._committed_at + self.COMMIT_WINDOW - time.monotonic()
        if wait > 0:  # committed a moment ago: this batch gathers what comes in the window
            loop.call_later(wait, self.flush)
        else:
            loop.call_soon(self.flush)

    def _needed(self) -> int:
        """The batch that holds the writes made so far."""
        return self._gen + 1 if self._in_tx else self._gen

    def after_commit(self, action: Callable[[], None],
                     failed: Callable[[BaseException], None] | None = None) -> None:
        """Run ``action`` once the writes made so far are committed and synced (at once if they are).

        Actions run in the order they were registered. After a failure they never run: ``failed``
        is called with the error instead (at once if the store has already failed), so an
        endpoint that answers through an action can still answer (issue 9)."""
        if self.failure is not None:
            if failed is not None:
                failed(self.failure)
            return
        needed = self._needed()
        if needed <= self._synced:  # then the queue is empty: ``needed`` never decreases
            action()
            return
        self._queue.append((needed, action, failed))
        if self._in_tx:
            self._schedule()

    async def committed(self) -> None:
        """Wait until the writes made so far are committed and synced; raises if they cannot be."""
        if self.failure is not None:
            raise StoreFailed(f"{self.path}: writes stopped after a failed commit ({self.failure})")
        needed = self._needed()
        if needed <= self._synced:
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append((needed, future, None))
        if self._in_tx:
            self._schedule()
        await future

    def on_failure(self, callback: Callable[[BaseException], None]) -> None:
        """Call ``callback(error)`` once if a write, commit or fsync fails (the server stops)."""
        self._on_failure.append(callback)

    def flush(self, *, now: bool = False) -> None:
        """Commit the batch; its after-commit actions and waiters follow once it is durable.

        While an fsync is in flight the batch stays open and commits when it returns (group
        commit: the writes would wait for that fsync anyway, and one COMMIT instead of several
        writes each changed page to the WAL once). ``now``: commit whatever is in flight."""
        self._flush_scheduled = False
        if self.failure is not None:
            return
        if self._in_tx and not now and self._syncer is not None and self._synced < self._gen:
            self._commit_after_sync = True
            return
        self._commit_after_sync = False
        if self._in_tx:
            try:
                self._write_appends()
                if time.monotonic() - self._indexed_at >= self.INDEX_EVERY:
                    self._indexed_at = time.monotonic()
                    self._index_new_messages()  # the messages since the last indexing, in one statement
                self.db.execute("COMMIT")
            except self.errors as exc:
                self._fail(exc)
                return
            self._in_tx = False
            self._gen += 1
            self._committed_at = time.monotonic()
            self._finish_checkpoint()
        if self._synced >= self._gen:
            return
        if not self.durable:
            self._release(self._gen)
            return
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is None:  # command-line tools: sync here
            try:
                self._fsync_wal()
            except OSError as exc:
                self._fail(exc)
                return
            self._release(self._gen)
            return
        if self._syncer is None or self._syncer.loop is not loop:
            if self._syncer is not None:
                self._syncer.stop()
            self._syncer = self._new_syncer(loop)
        self._syncer.request(self._gen)

    def _finish_checkpoint(self) -> None:
        """Right after a COMMIT, when the sync thread says the WAL is long: copy what is left
        (little: the thread copied the rest) so the checkpoint completes and the next write
        transaction restarts the WAL (``_WalSyncer``). Skipped, to be tried after a later COMMIT,
        while the thread is copying."""
        syncer = self._syncer
        if syncer is None or not syncer.restart_due or not syncer.lock.acquire(blocking=False):
            return
        try:
            syncer.restart_due = False
            self.db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        except sqlite3.Error as exc:
            if _is_fatal(exc):
                self._fail(exc)
            else:
                log.warning("WAL checkpoint skipped: %s", exc)
        finally:
            syncer.lock.release()

    def _new_syncer(self, loop: asyncio.AbstractEventLoop) -> _WalSyncer:
        assert self._shm is not None
        syncer = _WalSyncer(self.wal_path, loop, self._release, self._fail, self._shm)
        # The thread checkpoints (issue 9): COMMIT on the loop no longer does, unless it cannot.
        self.db.execute(f"PRAGMA wal_autocheckpoint={0 if syncer.checkpoints else _AUTOCHECKPOINT}")
        return syncer

    def _fsync_wal(self) -> None:
        _WalSyncer.sync_file(self.wal_path)

    def _release(self, gen: int) -> None:
        """Batches up to ``gen`` are durable: run their actions and wake their waiters, in order."""
        if self.failure is not None:
            return
        self._synced = max(self._synced, gen)
        queue = self._queue
        while queue and queue[0][0] <= self._synced:
            _, entry, _failed = queue.popleft()
            if isinstance(entry, asyncio.Future):
                if not entry.done():
                    entry.set_result(None)
                continue
            try:
                entry()
            except Exception:
                log.exception("after-commit action failed")
        if self._commit_after_sync and self._synced >= self._gen:
            self.flush()  # the batch held back while the fsync ran

    def _fail(self, error: BaseException) -> None:
        """Stop writing for good: roll back, drop what was not durable, tell the owner."""
        if self.failure is not None:
            return
        self.failure = error
        log.critical("the database %s cannot be written (%s): nothing more is acknowledged", self.path, error)
        self._appends, self._marks = [], []
        if self._in_tx:
            try:
                self.db.execute("ROLLBACK")
            except self.errors:
                pass
            self._in_tx = False
        queue, self._queue = self._queue, deque()
        for _, entry, failed in queue:
            if isinstance(entry, asyncio.Future):
                if not entry.done():
                    entry.set_exception(StoreFailed(f"{self.path}: {error}"))
            elif failed is not None:
                try:
                    failed(error)
                except Exception:
                    log.exception("after-commit failure callback failed")
        for callback in self._on_failure:
            try:
                callback(error)
            except Exception:
                log.exception("failure callback failed")

    # -- reads ------------------------------------------------------------------------------

    def one(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self.db.execute(sql, params).fetchone()
        return row

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        return list(self.db.execute(sql, params).fetchall())

    def tuples(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Like ``all`` with plain tuples: for reads of many rows (a third cheaper than Row)."""
        cursor = self.db.cursor()
        cursor.row_factory = None
        return cursor.execute(sql, params).fetchall()

    def data_version(self) -> int:
        """SQLite's change counter as this connection sees it: another connection's commit moves it."""
        return int(self.db.execute("PRAGMA data_version").fetchone()[0])

    # -- meta -------------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        return meta.get(self, key)

    def set_meta(self, key: str, value: str) -> None:
        meta.put(self, key, value)

    def abandon(self) -> None:
        """Roll back what is pending and close, committing nothing (a start that found damage)."""
        try:
            self._appends, self._marks = [], []
            if self._in_tx:
                try:
                    self.db.execute("ROLLBACK")
                except self.errors:
                    pass
                self._in_tx = False
            if self._syncer is not None:
                self._syncer.stop()
        finally:
            self._syncer = None
            self.db.close()
            if self._shm is not None:
                self._shm.close()

    def close(self) -> None:
        """Commit what is pending, sync it, run what waited for it, close the file.

        A clean shutdown loses nothing; after a failure it only closes."""
        try:
            self.flush(now=True)
            if self._syncer is not None:
                self._syncer.stop()
            if self.failure is None and self._synced < self._gen:
                try:
                    self._fsync_wal()
                except OSError as exc:
                    self._fail(exc)
                else:
                    self._release(self._gen)
        finally:
            self._syncer = None
            self.db.close()
            if self._shm is not None:
                self._shm.close()
