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

The SQL (``AuditLog``, ``read_audit``, ``opening_statuses``, ``buyer_names``) is in
``console.server.repository.audit``, imported from there; this module keeps who ``by`` is and the
names an entry is shown with.
"""

from __future__ import annotations

import getpass
from collections.abc import Sequence

from console.protocol.messages import AuditAction, AuditEntry
from console.routing.policy import Policy

SYSTEM = "system"
"""``by`` for what the server does itself: R3.4's grace period, a revoked console going offline."""


def command_user(command: str) -> str:
    """``by`` for a change made by a command-line tool: the command and who ran it."""
    try:
        user = getpass.getuser()
    except (OSError, KeyError):  # no user name in the environment or the password database
        user = "?"
    return f"{command} ({user})"


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
