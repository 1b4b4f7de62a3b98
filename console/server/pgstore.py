"""The server's store on PostgreSQL (issue 15, CONSOLE.md §8): ``--store postgresql://…``.

One shop is one schema, ``shop_<name>`` (the connection's ``search_path`` points there), holding
the same tables as the SQLite file, made from the same statements (``repository/schema.py``): the SQL
of the repositories is written once, in SQLite's dialect, and ``translate`` rewrites the few
places where PostgreSQL differs (placeholders, ``INSERT OR IGNORE``, ``IFNULL``, ``rowid``,
``json_each``, column types; ``lastrowid`` comes from an added ``RETURNING``). Search uses a
``pg_trgm`` GIN index on message text where SQLite has its FTS5 trigram table (search.py).

Guarantees, the same as the SQLite store's (store.py), and how:

- Batching is ``Store``'s own: the first write of a loop turn opens a transaction, the next turn
  commits it, ``after_commit`` actions and ``committed()`` waiters run once it is durable.
- Round trips: a request's statements go in psycopg's pipeline and are answered together at its
  ``RELEASE`` (``Connection``); the owner gives inserted rows their keys itself, from blocks of
  the tables' sequences (``Connection.reserve_ids``), so a ``lastrowid`` waits for nothing.
- Acknowledged means committed and flushed. The loop's connection commits with
  ``synchronous_commit = off``: ``COMMIT`` returns once the commit record is in PostgreSQL's WAL
  buffers, without waiting for the WAL flush (which would stall the loop for the disk's fsync).
  A thread of ours (``_FlushThread``) then runs, on its own connection, a transaction that takes a
  transaction id (``SELECT pg_current_xact_id()``) with ``synchronous_commit = on``: its commit
  record comes after ours, and PostgreSQL returns only once the WAL is flushed (and replicated to
  a synchronous standby, if one is configured) up to it, so ours is durable too. That is the
  ``-wal`` fsync of the SQLite store, with the same group commit: one flush covers every batch
  committed before it began. Nothing is acknowledged before the flush returns; a crash of
  PostgreSQL before it loses only unacknowledged batches (asynchronous commit never breaks
  consistency, only durability of the last commits, which we never promised).
- A statement that fails outside a savepoint aborts a PostgreSQL transaction (SQLite would only
  undo the statement): the batch then cannot commit, so the store fails (fail-stop). Requests
  run inside ``SAVEPOINT request`` (``Shop.atomic``), whose ``ROLLBACK TO`` repairs the batch.
- Ownership: the loop's connection holds the session-level advisory lock of the shop
  (``shop_lock_key``) for as long as the store is open; a second process opening the same shop
  is refused (``ShopOwned``) or, as a standby, waits. The lock lives and dies with that one
  connection, and every write goes through it: when the connection is lost (network, a
  ``pg_terminate_backend``, PostgreSQL restarted) the lock is gone, and so is every write not
  committed, so the store fails at once (the server stops routing, app.py) and nothing of its is
  acknowledged afterwards. A loss noticed while idle counts the same: the socket is watched on the
  loop, and probed every ``PROBE_EVERY`` seconds (a half-open TCP connection says nothing).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import re
import secrets
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import psycopg
from psycopg import pq
from psycopg.adapt import Dumper, Loader

from console.protocol.codec import ProtocolError
from console.protocol.messages import ErrorCode
from console.server.repository import pg
from console.server.repository.schema import SCHEMA as _SCHEMA
from console.server.repository.schema import SCHEMA_VERSION
from console.server.store import (
    Store,
    StoreError,
    StoreFailed,
    SyncThread,
    default_data_dir,
)

log = logging.getLogger(__name__)

PROBE_EVERY = 1.0  # seconds between looks at an idle connection (the lock lives on it)
SHOP_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")
LOCK_PREFIX = "fenliu-shop:"
EXTENSION_LOCK = 0x66656E6C69750000  # "fenliu\0\0": one process at a time creates extensions

def is_url(store: str | None) -> bool:
    """Whether ``--store`` names a PostgreSQL database (else the SQLite data folder is used)."""
    return store is not None and store.startswith(("postgresql://", "postgres://"))


def schema_of(shop: str) -> str:
    if not SHOP_NAME.fullmatch(shop):
        raise StoreError(f"shop name {shop!r} cannot be used: 1 to 40 characters, lower-case letters, digits and _, "
                         "beginning with a letter")
    return f"shop_{shop}"


def shop_lock_key(shop: str) -> int:
    """The advisory lock key of a shop: the first 8 bytes of SHA-256("fenliu-shop:" + name), as a
    signed 64-bit integer (``pg_advisory_lock(bigint)``). Stable across versions and machines
    (PostgreSQL's ``hashtext`` is not promised to be); another application's keys would have to
    collide with a 64-bit hash."""
    digest = hashlib.sha256((LOCK_PREFIX + shop).encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class ShopOwned(StoreError):
    """Another process holds the shop's lock: it routes for the shop, this one must not."""

    def __init__(self, shop: str, holder: str | None) -> None:
        self.shop, self.holder = shop, holder
        who = f" (PostgreSQL backend of {holder})" if holder else ""
        self.holder_text = f"the shop {shop!r} is served by another fenliu server{who}"
        super().__init__(
            f"the shop {shop!r} is served by another fenliu server{who}: each shop is routed by one process "
            "at a time. Stop that server first, or start this one with --standby to take the shop over when "
            "that one stops.")


# -- the dialect -----------------------------------------------------------------------------------

_SERIAL_TABLES = {
    "messages": "id", "order_events": "id", "ratings": "id", "decisions": "id", "engine_log": "seq",
    "agent_events": "id", "receptions": "id", "waits": "id", "buyer_notes": "id", "phrases": "id",
}
_INSERT = re.compile(r"^\s*INSERT\s+(OR\s+IGNORE\s+)?INTO\s+(\w+)", re.IGNORECASE)
_JSON_EXTRACT = re.compile(r"json_extract\(\s*(convert_from\([^()]*\)|CAST\([^()]*\)|[\w.]+)\s*,\s*'\$\.(\w+)'\s*\)", re.IGNORECASE)
_JSON_EACH = re.compile(r"SELECT\s+value\s+FROM\s+json_each\(\?\)", re.IGNORECASE)


def _placeholders(sql: str) -> str:
    """``?`` to ``%s`` and ``%`` to ``%%``, outside quoted strings and identifiers."""
    out: list[str] = []
    quote: str | None = None
    for ch in sql:
        if quote is not None:
            out.append("%%" if ch == "%" else ch)
            if ch == quote:
                quote = None
        elif ch in ("'", '"'):
            quote = ch
            out.append(ch)
        elif ch == "?":
            out.append("%s")
        elif ch == "%":
            out.append("%%")
        else:
            out.append(ch)
    return "".join(out)


@lru_cache(maxsize=1024)
def translate(sql: str) -> tuple[str, bool]:
    """SQLite's SQL as PostgreSQL takes it; and whether a ``RETURNING`` was added for ``lastrowid``."""
    text = _JSON_EACH.sub("SELECT value FROM json_array_elements_text(?::json) AS j(value)", sql)
    text = re.sub(r"\bIFNULL\(", "COALESCE(", text, flags=re.IGNORECASE)
    text = re.sub(r"\bCAST\((\w+\.)?arrive AS TEXT\)", r"convert_from(\1arrive, 'UTF8')", text)  # a BLOB of JSON
    text = _JSON_EXTRACT.sub(r"((\1)::json ->> '\2')", text)  # json_extract(x, '$.key'): a text field of a JSON text
    text = re.sub(r"\browid\b", "id", text)
    text = re.sub(r"\bLIKE\b", "ILIKE", text)  # SQLite's LIKE ignores (ASCII) case
    returning = False
    insert = _INSERT.match(text)
    if insert is not None:
        if insert.group(1):
            text = text[:insert.start(1)] + text[insert.end(1):] + " ON CONFLICT DO NOTHING"
        pk = _SERIAL_TABLES.get(insert.group(2).lower())
        if pk is not None and not re.search(r"\bRETURNING\b", text, re.IGNORECASE) \
                and not re.search(r"\bSELECT\b", text, re.IGNORECASE):
            text += f" RETURNING {pk}"
            returning = True
    return _placeholders(text), returning


_INSERT_VALUES = re.compile(r"^\s*INSERT\s+INTO\s+(\w+)\s*\(([^()]*)\)\s*VALUES\s*\(", re.IGNORECASE)


@lru_cache(maxsize=256)
def with_own_id(sql: str) -> tuple[str, str, str] | None:
    """An ``INSERT INTO t (cols) VALUES (…)`` of a table with an identity key, as PostgreSQL takes
    it with the key given first: (text, table, key); None for any other statement. The owner of a
    shop hands out the keys itself (``Connection.reserve_ids``) so that the caller's ``lastrowid``
    needs no answer from the database."""
    match = _INSERT_VALUES.match(sql)
    if match is None or re.search(r"\b(SELECT|RETURNING|OR|CONFLICT)\b", sql, re.IGNORECASE):
        return None
    table = match.group(1).lower()
    key = _SERIAL_TABLES.get(table)
    if key is None or key in {c.strip().lower() for c in match.group(2).split(",")}:
        return None
    text = f"{sql[:match.start(2)]}{key}, {sql[match.start(2):match.end()]}?, {sql[match.end():]}"
    translated, returning = translate(text)
    if returning:  # the key is ours: nothing to return
        translated = translated.removesuffix(f" RETURNING {key}")
    return translated, table, key


def schema_statement(sql: str) -> str:
    """A CREATE of store.py's schema in PostgreSQL's types (an ``INTEGER PRIMARY KEY`` is SQLite's
    rowid alias: an identity column here)."""
    text = re.sub(r"\bINTEGER PRIMARY KEY\b(?!\s+REFERENCES)", "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
                  sql)
    text = re.sub(r"\bINTEGER\b", "BIGINT", text)
    text = re.sub(r"\bREAL\b", "DOUBLE PRECISION", text)
    text = re.sub(r"\bBLOB\b", "BYTEA", text)
    text = re.sub(r"\bIFNULL\(", "COALESCE(", text)
    return text


class _BoolDumper(Dumper):
    """Python booleans go in as 0/1, as SQLite stores them (the columns are integers)."""

    oid = 20  # int8

    def dump(self, obj: Any) -> bytes:
        return b"1" if obj else b"0"


class _NumericLoader(Loader):
    """SUM and AVG of integers are ``numeric`` here: an int when whole, else a float (SQLite's types)."""

    def load(self, data: Any) -> int | float:
        value = Decimal(bytes(data).decode())
        return int(value) if value == value.to_integral_value() else float(value)


class Row(tuple):  # type: ignore[type-arg]
    """A result row read by position or by column name, like ``sqlite3.Row``."""

    __slots__ = ()
    _names: dict[str, int] = {}

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return tuple.__getitem__(self, self._names[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._names)


@lru_cache(maxsize=512)
def _row_class(names: tuple[str, ...]) -> type[Row]:
    return type("Row", (Row,), {"__slots__": (), "_names": {n: i for i, n in enumerate(names)}})


def _row_factory(cursor: Any) -> Callable[[Sequence[Any]], Any]:
    description = cursor.description
    if description is None:
        return tuple
    cls = _row_class(tuple(d.name for d in description))
    return cls


class Cursor:
    """What ``Store.execute`` returns: the rows, ``rowcount`` and ``lastrowid``."""

    def __init__(self, rows: list[Any], rowcount: int, lastrowid: int | None) -> None:
        self._rows = rows
        self.rowcount = rowcount
        self.lastrowid = lastrowid

    def fetchall(self) -> list[Any]:
        rows, self._rows = self._rows, []
        return rows

    def fetchone(self) -> Any:
        return self._rows.pop(0) if self._rows else None

    def __iter__(self) -> Iterator[Any]:
        return iter(self.fetchall())


class _Pending(Cursor):
    """A write sent in the pipeline whose answer has not been read: ``rowcount``, ``lastrowid``
    and the rows are read on first use, which syncs the pipeline then (most writes are never
    asked: their answers are read with the request's ``RELEASE``)."""

    def __init__(self, conn: Connection, cursor: psycopg.Cursor[Any], returning: bool, given: int | None) -> None:
        self._conn, self._cursor, self._returning = conn, cursor, returning
        self._done: Cursor | None = None
        self._given = given  # the key this process gave the inserted row (Connection.reserve_ids)

    def _result(self) -> Cursor:
        if self._done is None:
            self._conn.sync()
            self._done = self._conn.result(self._cursor, self._returning)
        return self._done

    @property
    def rowcount(self) -> int:  # type: ignore[override]
        return self._result().rowcount

    @property
    def lastrowid(self) -> int | None:  # type: ignore[override]
        if self._given is not None:
            return self._given  # known without an answer (an error comes with the request's RELEASE)
        return self._result().lastrowid

    def fetchall(self) -> list[Any]:
        return self._result().fetchall()

    def fetchone(self) -> Any:
        return self._result().fetchone()


def _no_nul(params: Sequence[Any]) -> None:
    """PostgreSQL's text cannot hold NUL (SQLite's can): a request carrying one is refused as
    invalid, with nothing sent to the database (so the batch is untouched), instead of failing."""
    for value in params:
        if isinstance(value, str) and "\x00" in value:
            raise ProtocolError(ErrorCode.INVALID, "text cannot contain NUL (U+0000) characters")


_WRITE = ("INSERT", "UPDATE", "DELETE")
ID_BLOCK = 200  # keys taken from a table's sequence at once (Connection.reserve_ids)


class Connection:
    """The psycopg connection seen through ``sqlite3.Connection``'s calls that the server makes.

    Round trips (issue 15's peak): the statements of a request are sent in psycopg's pipeline
    mode and their answers read together, at the request's ``RELEASE``, at a read, or when a
    write's own answer is asked for (``_Pending``). Deferred: ``BEGIN``, ``SAVEPOINT`` and the
    writes inside a savepoint (a request, ``Shop.atomic``). So an error of a deferred write is
    raised at the latest by its request's ``RELEASE``, inside the request, whose savepoint is then
    rolled back as before (or earlier, by any later statement of the request: psycopg reads the
    answers already arrived whenever it sends, and PostgreSQL sends an error at once; the
    connection leaves pipeline mode then too); a write outside any savepoint, ``COMMIT`` and
    ``ROLLBACK`` are answered at once. Outside a request nothing is ever left pending (the idle
    probe and the commit find the connection as before)."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.raw = conn
        self.savepoints = 0
        self.before_close: Callable[[], None] | None = None
        self._pipeline: AbstractContextManager[psycopg.Pipeline] | None = None  # entered: pipeline mode on
        self.round_trips = 0  # answers waited for on this connection (tests/pg: one per request)
        # The owner of the shop (PgStore, own=True) gives the identity keys of its inserts itself,
        # from blocks of ``ID_BLOCK`` taken from each table's own sequence (one round trip a block,
        # not one an insert for its RETURNING): a key is never given twice, by this process or any
        # other, as the sequence's own are not; a rolled-back insert leaves a gap, as PostgreSQL's
        # own keys do, and so does a block left unused when the process stops.
        self.reserve_ids = False
        self._ids: dict[str, deque[int]] = {}

    @property
    def pending(self) -> bool:
        """Statements sent whose answers have not been read."""
        return self._pipeline is not None

    @property
    def in_transaction(self) -> bool:
        return self._pipeline is not None or self.raw.info.transaction_status != pq.TransactionStatus.IDLE

    def sync(self) -> None:
        """Read the answers of everything sent: raises the first error among them (the statements
        sent after it in the same pipeline were skipped by PostgreSQL)."""
        pipeline, self._pipeline = self._pipeline, None
        if pipeline is not None:
            self.round_trips += 1
            pipeline.__exit__(None, None, None)

    def _discard(self) -> None:
        """Before a ROLLBACK, or after a statement sent in the pipeline raised: read what is
        pending, leave pipeline mode and drop its error (the rollback undoes it, or it is the one
        already raised); a lost connection is still raised. ``PipelineAborted`` only says that an
        earlier error made PostgreSQL skip the statements after it: not a lost connection."""
        try:
            self.sync()
        except psycopg.errors.PipelineAborted:
            if self.raw.broken or self.raw.closed:
                raise
        except psycopg.OperationalError:
            raise
        except psycopg.Error:
            pass

    @staticmethod
    def result(cursor: psycopg.Cursor[Any], returning: bool) -> Cursor:
        rows = cursor.fetchall() if cursor.description is not None else []
        lastrowid = int(rows[0][0]) if returning and rows else None
        return Cursor([] if returning else rows, cursor.rowcount, lastrowid)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        _no_nul(params)
        if sql.startswith("PRAGMA data_version"):
            # revocation.py asks whether another process wrote: here, always look (one query a second)
            return Cursor([(time.monotonic_ns(),)], 1, None)
        text, returning = translate(sql)
        word = sql.lstrip()[:11].upper()
        if word.startswith("ROLLBACK"):
            self._discard()
        defer = word.startswith(("BEGIN", "SAVEPOINT")) or (self.savepoints > 0 and word.startswith(_WRITE))
        given: int | None = None
        own = with_own_id(sql) if self.reserve_ids and returning and defer else None
        if own is not None:  # the key given here: no RETURNING to wait for
            given = self._next_id(own[1], own[2])
            text, returning, params = own[0], False, (given, *params)
        cursor = self.raw.cursor()
        if defer or self._pipeline is not None:
            if self._pipeline is None:
                self._pipeline = self.raw.pipeline()
                self._pipeline.__enter__()
            try:
                cursor.execute(text, params)
            except psycopg.Error:
                # psycopg reads the answers already arrived whenever it sends, and PostgreSQL sends
                # an error at once: an earlier write's error can come out here, before the RELEASE.
                # Raised once, here; the rest is read and the connection leaves pipeline mode.
                self._discard()
                raise
        else:
            self.round_trips += 1
            cursor.execute(text, params)
        if word.startswith("SAVEPOINT"):
            self.savepoints += 1
        elif word.startswith("RELEASE"):
            self.sync()  # the request's answers: an error of one of its writes is raised in it
            self.savepoints = max(0, self.savepoints - 1)
        elif word.startswith(("COMMIT", "BEGIN")) or (word.startswith("ROLLBACK") and " TO" not in word):
            self.savepoints = 0
        if defer:
            return _Pending(self, cursor, returning, given)
        self.sync()
        return self.result(cursor, returning)

    def _next_id(self, table: str, key: str) -> int:
        ids = self._ids.get(table)
        if not ids:
            self.sync()
            self.round_trips += 1
            rows = self.raw.execute(f"SELECT nextval(pg_get_serial_sequence('{table}', '{key}'))"
                                    " FROM generate_series(1, %s)", (ID_BLOCK,)).fetchall()
            ids = self._ids[table] = deque(sorted(int(r[0]) for r in rows))
        return ids.popleft()

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> Cursor:
        text, _ = translate(sql)
        rows = list(rows)
        for row in rows:
            _no_nul(row)
        self.sync()
        cursor = self.raw.cursor()
        self.round_trips += 1
        cursor.executemany(text, rows)
        return Cursor([], cursor.rowcount, None)

    def cursor(self) -> _TupleCursor:
        return _TupleCursor(self)

    def close(self) -> None:
        if self.before_close is not None:
            self.before_close()
        self.raw.close()


class _TupleCursor:
    """``db.cursor()`` with ``row_factory = None``: plain tuples (Store.tuples)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.row_factory: Any = None

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        text, _ = translate(sql)
        self.conn.sync()
        self.conn.round_trips += 1
        with self.conn.raw.cursor(row_factory=psycopg.rows.tuple_row) as cursor:
            cursor.execute(text, params)
            return Cursor(cursor.fetchall() if cursor.description is not None else [], cursor.rowcount, None)


def connect(url: str, schema: str | None, *, autocommit: bool = True) -> psycopg.Connection[Any]:
    """A connection with our adapters, on the shop's schema (``public`` for the extensions)."""
    options = f"-c search_path={schema},public" if schema else None
    kwargs: dict[str, Any] = {"autocommit": autocommit, "row_factory": _row_factory}
    if options:
        kwargs["options"] = options
    # Who we are, in pg_stat_activity: ``fenliu shops list`` names the process serving each shop.
    kwargs["application_name"] = f"fenliu {socket.gethostname()} pid {os.getpid()}"[:63]
    # TCP keepalives: a machine whose network went away is noticed (the lock's owner too).
    kwargs.update(keepalives=1, keepalives_idle=5, keepalives_interval=2, keepalives_count=3)
    try:
        conn = psycopg.connect(url, **kwargs)
    except psycopg.Error as exc:
        raise StoreError(f"cannot connect to PostgreSQL at {redact(url)}: {str(exc).strip()}") from None
    conn.adapters.register_dumper(bool, _BoolDumper)
    conn.adapters.register_loader("numeric", _NumericLoader)
    return conn


def shop_names(url: str) -> list[str]:
    """The shops the database holds (the schemas ``shop_<name>``), ``default`` first, then by name:
    what a server serves when no ``--shop`` is named (issue 15)."""
    conn = connect(url, None)
    try:
        rows = conn.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'shop\\_%' ORDER BY nspname").fetchall()
    except psycopg.Error as exc:
        raise StoreError(f"PostgreSQL at {redact(url)}: cannot list the shops: {str(exc).strip()}") from None
    finally:
        conn.close()
    names = [row[0][len("shop_"):] for row in rows if SHOP_NAME.fullmatch(row[0][len("shop_"):])]
    return sorted(names, key=lambda name: (name != "default", name))


@lru_cache(maxsize=1)
def schema_digest() -> str:
    """The statements that make a shop's schema, hashed: what ``PgStore._migrate`` compares."""
    statements = [schema_statement(sql) for sql in _SCHEMA] + [*pg.SHOP_OBJECTS_PG, OWNERS_PG]
    return hashlib.sha256("\n;\n".join([str(SCHEMA_VERSION), *statements]).encode()).hexdigest()


class LockWatch:
    """A standby's look at which shops are held (one kept connection, one ``pg_locks`` query a
    try): cheap enough to ask every ``STANDBY_POLL`` (app.py). Used from a worker thread."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._conn: psycopg.Connection[Any] | None = None

    def held(self, names: Iterable[str]) -> set[str]:
        """Which of ``names`` some process holds the lock of now (one query on ``pg_locks``): the
        standby opens only the others, not a connection per shop at every try."""
        if self._conn is None or self._conn.closed or self._conn.broken:
            self._conn = connect(self.url, None)
        try:
            return _held(self._conn, names)
        except psycopg.Error as exc:
            self.close()
            raise StoreError(f"PostgreSQL at {redact(self.url)}: cannot read the shops' locks: "
                             f"{str(exc).strip()}") from None

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except psycopg.Error:
                pass
            self._conn = None


def _held(conn: psycopg.Connection[Any], names: Iterable[str]) -> set[str]:
    keys = {shop_lock_key(name): name for name in names}
    if not keys:
        return set()
    rows = conn.execute("SELECT (classid::bigint << 32) | objid::bigint FROM pg_locks"
                        " WHERE locktype = 'advisory' AND granted AND objsubid = 1").fetchall()
    held = set()
    for (value,) in rows:
        signed = value - (1 << 64) if value >= (1 << 63) else value
        if signed in keys:
            held.add(keys[signed])
    return held


ADDED_POLICY = "added_policy"
"""The shop's meta key holding the policy ``fenliu shops add`` gave it: its first start's policy."""
ADDED_FAQ = "added_faq"
"""The shop's meta key holding its own FAQ (``fenliu shops add --faq``): its bot's, else the server's."""


def shop_holders(url: str) -> dict[str, str | None]:
    """Every shop of the database and who serves it now (``fenliu shops list``): the holder of its
    lock, as the fenliu process named itself (host and PID) and its address; None when unserved."""
    names = shop_names(url)
    keys = {shop_lock_key(name): name for name in names}
    conn = connect(url, None)
    try:
        rows = conn.execute(
            "SELECT (l.classid::bigint << 32) | l.objid::bigint, a.application_name, a.pid,"
            " host(a.client_addr) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
            " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1").fetchall()
    except psycopg.Error as exc:
        raise StoreError(f"PostgreSQL at {redact(url)}: cannot read the shops' locks: {str(exc).strip()}") from None
    finally:
        conn.close()
    holders: dict[str, str | None] = dict.fromkeys(names)
    for value, app, pid, addr in rows:
        signed = value - (1 << 64) if value >= (1 << 63) else value
        if signed in keys:
            where = f", backend {pid}" + (f" from {addr}" if addr else " (unix socket)")
            holders[keys[signed]] = f"{app or 'a process'}{where}"
    return holders


def add_shop(url: str, name: str, policy_text: str, faq_text: str | None = None, local_dir: Path | None = None
             ) -> None:
    """Make the shop's schema with its policy and FAQ (``fenliu shops add --store``), whole or not at all
    for a server: its lock is held meanwhile, so a server starting now finds the shop owned and
    takes it later, with its policy."""
    schema = schema_of(name)
    if name in shop_names(url):
        raise StoreError(f"the shop {name!r} exists already in {redact(url)} (schema {schema})")
    store = PgStore(url, shop=name, own=True, local_dir=local_dir)
    try:
        store.set_meta(ADDED_POLICY, policy_text)
        if faq_text is not None:
            store.set_meta(ADDED_FAQ, faq_text)
        store.flush()
    finally:
        store.close()


def remove_shop(url: str, name: str) -> str:
    """Take the shop out of the database's shops (``fenliu shops remove --store``): its schema is
    renamed ``removed_<name>_<time>``, nothing deleted. Refused while a server serves it (its lock
    is taken for the rename, so none can start meanwhile). The schema's new name."""
    schema = schema_of(name)
    key = shop_lock_key(name)
    conn = connect(url, None)
    try:
        if conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,)).fetchone() is None:
            raise StoreError(f"no shop {name!r} in {redact(url)}")
        locked = conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
        if locked is None or not locked[0]:
            holder = shop_holders(url).get(name) or "another process"
            raise StoreError(f"the shop {name!r} is served by {holder}: stop that server first")
        try:
            target = f"removed_{name}_{time.strftime('%Y%m%d%H%M%S')}"[:63]
            conn.execute(f'ALTER SCHEMA {schema} RENAME TO "{target}"')
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (key,))
    except psycopg.Error as exc:
        raise StoreError(f"PostgreSQL at {redact(url)}: cannot remove the shop {name!r}: {str(exc).strip()}") from None
    finally:
        conn.close()
    return target
