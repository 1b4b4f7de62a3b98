"""Which shop policy is in force, and who applied each one (issue 10, point 7).

The policy text has one owner: the engine's input log (``engine_log``, kind ``policy``), where
every swap is logged with its time before it is applied (``console.server.driver``). The policy in
force is the last one logged, so a policy applied live (``fenliu policy apply``, the
``apply_policy`` request) is what the next start uses, unless ``fenliu server --policy FILE`` is
given again. This module reads that log and keeps, beside it, who applied each policy and how
(``policy_history``: the log's seq, an account or a command, and a source).
"""

from __future__ import annotations

from console.protocol.messages import AuditAction
from console.server.repository import policy as policy_sql
from console.server.repository.audit import AuditLog
from console.server.repository.policy import Applied
from console.server.store import Store


class PolicyLog:
    def __init__(self, store: Store) -> None:
        self.store = store

    def latest(self) -> Applied | None:
        """The policy in force (the last one logged), with who applied it."""
        return policy_sql.latest_policy(self.store)

    def history(self) -> list[Applied]:
        """Every policy applied, oldest first."""
        return policy_sql.policies(self.store)

    def record_latest(self, by: str, source: str) -> None:
        """Say who applied the policy just logged (in the same write batch as the swap), and put
        the apply in the audit log (issue 14)."""
        latest = self.latest()
        if latest is not None and not latest.by:
            policy_sql.record_applied_by(self.store, latest.seq, by, source)
            AuditLog(self.store).record(latest.at, by, AuditAction.POLICY, "", latest.digest, source)
