"""The SQL of message search (issue 13): the read-only ``Reader`` a worker thread searches on, and
the statements for message rows (the FTS5 trigram index, PostgreSQL's ``pg_trgm`` LIKE, a
bounded scan for short queries) and order ids. Which path a query takes, paging and snippets are
``console.server.search``'s."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Collection, Sequence
from typing import Any, Protocol, TypeVar

import msgspec

from console.server.repository.fold import FOLD, register
from console.server.repository.reception import Record

T = TypeVar("T")

class Reader:
    """A read-only connection for searches in a worker thread (one at a time: a lock).

    Opened ``mode=ro``: it never writes, so it never checkpoints the WAL while the server's own
    connection writes (store.py keeps one writing connection for that reason)."""

    dialect = "sqlite"

    def __init__(self, path: str) -> None:
        self.db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False,
                                  isolation_level=None)
        self.db.row_factory = sqlite3.Row
        register(self.db)
        self._lock = threading.Lock()

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """Every row of a statement."""
        return list(self.db.execute(sql, params).fetchall())

    def one(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        """The first row of a statement."""
        row: sqlite3.Row | None = self.db.execute(sql, params).fetchone()
        return row

    def tuples(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Every row of a statement, as plain tuples."""
        cursor = self.db.cursor()
        cursor.row_factory = None
        return list(cursor.execute(sql, params).fetchall())

    def run(self, work: Callable[[Reader], T]) -> T:
        """``work`` on this reader, alone."""
        with self._lock:
            return work(self)

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self.db.close()


class Source(Protocol):
    """Where a search reads: the store (on the loop) or a ``Reader`` (in a worker)."""

    dialect: str

    def all(self, sql: str, params: Sequence[Any] = ...) -> list[sqlite3.Row]: ...
    def one(self, sql: str, params: Sequence[Any] = ...) -> sqlite3.Row | None: ...


_MESSAGE = "SELECT m.id, m.conversation, m.author, m.text, m.at FROM messages m"


def _scope_clause(scope: Collection[str] | None, column: str = "m.conversation") -> tuple[str, tuple[str, ...]]:
    if scope is None:
        return "", ()
    return f" AND {column} IN (SELECT value FROM json_each(?))", (msgspec.json.encode(sorted(scope)).decode(),)


def messages_like(source: Source, pattern: str, top: int, scope: Collection[str] | None, limit: int) -> list[Record]:
    """Messages (newest first, ids under ``top``, of conversations in ``scope``) whose text is LIKE
    ``pattern`` (escaped with \\): PostgreSQL's ``pg_trgm`` GIN index answers it."""
    where_scope, scope_args = _scope_clause(scope)
    return source.all(
        _MESSAGE + f" WHERE m.text LIKE ? ESCAPE '\\' AND m.id < ?{where_scope} ORDER BY m.id DESC LIMIT ?",
        (pattern, top, *scope_args, limit))


def messages_matching(source: Source, phrase: str, top: int, scope: Collection[str] | None,
                      limit: int) -> list[Record]:
    """Messages (newest first, ids under ``top``, of conversations in ``scope``) matching an FTS5
    ``phrase`` of the trigram index."""
    where_scope, scope_args = _scope_clause(scope)
    return source.all(
        "SELECT m.id, m.conversation, m.author, m.text, m.at FROM messages_fts f"
        " JOIN messages m ON m.id = f.rowid"
        f" WHERE messages_fts MATCH ? AND f.rowid < ?{where_scope} ORDER BY f.rowid DESC LIMIT ?",
        (phrase, top, *scope_args, limit))


def messages_like_in(source: Source, pattern: str, top: int, floor: int, scope: Collection[str] | None,
                     limit: int, *, fold: bool = False) -> list[Record]:
    """Messages with ids in [floor, top) (newest first, of conversations in ``scope``) whose text
    is LIKE ``pattern``: a bounded scan. ``fold`` (SQLite only): the text is lowered by ``FOLD``
    first, every script's case (``pattern`` must be lowered too); else LIKE folds ASCII only."""
    where_scope, scope_args = _scope_clause(scope)
    text = f"{FOLD}(m.text)" if fold else "m.text"
    return source.all(
        _MESSAGE + f" WHERE m.id < ? AND m.id >= ? AND {text} LIKE ? ESCAPE '\\'{where_scope} ORDER BY m.id DESC LIMIT ?",
        (top, floor, pattern, *scope_args, limit))


def indexed_upto(source: Source) -> int:
    """The highest message id in the FTS5 index (0: none); the messages after it are not indexed yet."""
    r = source.one("SELECT IFNULL(MAX(id), 0) FROM messages_fts_docsize")
    return int(r[0]) if r is not None else 0


def orders_like(source: Source, pattern: str, scope: Collection[str] | None, limit: int) -> list[Record]:
    """Orders (id, buyer, updated_at; latest first, of buyers in ``scope``) whose id is LIKE ``pattern``."""
    where_scope, scope_args = _scope_clause(scope, column="buyer")
    return source.all(
        f"SELECT id, buyer, updated_at FROM orders WHERE id LIKE ? ESCAPE '\\'{where_scope}"
        " ORDER BY updated_at DESC LIMIT ?",
        (pattern, *scope_args, limit))


def max_message_id(source: Source) -> int:
    """The highest message id (0: none)."""
    r = source.one("SELECT MAX(id) FROM messages")
    return int(r[0]) if r is not None and r[0] is not None else 0


def min_message_id(source: Source) -> int:
    """The lowest message id (0: none)."""
    r = source.one("SELECT MIN(id) FROM messages")
    return int(r[0]) if r is not None and r[0] is not None else 0