# Where each shop's owner is reached (issue 15): the process that holds a shop's advisory lock
# writes its address here right after taking it; a row is believed only while the backend it names
# (``backend``: the owner's lock connection) holds that lock (``owner_of``), so a dead owner's row
# says nothing and the next owner overwrites it.
OWNERS_PG = """CREATE TABLE IF NOT EXISTS public.fenliu_owners (
    shop TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    backend INTEGER NOT NULL,
    pid INTEGER NOT NULL,
    host TEXT NOT NULL,
    since DOUBLE PRECISION NOT NULL
)"""


def record_owner(url: str, shop: str, backend: int, address: str, pid: int, host: str) -> None:
    """Say that this process (``pid`` on ``host``, lock held by PostgreSQL backend ``backend``)
    owns ``shop`` and is reached at ``address``."""
    conn = connect(url, None)
    try:
        conn.execute(
            "INSERT INTO public.fenliu_owners (shop, url, backend, pid, host, since) VALUES (%s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (shop) DO UPDATE SET url = EXCLUDED.url, backend = EXCLUDED.backend, pid = EXCLUDED.pid,"
            " host = EXCLUDED.host, since = EXCLUDED.since",
            (shop, address, backend, pid, host, time.time()))
    except psycopg.Error as exc:
        raise StoreError(f"PostgreSQL at {redact(url)}: cannot record the owner of shop {shop!r}: "
                         f"{str(exc).strip()}") from None
    finally:
        conn.close()


