"""The SQL of a what-if's reading (issue 11): a day's engine inputs, the log's pruning mark and
the routing snapshots kept as rows (PostgreSQL), on a read-only connection of
``repository.reports.open_read_only``. Rebuilding and comparing are ``console.server.whatif``'s."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from console.sim.whatif import LogRow, Recorded


def _log_row(r: Any) -> LogRow:
    return LogRow(int(r["seq"]), float(r["at"]), str(r["kind"]), str(r["body"]))


def meta(db: Any) -> dict[str, str]:
    """The store's ``meta`` table, key -> value."""
    return {str(r["key"]): str(r["value"]) for r in db.execute("SELECT key, value FROM meta")}


def inputs_at(db: Any, start: float, end: float) -> list[LogRow]:
    """The engine inputs logged at times in [start, end), in order."""
    return [_log_row(r) for r in db.execute(
        "SELECT seq, at, kind, body FROM engine_log WHERE at >= ? AND at < ? ORDER BY seq", (start, end))]


def first_input_after(db: Any, seq: int) -> float | None:
    """The time of the first input logged after ``seq``."""
    after = db.execute("SELECT at FROM engine_log WHERE seq > ? ORDER BY seq LIMIT 1", (seq,)).fetchone()
    return None if after is None else float(after["at"])


def count_inputs_between(db: Any, after: int, before: int) -> int:
    """How many inputs are numbered in (after, before)."""
    return int(db.execute("SELECT COUNT(*) FROM engine_log WHERE seq > ? AND seq < ?", (after, before)).fetchone()[0])


def inputs_between(db: Any, after: int, before: int) -> Iterator[LogRow]:
    """The inputs numbered in (after, before), in order, read as they are used."""
    return (_log_row(r) for r in
            db.execute("SELECT seq, at, kind, body FROM engine_log WHERE seq > ? AND seq < ? ORDER BY seq",
                       (after, before)))


def snapshot_uptos(db: Any, lo: int, hi: int) -> list[int]:
    """The inputs in [lo, hi) a snapshot row was taken at (PostgreSQL), newest first."""
    return [int(r["upto"]) for r in db.execute(
        "SELECT upto FROM snapshots WHERE upto >= ? AND upto < ? ORDER BY upto DESC", (lo, hi)).fetchall()]


def snapshot_body(db: Any, upto: int) -> bytes:
    """The bytes of the snapshot row taken at ``upto`` (PostgreSQL)."""
    return bytes(db.execute("SELECT body FROM snapshots WHERE upto = ?", (upto,)).fetchone()["body"])


def recorded_decisions(db: Any, after: float, upto: float, *, from_start: bool) -> list[Recorded]:
    """The decisions recorded at times in (after, upto] ([after, upto] when ``from_start``), in order."""
    return [
        Recorded(str(r["buyer"]), str(r["event"]), str(r["target"]), str(r["why"]), str(r["rule"]),
                 float(r["at"]), r["previous"], r["position"], r["eta"])
        for r in db.execute(
            "SELECT buyer, event, target, why, rule, at, previous, position, eta FROM decisions"
            f" WHERE at {'>=' if from_start else '>'} ? AND at <= ? ORDER BY id", (after, upto))
    ]
