"""The SQL of the day's report (console.reception.report): one day of a shop's database, read.

The database is opened read-only: a report can run beside a live server and never changes
anything. On SQLite the data folder's file (``mode=ro``: WAL readers never block the writer); on
PostgreSQL the shop's schema (``PgShop``: the URL and the shop's name, picklable for a worker
process) on a connection of its own, in a read-only session whose transactions are
``REPEATABLE READ``, so one ``BEGIN`` gives one consistent view, as SQLite's read transaction does
(issue 15). The same SQL runs on both (pgstore.py's dialect layer). The shop's timezone and agents
come from the policy in force: the newest one in the engine log, or one given by the caller.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any, NamedTuple

import psycopg

from console.reception.kpi import DayRange, Reception
from console.reception.report import (
    DayRecords,
    DecisionRecord,
    MessageRecord,
    OrderRecord,
    RatingRecord,
    WaitRecord,
)
from console.routing.policy import Policy, load_policy_toml
from console.server.store import DB_NAME

# Sessions that began on the day may have started their decisions up to this long before
# midnight (a buyer queued late the evening before is a conversation of the day before); and the
# records of the day's sessions reach past its end (a close, a late rating) by up to this long.
MARGIN_S = 2 * 86400.0


class ReportError(Exception):
    """The folder cannot be read for a report (said in words, for the command line)."""


DB_ERRORS: tuple[type[Exception], ...] = (sqlite3.DatabaseError, psycopg.Error)
"""What reading either store may raise for a database it cannot read."""


class PgShop(NamedTuple):
    """A shop on PostgreSQL, for a reader of its own (any thread or process)."""

    url: str
    shop: str

    def __str__(self) -> str:
        from console.server.pgstore import redact

        return f"{redact(self.url)} (shop {self.shop})"


Where = Path | PgShop
"""Where a shop's database is: the SQLite data folder, or the shop on PostgreSQL."""


def where_of(store: Any) -> Where:
    """The database of an open store, for readers of their own (the room's worker processes)."""
    if getattr(store, "dialect", "sqlite") == "postgresql":
        return PgShop(store.url, store.shop)
    return Path(store.path).parent


def open_read_only(where: Where) -> Any:
    """A read-only connection (``execute``, rows by column name, ``close``) to a shop's database."""
    if isinstance(where, PgShop):
        return _open_pg(where)
    return _open_sqlite(where)


def _open_pg(where: PgShop) -> Any:
    from console.server.pgstore import Connection, connect, schema_of
    from console.server.store import StoreError

    try:
        raw = connect(where.url, schema_of(where.shop))
    except StoreError as exc:
        raise ReportError(str(exc)) from None
    try:
        raw.execute("SET default_transaction_read_only = on")
        raw.execute("SET default_transaction_isolation = 'repeatable read'")
        exists = raw.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema_of(where.shop),)).fetchone()
        if exists is None:
            raise ReportError(f"没有店铺 {where.shop!r} / no shop {where.shop!r} in {where}")
        raw.execute("SELECT 1 FROM decisions LIMIT 1")
    except psycopg.Error as exc:
        raw.close()
        raise ReportError(f"无法读取 / cannot read {where}: {str(exc).strip()}") from None
    except BaseException:
        raw.close()
        raise
    return Connection(raw)


def _open_sqlite(data_dir: Path) -> sqlite3.Connection:
    path = data_dir / DB_NAME
    if not path.is_file():
        raise ReportError(f"没有找到数据库 {path}(用 --data 指定服务器的数据目录)/ no database at {path} "
                          "(give the server's data folder with --data)")
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        db.row_factory = sqlite3.Row
        db.execute("SELECT 1 FROM decisions LIMIT 1")
    except sqlite3.DatabaseError as exc:
        raise ReportError(f"无法读取数据库 {path}: {exc} / cannot read the database {path}: {exc}") from None
    return db


