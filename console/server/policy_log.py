"""Which shop policy is in force, and who applied each one (issue 10, point 7).

The policy text has one owner: the engine's input log (``engine_log``, kind ``policy``), where
every swap is logged with its time before it is applied (``console.server.driver``). The policy in
force is the last one logged, so a policy applied live (``fenliu policy apply``, the
``apply_policy`` request) is what the next start uses, unless ``fenliu server --policy FILE`` is
given again. This module reads that log and keeps, beside it, who applied each policy and how
(``policy_history``: the log's seq, an account or a command, and a source).
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass

from console.protocol.messages import AuditAction
from console.server.audit import AuditLog
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
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()[:12]


_SELECT = ("SELECT l.seq, l.at, l.body, COALESCE(h.by, '') AS by, COALESCE(h.source, '') AS source "
           "FROM engine_log l LEFT JOIN policy_history h ON h.seq = l.seq WHERE l.kind = 'policy'")


def _applied(row: sqlite3.Row) -> Applied:
    return Applied(seq=int(row["seq"]), at=float(row["at"]), text=str(row["body"]), by=str(row["by"]),
                   source=str(row["source"]))


class PolicyLog:
    def __init__(self, store: Store) -> None:
        self.store = store

    def latest(self) -> Applied | None:
        """The policy in force (the last one logged), with who applied it."""
        row = self.store.one(_SELECT + " ORDER BY l.seq DESC LIMIT 1")
        return None if row is None else _applied(row)

    def history(self) -> list[Applied]:
        """Every policy applied, oldest first."""
        return [_applied(row) for row in self.store.all(_SELECT + " ORDER BY l.seq")]

    def record_latest(self, by: str, source: str) -> None:
        """Say who applied the policy just logged (in the same write batch as the swap), and put
        the apply in the audit log (issue 14)."""
        latest = self.latest()
        if latest is not None and not latest.by:
            self.store.execute("INSERT OR IGNORE INTO policy_history (seq, by, source) VALUES (?, ?, ?)",
                               (latest.seq, by, source))
            AuditLog(self.store).record(latest.at, by, AuditAction.POLICY, "", latest.digest, source)
