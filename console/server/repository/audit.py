"""The SQL of the audit log (issue 14, CONSOLE.md §7): one table, ``audit``, and the buyer names
its entries show. ``AuditLog.record`` writes through the store's current batch (the same
transaction as the change it records); ``read_audit``, ``opening_statuses`` and ``buyer_names``
take a plain connection, so ``fenliu report`` reads the same rows from a read-only connection
beside a live server. What is recorded, and by whom, is ``console.server.audit``'s.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from console.protocol.messages import AuditAction, AuditEntry
from console.server.store import Store

_COLUMNS = "id, at, by, action, subject, value, previous"


def _entry(row: Sequence[Any]) -> AuditEntry:
    id_, at, by, action, subject, value, previous = row
    return AuditEntry(id=int(id_), at=float(at), by=str(by), action=AuditAction(str(action)), subject=str(subject),
                      value=str(value), previous=str(previous))


class AuditLog:
    """Writes audit rows in the store's current batch."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def record(self, at: float, by: str, action: AuditAction, subject: str, value: str = "",
               previous: str = "") -> None:
        """One audit row, in the store's current batch (the transaction of the change it records)."""
        self.store.execute("INSERT INTO audit (at, by, action, subject, value, previous) VALUES (?, ?, ?, ?, ?, ?)",
                           (at, by, action.value, subject, value, previous))


def read_audit(db: sqlite3.Connection, start: float, end: float, *, after: int | None = None,
               limit: int | None = None) -> list[AuditEntry]:
    """Entries at ``start <= at < end`` (and id > ``after``), oldest first (by id: commit order)."""
    sql = f"SELECT {_COLUMNS} FROM audit WHERE at >= ? AND at < ? AND id > ? ORDER BY id"
    args: tuple[object, ...] = (start, end, after or 0)
    if limit is not None:
        sql += " LIMIT ?"
        args += (limit,)
    cursor = db.cursor()
    cursor.row_factory = None
    return [_entry(r) for r in cursor.execute(sql, args)]


def opening_statuses(db: sqlite3.Connection, before: float) -> list[AuditEntry]:
    """Each agent's last status entry before ``before`` (where its shift timeline starts)."""
    cursor = db.cursor()
    cursor.row_factory = None
    rows = cursor.execute(
        f"SELECT {_COLUMNS} FROM audit a WHERE action = 'status' AND id = (SELECT MAX(id) FROM audit b"
        " WHERE b.action = 'status' AND b.subject = a.subject AND b.at < ?) ORDER BY subject", (before,))
    return [_entry(r) for r in rows]


def buyer_names(db: sqlite3.Connection, entries: Sequence[AuditEntry]) -> dict[str, str]:
    """The names of the buyers ``entries`` are about (a transfer's, a close's subject), from the
    buyers table (their one owner), so the room shows a name, never the internal id (issue 14)."""
    ids = sorted({e.subject for e in entries if e.action in (AuditAction.TRANSFER, AuditAction.CLOSE)})
    names: dict[str, str] = {}
    cursor = db.cursor()
    cursor.row_factory = None
    for i in range(0, len(ids), 500):  # under SQLite's bound-variable limit
        chunk = ids[i:i + 500]
        marks = ",".join("?" * len(chunk))
        names.update((str(b), str(n)) for b, n in cursor.execute(
            f"SELECT id, name FROM buyers WHERE id IN ({marks}) AND name != ''", chunk))
    return names