def policy_in_force(db: Any) -> Policy | None:
    """The newest policy the server logged, or None on a folder that never served."""
    row = db.execute("SELECT body FROM engine_log WHERE kind = 'policy' ORDER BY seq DESC LIMIT 1").fetchone()
    return load_policy_toml(str(row["body"])) if row is not None else None


def _decisions(db: Any, lo: float, hi: float) -> list[DecisionRecord]:
    return [
        DecisionRecord(buyer=r["buyer"], event=r["event"], target=r["target"], why=r["why"], rule=r["rule"],
                       at=float(r["at"]))
        for r in db.execute("SELECT buyer, event, target, why, rule, at FROM decisions WHERE at >= ? AND at < ?"
                            " ORDER BY id", (lo, hi))
    ]


def _waits(db: Any, lo: float, hi: float) -> list[WaitRecord]:
    return [
        WaitRecord(buyer=r["buyer"], agent=r["agent"], started=float(r["started"]),
                   answered=None if r["answered"] is None else float(r["answered"]))
        for r in db.execute("SELECT buyer, agent, started, answered FROM waits WHERE started >= ? AND started < ?"
                            " ORDER BY id", (lo, hi))
    ]


def _agents(policy: Policy | None) -> list[tuple[str, str]]:
    return [(a.id, a.name) for a in policy.agents] if policy is not None else []


def read_routing_day(db: Any, day: DayRange, policy: Policy | None) -> DayRecords:
    """Only what the day in pictures uses (``console.reception.day_charts``): the decisions, the
    waits and the agents, over the same window as ``read_day``; the other records stay empty.
    The day's messages are most of a day's rows: not reading them is most of the saving."""
    lo, hi = day.start - MARGIN_S, day.end + MARGIN_S
    return DayRecords(day=day, decisions=_decisions(db, lo, hi), messages=[], ratings=[], waits=_waits(db, lo, hi),
                      orders=[], receptions=[], buyer_names={}, agents=_agents(policy))


def read_day(db: Any, day: DayRange, policy: Policy | None) -> DayRecords:
    """Every record the day's report needs (with a margin on both sides, see ``MARGIN_S``)."""
    lo, hi = day.start - MARGIN_S, day.end + MARGIN_S
    decisions = _decisions(db, lo, hi)
    messages = [
        MessageRecord(buyer=r["conversation"], author=r["author"], at=float(r["at"]), agent=r["agent"])
        for r in db.execute("SELECT conversation, author, at, agent FROM messages WHERE at >= ? AND at < ?"
                            " ORDER BY id", (lo, hi))
    ]
    ratings = [
        RatingRecord(buyer=r["buyer"], agent=r["agent"], score=int(r["score"]), at=float(r["at"]))
        for r in db.execute("SELECT buyer, agent, score, at FROM ratings WHERE at >= ? AND at < ? ORDER BY id",
                            (lo, hi))
    ]
    waits = _waits(db, lo, hi)
    orders = [
        OrderRecord(buyer=r["buyer"], state=r["state"], at=float(r["at"]))
        for r in db.execute("SELECT buyer, state, at FROM order_events WHERE at >= ? AND at < ? ORDER BY id",
                            (lo, hi))
    ]
    receptions = [
        Reception(agent=r["agent"], buyer=r["buyer"], at=float(r["at"]))
        for r in db.execute("SELECT agent, buyer, at FROM receptions WHERE at >= ? AND at < ? ORDER BY id",
                            (day.start, day.end))
    ]
    names = {str(r["id"]): str(r["name"]) for r in db.execute(
        "SELECT id, name FROM buyers WHERE id IN (SELECT buyer FROM decisions WHERE at >= ? AND at < ?)", (lo, hi))}
    agents = _agents(policy)
    return DayRecords(day=day, decisions=decisions, messages=messages, ratings=ratings, waits=waits, orders=orders,
                      receptions=receptions, buyer_names=names, agents=agents)
