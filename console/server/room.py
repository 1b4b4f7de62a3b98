"""What the supervisors' room reads (issue 14): the team, a pool's buyers, an agent's sessions, the
day's report and audit log, and whom a transfer can go to. ``Room``.

Read-only: nothing here writes, feeds the engine or pushes (the requests that change things are
``Shop``'s). It reads the shop's own facts through the shop (the engine, the rows, the KPI book,
the policy, the store), never a copy of them: a rebuild after a lost batch replaces them there, and
the room reads the new ones. Each endpoint request calls one method; the KPI publisher asks
``team`` for what it pushes as ``team_updated``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from console.protocol.messages import (
    AgentRow,
    AuditEntry,
    AuditLog,
    Colleague,
    DayReport,
    GroupTarget,
    QueuedBuyer,
    QueueRow,
    TeamInfo,
)
from console.reception.report import agent_rows, conversation_rows
from console.routing.policy import Policy
from console.server.audit import group_names
from console.server.conversations import Row
from console.server.kpis import local_day
from console.server.repository.audit import buyer_names, opening_statuses, read_audit
from console.server.repository.reports import read_day

if TYPE_CHECKING:
    from console.server.shop import Shop


def day_report(db: Any, rid: str | None, day: date, policy: Policy, agent_names: dict[str, str]) -> DayReport:
    """A local day's report rows from ``db`` (the room's worker's read-only connection: what is
    committed); the arithmetic is ``console.reception.report``'s. The day's audit log comes with
    them (the report's third sheet), with the buyers' names it shows. A busy 8-hour day is one to
    two seconds of CPU (docs/BENCHMARKS.md, "The room's day in pictures"), which the event loop
    must not spend: the export of a supervisor at a peak held every request of the shop that long."""
    span = local_day(day, policy.timezone)
    records = read_day(db, span, policy)
    conversations = conversation_rows(records)
    audit = read_audit(db, span.start, span.end)
    return DayReport(rid=rid, day=day.isoformat(), timezone=policy.timezone, conversations=conversations,
                     agents=agent_rows(records, conversations), audit=audit, agent_names=agent_names,
                     buyers=buyer_names(db, audit))


class Room:
    """The room's read-only queries over one shop's live state."""

    def __init__(self, shop: Shop) -> None:
        self.shop = shop

    def colleagues(self, asker: str) -> tuple[list[Colleague], list[GroupTarget]]:
        """Whom ``asker`` can transfer to: every other agent of the policy with status and load,
        and the groups (the implicit whole-shop group is not one)."""
        engine, policy = self.shop.driver.engine, self.shop.policy
        assert engine is not None
        agents = []
        for spec in policy.agents:
            if spec.id == asker:
                continue
            view = engine.agent(spec.id)
            agents.append(Colleague(id=spec.id, name=spec.name, status=view.status, load=view.load, cap=view.cap,
                                    groups=list(spec.groups)))
        queuing = set(policy.queuing_group_ids())
        groups = [GroupTarget(id=g.id, name=g.name or g.id, queues=g.id in queuing) for g in policy.groups]
        return agents, groups

    def team(self) -> TeamInfo:
        """The room's team: each agent's status, load, tiles and oldest unanswered message, the
        queues (R10.4) and the message pool (R6.1), the shop's tiles."""
        shop = self.shop
        engine, kpis, rows, policy = shop.driver.engine, shop.kpis, shop.rows, shop.policy
        assert engine is not None and kpis is not None
        agents = []
        now = shop.driver.now()
        for spec in policy.agents:
            view = engine.agent(spec.id)
            waiting = [r.waiting_since for r in rows.held_by(spec.id) if r.waiting_since is not None]
            agents.append(AgentRow(
                id=spec.id, name=spec.name, status=view.status, load=view.load, cap=view.cap,
                saturation=view.saturation if view.cap else None, kpis=kpis.tiles(spec.id),
                status_since=view.status_since, waiting_since=min(waiting, default=None),
            ))
        names = {g.id: g.name for g in policy.groups if g.name}
        queues = [
            QueueRow(pool=q.pool, length=q.length, longest_wait=q.longest_wait if q.length else None, eta=q.eta,
                     name=names.get(q.pool.removeprefix("queue:"), "") if q.pool != "queue:shop" else "")
            for q in engine.queues()
        ]
        pool = rows.in_pool()
        if pool:
            oldest = min((r.waiting_since for r in pool if r.waiting_since is not None), default=None)
            queues.append(QueueRow(pool="pool", length=len(pool), longest_wait=None if oldest is None else now - oldest,
                                   eta=None))
        return TeamInfo(kpis=kpis.team_tiles(), agents=agents, queues=queues)

    def queue_buyers(self, pool: str) -> list[QueuedBuyer]:
        """A pool's buyers in order (the room's queue list): an engine queue (R10.4) by position,
        the message pool (R6.1) by its oldest unanswered message. KeyError: no such pool."""
        shop = self.shop
        engine = shop.driver.engine
        assert engine is not None
        now = shop.driver.now()
        if pool == "pool":
            waiting = sorted(shop.rows.in_pool(), key=lambda r: (r.waiting_since is None, r.waiting_since or 0.0,
                                                                 r.buyer))
            return [QueuedBuyer(id=r.buyer, name=r.name, position=i,
                                waited=0.0 if r.waiting_since is None else max(0.0, now - r.waiting_since))
                    for i, r in enumerate(waiting, start=1)]
        if pool not in {q.pool for q in engine.queues()}:
            raise KeyError(pool)
        buyers = []
        for entry in engine.queue_entries(pool):
            row = shop.rows.get(entry.buyer)
            buyers.append(QueuedBuyer(id=entry.buyer, name=row.name if row is not None else entry.buyer,
                                      position=entry.position, waited=max(0.0, now - entry.joined), eta=entry.eta))
        return buyers

    def held_by(self, agent: str) -> list[Row]:
        """An agent's open sessions (the room's agent list). KeyError: no such agent."""
        if agent not in self.shop.staff.everyone:
            raise KeyError(agent)
        return self.shop.rows.held_by(agent)

    def local_date(self, day: date | None) -> date:
        """``day``, or today in the shop's timezone."""
        if day is not None:
            return day
        return datetime.fromtimestamp(self.shop.driver.now(), ZoneInfo(self.shop.policy.timezone)).date()

    def audit_log(self, rid: str | None, day: date | None, after: int | None, limit: int) -> AuditLog:
        """A local day's audit entries after ``after`` (at most ``limit``; ``more``: more remain),
        and, on a first ask (``after`` None), each agent's last status before the day."""
        shop = self.shop
        day = self.local_date(day)
        span = local_day(day, shop.policy.timezone)
        entries = read_audit(shop.store.db, span.start, span.end, after=after, limit=limit + 1)
        opening = opening_statuses(shop.store.db, span.start) if after is None else []
        buyers, groups = self._names(entries[:limit])
        return AuditLog(rid=rid, day=day.isoformat(), timezone=shop.policy.timezone, entries=entries[:limit],
                        opening=opening, more=len(entries) > limit, now=shop.driver.now(), buyers=buyers,
                        groups=groups)

    def _names(self, entries: Sequence[AuditEntry]) -> tuple[dict[str, str], dict[str, str]]:
        """The names the room shows for ``entries``' buyers (the buyers table) and for the groups
        of transfers to a group (the policy in force), keyed by id."""
        return buyer_names(self.shop.store.db, entries), group_names(entries, self.shop.policy)
