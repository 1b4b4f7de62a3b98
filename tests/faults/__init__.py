"""The fault harness: the real server in a child process, and the fault scenarios run against it.

One set of scenario functions, two users: the reliability tests (``tests/reliability``) run each
with a handful of faults inside ``make test``; ``bench/faults.py`` runs the same functions with
many more (50 kills, 1,000 drops, ...) and prints their figures (docs/RELIABILITY.md). So the
suite and the long run check exactly the same guarantees.

- ``process``: ``ServerProcess`` (``fenliu server``, or the ``serve`` launcher for settings the
  command line does not offer) and the raw protocol helpers (fresh snapshots, bare consoles,
  comparing a console's view with the server's).
- ``crash``, ``consoles``, ``midnight``: the scenarios; each returns a figures object whose
  ``line()`` is the bench's JSON line.
"""

from tests.faults.consoles import disconnects, drop_policy, stuck, vanish
from tests.faults.crash import crash
from tests.faults.midnight import midnight
from tests.faults.process import PASSWORD, RawConsole, ServerProcess, agent_client, fresh_snapshot, noon_zone

# Figures that must be 0 in every scenario's line (the bench exits 1 otherwise).
MUST_BE_ZERO = ("lost", "duplicated", "order_violations", "moved_back", "lost_decisions", "why_mismatches",
                "kpi_mismatches", "view_mismatches", "holder_mismatches", "server_tracebacks", "replay_refusals",
                "event_repeats", "event_gaps", "stuck_buyers", "wrongly_moved", "outcome_missing", "goal_missed",
                "wrong_tiles")

__all__ = [
    "MUST_BE_ZERO", "PASSWORD", "RawConsole", "ServerProcess", "agent_client", "crash", "disconnects", "drop_policy",
    "fresh_snapshot", "midnight", "noon_zone", "stuck", "vanish",
]