def owner_of(url: str, shop: str) -> str | None:
    """The address of the process that owns ``shop`` now, or None when none does: the recorded
    row counts only while its backend holds the shop's advisory lock (pg_locks)."""
    if not SHOP_NAME.fullmatch(shop):
        return None
    conn = connect(url, None)
    try:
        row = conn.execute(
            "SELECT o.url FROM public.fenliu_owners o JOIN pg_locks l ON l.pid = o.backend"
            " WHERE o.shop = %s AND l.locktype = 'advisory' AND l.granted AND l.objsubid = 1"
            " AND ((l.classid::bigint << 32) | l.objid::bigint) = (%s::bigint & x'ffffffffffffffff'::bigint)",
            (shop, shop_lock_key(shop))).fetchone()
    except psycopg.errors.UndefinedTable:
        return None  # no owner ever recorded
    except psycopg.Error as exc:
        raise StoreError(f"PostgreSQL at {redact(url)}: cannot look up the owner of shop {shop!r}: "
                         f"{str(exc).strip()}") from None
    finally:
        conn.close()
    return str(row[0]) if row is not None else None


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    return re.sub(r"(//[^:/@]+):[^@]*@", r"\1:***@", url)


class _FlushThread(SyncThread):
    """Makes commits durable off the loop: for each group of requests the thread runs one
    synchronous-commit transaction that takes an xid (its commit record comes after theirs, so
    when it returns they are flushed)."""

    errors = (psycopg.Error, StoreError)

    def __init__(self, url: str, loop: asyncio.AbstractEventLoop, done: Callable[[int], None],
                 failed: Callable[[BaseException], None]) -> None:
        self.url = url
        self._conn: psycopg.Connection[Any] | None = None
        super().__init__(loop, done, failed, "fenliu-pg-flush")

    @staticmethod
    def flush_wal(conn: psycopg.Connection[Any]) -> None:
        conn.execute("SELECT pg_current_xact_id()")  # autocommit: its own transaction, committed synchronously

    def _sync(self) -> None:
        if self._conn is None:
            self._conn = connect(self.url, None)
            self._conn.execute("SET synchronous_commit = on")
        self.flush_wal(self._conn)

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class PgReader:
    """repository/search.py's ``Reader`` on PostgreSQL: the same calls, on a connection of its own in a
    read-only session, one search at a time."""

    dialect = "postgresql"

    def __init__(self, url: str, schema: str) -> None:
        raw = connect(url, schema)
        raw.execute("SET default_transaction_read_only = on")
        self.db = Connection(raw)
        self._lock = threading.Lock()

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        return self.db.execute(sql, params).fetchall()

    def one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.db.execute(sql, params).fetchone()

    def tuples(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.db.cursor().execute(sql, params).fetchall()

    def run(self, work: Callable[[Any], Any]) -> Any:
        with self._lock:
            return work(self)

    def close(self) -> None:
        with self._lock:
            self.db.close()


class PgStore(Store):
    """One shop's store in a PostgreSQL schema, owned by this process (see the module's text)."""

    dialect = "postgresql"
    errors = (psycopg.Error,)

    def __init__(self, url: str, *, shop: str = "default", synchronous: str = "FULL", own: bool = True,
                 local_dir: Path | None = None) -> None:
        """``own``: take the shop's lock (a server; refused with ``ShopOwned`` when another has it:
        a standby tries again, app.py). Command-line tools that only write what a server reads
        afresh (accounts, tokens) open the shop without it."""
        self.url = url
        self.shop = shop
        self.schema = schema_of(shop)
        # Where this process keeps local files (none of the shop's data): logs of benchmarks, etc.
        self.path = (local_dir or default_data_dir()) / f"pg-{shop}" / "fenliu.db"
        self.durable = synchronous.upper() == "FULL"
        self._start_batching()
        self._probe: asyncio.TimerHandle | None = None
        self._watched: asyncio.AbstractEventLoop | None = None
        raw = connect(url, self.schema)
        self.db = Connection(raw)  # type: ignore[assignment]
        self.db.before_close = self._release_lock  # type: ignore[attr-defined]
        self._owner = False
        self.backend = raw.info.backend_pid  # the PostgreSQL backend holding the shop's lock (owner_of)
        self.owner: str | None = None  # ``fenliu.owner`` once the lock is taken (``_take_lock``)
        try:
            # COMMIT does not wait for the WAL flush; when durable, _FlushThread waits for it
            # before anything is acknowledged (see the module's text)
            raw.execute("SET synchronous_commit = off")
            self._owner = own
            if own:
                self._take_lock()
            self._migrate()
            self.db.reserve_ids = own  # type: ignore[attr-defined]  # the owner gives its rows' keys
        except psycopg.Error as exc:
            raw.close()
            raise StoreError(f"PostgreSQL at {redact(url)}, shop {shop!r}: {str(exc).strip()}") from None
        except BaseException:
            raw.close()
            raise

    def __repr__(self) -> str:
        return f"PgStore({redact(self.url)}, shop={self.shop!r})"

    @property
    def where(self) -> str:
        """For messages: the database and the shop."""
        return f"{redact(self.url)} (shop {self.shop})"

    # -- ownership --------------------------------------------------------------------------

    def _take_lock(self) -> None:
        key = shop_lock_key(self.shop)
        raw = self.db.raw  # type: ignore[attr-defined]
        got = raw.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
        if not got[0]:
            holder = raw.execute(
                "SELECT a.pid::text || COALESCE(' at ' || host(a.client_addr), '') FROM pg_locks l"
                " JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted"
                " AND ((l.classid::bigint << 32) | l.objid::bigint) = (%s::bigint & x'ffffffffffffffff'::bigint)",
                (key,)).fetchone()
            raise ShopOwned(self.shop, holder[0] if holder else None)
        self.owner = f"{socket.gethostname()}/{os.getpid()}/{secrets.token_hex(4)}"  # this process, this time
        raw.execute("SELECT set_config('fenliu.owner', %s, false)", (self.owner,))

    # -- schema -----------------------------------------------------------------------------

    def _migrate(self) -> None:
        """Make the shop's schema (or check it). A schema that the same statements already made
        (its digest in ``meta``, written in the transaction that ran them) is left as it is: one
        query instead of some forty DDL statements under the database-wide ``EXTENSION_LOCK``,
        which every takeover of every shop would otherwise queue on (issue 15)."""
        raw = self.db.raw  # type: ignore[attr-defined]
        digest = schema_digest()
        try:
            row: tuple[int | None, str | None] | None = pg.schema_state(raw)
        except psycopg.errors.UndefinedTable:  # a new shop (autocommit: nothing left aborted)
            row = None
        if row is not None and row[0] == SCHEMA_VERSION and row[1] == digest:
            return
        with raw.transaction():
            raw.execute("SELECT pg_advisory_xact_lock(%s)", (EXTENSION_LOCK,))
            raw.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public")
            raw.execute(OWNERS_PG)  # the shops' owners' addresses (issue 15), under the same lock
            raw.execute(f"CREATE SCHEMA IF NOT EXISTS {self.schema}")
            raw.execute(schema_statement(_SCHEMA[0]))
            version = pg.schema_version(raw)
            if version is not None and version > SCHEMA_VERSION:
                raise StoreError(f"{self.where}: database schema version {version} is newer than this fenliu "
                                 f"({SCHEMA_VERSION})")
            if version is not None and version < 6:
                # PostgreSQL support began at schema 5, and 5 -> 6 has no step here: an older one
                # was made by another program
                raise StoreError(f"{self.where}: schema version {version} predates PostgreSQL support")
            # the SQLite schema in PostgreSQL's types, then the repository's PostgreSQL-only objects;
            # an index whose statement changed is made again
            pg.create_replacing_indexes(raw, [*(schema_statement(sql) for sql in _SCHEMA[1:]), *pg.SHOP_OBJECTS_PG])
            pg.event_marks(raw)  # 6 -> 7: the agents' event log indexed by a mark (issue 9)
            pg.record_schema(raw, SCHEMA_VERSION, digest, first=version is None)

    # -- the connection's hooks ---------------------------------------------------------------

    def _fatal(self, exc: BaseException) -> bool:
        """A lost connection (the lock with it), PostgreSQL stopping, a full disk: the batch is gone.
        So is a batch whose transaction a failed statement aborted outside any savepoint."""
        raw = self.db.raw  # type: ignore[attr-defined]
        if isinstance(exc, psycopg.OperationalError) or raw.broken or raw.closed:
            return True
        status = raw.info.transaction_status
        return status == pq.TransactionStatus.INERROR and self.db.savepoints == 0  # type: ignore[attr-defined]

    def _begin(self) -> None:
        try:
            super()._begin()
        except psycopg.Error as exc:  # BEGIN on a lost connection
            self._fail(exc)
            raise StoreFailed(f"{self.where}: {str(exc).strip()}") from exc
        self._watch()

    def flush(self, *, now: bool = False) -> None:
        if self.db.pending and self.failure is None:  # type: ignore[attr-defined]
            try:  # a BEGIN not answered yet (nothing else is left pending between requests)
                self.db.sync()  # type: ignore[attr-defined]
            except psycopg.Error as exc:
                self._flush_scheduled = False
                self._fail(exc)
                return
        if self._in_tx and self.failure is None and \
                self.db.raw.info.transaction_status == pq.TransactionStatus.INERROR:  # type: ignore[attr-defined]
            # COMMIT of an aborted transaction is a silent ROLLBACK: never let it pass for a commit
            self._flush_scheduled = False
            self._fail(StoreFailed(f"{self.where}: a statement failed outside a savepoint; the batch is lost"))
            return
        super().flush(now=now)

    def _finish_checkpoint(self) -> None:
        """Nothing to do: PostgreSQL checkpoints by itself (store.py's is SQLite's WAL)."""

    def _index_new_messages(self) -> int:
        """Nothing to do: the ``pg_trgm`` index (``repository/pg.py`` ``SEARCH_INDEX_PG``) follows every insert itself,
        where SQLite's FTS5 table is brought up to date at a commit at most every 0.25 s (store.py)."""
        return 0

    def _new_syncer(self, loop: asyncio.AbstractEventLoop) -> Any:
        return _FlushThread(self.url, loop, self._release, self._fail)

    def _fsync_wal(self) -> None:
        """Flush the WAL up to now, here (no loop: command-line tools, a clean stop)."""
        raw = self.db.raw  # type: ignore[attr-defined]
        try:
            with raw.transaction():
                raw.execute("SET LOCAL synchronous_commit = on")
                raw.execute("SELECT pg_current_xact_id()")
        except psycopg.Error as exc:
            raise OSError(f"the WAL could not be flushed: {str(exc).strip()}") from exc

    def _fail(self, error: BaseException) -> None:
        already = self.failure is not None
        super()._fail(error)
        if not already:
            self._unwatch()

    # -- noticing a lost connection while idle --------------------------------------------------

    def _watch(self) -> None:
        if self._watched is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._watched = loop
        raw = self.db.raw  # type: ignore[attr-defined]
        try:
            loop.add_reader(raw.fileno(), self._readable)
        except (NotImplementedError, ValueError, psycopg.Error):
            pass
        self._probe = loop.call_later(PROBE_EVERY, self._tick)

    def watch(self) -> None:
        """Start watching the connection (the server calls it once its loop runs)."""
        self._watch()

    def _unwatch(self) -> None:
        loop, self._watched = self._watched, None
        if loop is None:
            return
        if self._probe is not None:
            self._probe.cancel()
            self._probe = None
        try:
            loop.remove_reader(self.db.raw.fileno())  # type: ignore[attr-defined]
        except Exception:  # noqa: BLE001 - closed loop or socket: nothing left to watch
            pass

    def _readable(self) -> None:
        """Data on an idle connection: PostgreSQL telling us it ends the session, or a notice."""
        self.probe()

    def _tick(self) -> None:
        self._probe = None
        self.probe()
        if self.failure is None and self._watched is not None:
            self._probe = self._watched.call_later(PROBE_EVERY, self._tick)

    def probe(self) -> bool:
        """Ask the connection whether it is alive; fail the store (fail-stop) if it is not."""
        if self.failure is not None:
            return False
        if self.db.pending:  # type: ignore[attr-defined]
            return True  # a request is being answered: its own sync notices a loss
        try:
            self.db.raw.execute("SELECT 1")  # type: ignore[attr-defined]
        except psycopg.Error as exc:
            log.critical("shop %s: the connection to PostgreSQL is lost (%s): its lock with it; this process "
                         "stops routing the shop", self.shop, str(exc).strip())
            self._fail(exc)
            return False
        return True

    # -- reads ----------------------------------------------------------------------------

    def one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        try:
            return self.db.execute(sql, params).fetchone()
        except psycopg.Error as exc:
            self._read_failed(exc)
            raise

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        try:
            return self.db.execute(sql, params).fetchall()
        except psycopg.Error as exc:
            self._read_failed(exc)
            raise

    def tuples(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            return self.db.cursor().execute(sql, params).fetchall()  # type: ignore[attr-defined]
        except psycopg.Error as exc:
            self._read_failed(exc)
            raise

    def reader(self) -> PgReader:
        """A read-only connection of its own for searches in a worker thread (repository/search.py's ``Reader``
        on SQLite): the loop's connection is never used from another thread."""
        return PgReader(self.url, self.schema)

    def _read_failed(self, exc: psycopg.Error) -> None:
        if self._fatal(exc) and self.failure is None:
            self._fail(exc)
            raise StoreFailed(f"{self.where}: {exc}") from exc

    # -- snapshots (driver.py; their SQL is repository/pg.py's) ---------------------------------

    def write_snapshot_now(self, upto: int, body: bytes) -> None:
        """Write a snapshot on a connection of its own, committed and flushed before returning (the
        forked child's way, and the clean stop's): the log is pruned only after."""
        conn = connect(self.url, self.schema)
        try:
            conn.execute("SET synchronous_commit = on")
            pg.write_snapshot(conn, upto, body)
        finally:
            conn.close()

    # -- closing ----------------------------------------------------------------------------

    def abandon(self) -> None:
        self._unwatch()
        try:
            super().abandon()
        except psycopg.Error:
            pass

    def close(self) -> None:
        self._unwatch()
        try:
            super().close()
        except psycopg.Error:
            pass

    def _release_lock(self) -> None:
        """Give the shop's lock back before the connection closes: a backend ends a moment after
        its client leaves, and the next owner (a standby, a command) must not find it still held."""
        if not self._owner or self.failure is not None:
            return
        raw = self.db.raw  # type: ignore[attr-defined]
        try:
            if not raw.closed and not raw.broken and raw.info.transaction_status == pq.TransactionStatus.IDLE:
                raw.execute("SELECT pg_advisory_unlock(%s)", (shop_lock_key(self.shop),))
        except psycopg.Error:
            pass
