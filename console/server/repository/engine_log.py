"""The SQL of the engine's input log (``engine_log``): numbered inputs, replayed after a snapshot,
pruned once snapshots cover them. Numbering, snapshots and replay are ``console.server.driver``'s."""

from __future__ import annotations

from console.server.repository.reception import Record
from console.server.store import Store

_LOG_INPUT = "INSERT INTO engine_log (seq, at, kind, body) VALUES (?, ?, ?, ?)"


def log_input(store: Store, seq: int, at: float, kind: str, body: str | bytes) -> None:
    """Log an input now, in the current batch (a policy: ``policy_log`` reads it back at once)."""
    store.execute(_LOG_INPUT, (seq, at, kind, body))


def append_input(store: Store, seq: int, at: float, kind: str, body: str | bytes) -> None:
    """Log an input with the batch's appended rows (one statement at its commit, ``Store.append``)."""
    store.append(_LOG_INPUT, (seq, at, kind, body))


def inputs_after(store: Store, seq: int) -> list[Record]:
    """(seq, at, kind, body) of every input after ``seq``, in order."""
    return store.all("SELECT seq, at, kind, body FROM engine_log WHERE seq > ? ORDER BY seq", (seq,))


def last_seq(store: Store) -> int:
    """The highest number the log holds (0 when empty)."""
    row = store.one("SELECT MAX(seq) AS seq FROM engine_log")
    return int(row["seq"]) if row is not None and row["seq"] is not None else 0


def prune_inputs(store: Store, upto: int) -> None:
    """Delete the inputs up to ``upto``, except policy swaps (the record of the policy in force)."""
    store.execute("DELETE FROM engine_log WHERE seq <= ? AND kind != 'policy'", (upto,))
