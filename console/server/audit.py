"""The audit log (issue 14, CONSOLE.md §7): who changed what, when, kept in the database.

One table, ``audit`` (schema 6). ``AuditLog.record`` writes a row through the store's current
batch, so it is in the same transaction as the change it records: inside a request, the request's
savepoint (``Shop.atomic``) takes it back with the change when the request is refused; in a
command-line tool (``fenliu accounts``), the one ``flush`` that commits the change commits the row.

What is recorded: status changes (by the agent, or ``system`` for R3.4's grace period and a
revoked console), transfers (by the holder or a supervisor), sessions closed by a supervisor,
policy applies, account changes. A status entry's time is the engine's ``status_since`` for that
change (the logged input's time), so a shift timeline drawn from these rows is exact across
restarts and agrees with the room's "for how long" column: one time, two readers.

``read_audit`` and ``opening_statuses`` take a plain connection, so ``fenliu report`` reads the
same rows from a read-only connection beside a live server.
"""

from __future__ import annotations

import getpass
import sqlite3
from collections.abc import Sequence
from typing import Any

from console.protocol.messages import AuditAction, AuditEntry
from console.routing.policy import Policy
from console.server.store import Store

SYSTEM = "system"
"""``by`` for what the server does itself: R3.4's grace period, a revoked console going offline."""
_COLUMNS = "id, at, by, action, subject, value, previous"


def _entry(row: Sequence[Any]) -> AuditEntry:
    id_, at, by, action, subject, value, previous = row
    return AuditEntry(id=int(id_), at=float(at), by=str(by), action=AuditAction(str(action)), subject=str(subject),
                      value=str(value), previous=str(previous))


def command_user(command: str) -> str:
    """``by`` for a change made by a command-line tool: the command and who ran it."""
    try:
        user = getpass.getuser()
    except (OSError, KeyError):  # no user name in the environment or the password database
        user = "?"
    return f"{command} ({user})"


class AuditLog:
    """Writes audit rows in the store's current batch."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def record(self, at: float, by: str, action: AuditAction, subject: str, value: str = "",
               previous: str = "") -> None:
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


def group_names(entries: Sequence[AuditEntry], policy: Policy | None) -> dict[str, str]:
    """The names of the groups ``entries`` transfer to (the policy in force), keyed by id."""
    if policy is None:
        return {}
    wanted = {e.value.removeprefix("group:") for e in entries
              if e.action is AuditAction.TRANSFER and e.value.startswith("group:")}
    return {g.id: g.name for g in policy.groups if g.id in wanted and g.name}


def agent_names(policy: Policy | None) -> dict[str, str]:
    """The agents' display names (the policy in force: their one owner), keyed by account id."""
    return {} if policy is None else {a.id: a.name for a in policy.agents if a.name}
