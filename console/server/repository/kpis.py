"""The SQL of the KPI tiles (CONSOLE.md §1, §3): a day's receptions and order events, and
yesterday's ratings and waits aggregated per agent. The counting is ``console.server.kpis``'s."""

from __future__ import annotations

from typing import Any

from console.server.store import Store


def counted_receptions(store: Store, start: float, end: float) -> list[tuple[str, str, float]]:
    """(agent, buyer, at) of the receptions in [start, end) of consumers and merchants, in order."""
    return store.tuples(
        # CONSOLE.md §1, §3: only consumers and merchants are counted (a buyer with no
        # account row yet is a consumer, as the directory makes it on first contact)
        "SELECT r.agent, r.buyer, r.at FROM receptions r LEFT JOIN buyers b ON b.id = r.buyer"
        " WHERE r.at >= ? AND r.at < ? AND coalesce(b.kind, 'consumer') IN ('consumer', 'merchant')"
        " ORDER BY r.at, r.id",
        (start, end),
    )


def order_events(store: Store, start: float, end: float) -> list[tuple[str, str, float]]:
    """(buyer, state, at) of the order events in [start, end), in order."""
    return store.tuples("SELECT buyer, state, at FROM order_events WHERE at >= ? AND at < ? ORDER BY at, id",
                        (start, end))


def ratings_by_agent(store: Store, satisfied: int, start: float, end: float) -> list[tuple[Any, ...]]:
    """(agent, ratings, ratings >= ``satisfied``) per agent, of the ratings in [start, end)."""
    return store.tuples(
        "SELECT agent, count(*), sum(score >= ?) FROM ratings WHERE agent IS NOT NULL AND at >= ? AND at < ?"
        " GROUP BY agent", (satisfied, start, end))


def waits_by_agent(store: Store, limit: float, start: float, end: float) -> list[tuple[Any, ...]]:
    """(agent, waits, answered, seconds to answer, answered under ``limit``) per agent, of the
    waits started in [start, end)."""
    return store.tuples(
        "SELECT agent, count(*), count(answered), total(answered - started), sum(answered - started < ?)"
        " FROM waits WHERE agent IS NOT NULL AND started >= ? AND started < ? GROUP BY agent",
        (limit, start, end))
