"""The SQL of the policies applied: the ``policy`` entries of the engine's input log, and who
applied each (``policy_history``). Which one is in force is ``console.server.policy_log``'s."""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass

from console.server.store import Store


@dataclass(frozen=True, slots=True)
class Applied:
    seq: int  # the engine_log entry holding the text
    at: float  # epoch seconds
    text: str
    by: str  # an account id, or the command that started the server ("" when not recorded)
    source: str  # "apply_policy", a file path

    @property
    def digest(self) -> str:
        """A short hash of the policy text (what the audit log shows)."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()[:12]


def _applied(row: sqlite3.Row) -> Applied:
    return Applied(seq=int(row["seq"]), at=float(row["at"]), text=str(row["body"]), by=str(row["by"]),
                   source=str(row["source"]))

_SELECT = ("SELECT l.seq, l.at, l.body, COALESCE(h.by, '') AS by, COALESCE(h.source, '') AS source "
           "FROM engine_log l LEFT JOIN policy_history h ON h.seq = l.seq WHERE l.kind = 'policy'")


def latest_policy(store: Store) -> Applied | None:
    """The last policy logged, with who applied it."""
    row = store.one(_SELECT + " ORDER BY l.seq DESC LIMIT 1")
    return None if row is None else _applied(row)


def policies(store: Store) -> list[Applied]:
    """Every policy logged, with who applied it, oldest first."""
    return [_applied(row) for row in store.all(_SELECT + " ORDER BY l.seq")]


def record_applied_by(store: Store, seq: int, by: str, source: str) -> None:
    """Say who applied the policy logged at ``seq``, and how (kept if already said)."""
    store.execute("INSERT OR IGNORE INTO policy_history (seq, by, source) VALUES (?, ?, ?)", (seq, by, source))
