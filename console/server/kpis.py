"""The 接待数据 tiles (CONSOLE.md §3) for each agent and the team, kept live and pushed coalesced.

The arithmetic is ``console.reception.kpi``; this module feeds it. Today's accumulators (one per
agent, one for the team) follow receptions and order events as they happen; yesterday's are
built from the stored facts at start and at each local midnight of the shop's timezone, and again
for an agent when a wait that began yesterday is answered today. ``KpiBook`` reads no clock: times
are passed in.

``KpiPublisher`` pushes changed tiles at most once per ``PUSH_INTERVAL`` per agent (CONSOLE.md
§3: within a second of a change, coalesced) and the team view to supervisors.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from datetime import date, datetime
from functools import partial
from operator import itemgetter
from zoneinfo import ZoneInfo

from console.protocol.messages import KpisUpdated, TeamInfo, TeamUpdated
from console.reception.kpi import (
    RESPONSE_LIMIT,
    SATISFIED,
    Accumulator,
    BuyerTile,
    DayRange,
    OrderEvent,
    Reception,
    Wait,
    tiles,
)
from console.reception.model import KpiTiles
from console.server.hub import Hub
from console.server.repository import buyers as buyers_sql
from console.server.repository import kpis as kpis_sql
from console.server.store import Store

log = logging.getLogger(__name__)

PUSH_INTERVAL = 0.25  # seconds: at most four pushes a second per agent


COUNTED_KINDS = frozenset({"consumer", "merchant"})
"""Buyer kinds the reception tiles count (CONSOLE.md §1: not platform staff, not group chats)."""


class _Unknown:
    pass


_UNKNOWN = _Unknown()


def accumulate_today(
    day: DayRange, receptions: Iterable[Reception], orders: Iterable[OrderEvent]
) -> tuple[dict[str, Accumulator], Accumulator]:
    """Every agent's and the team's reception figures for ``day`` in one pass over the facts.

    The same figures as ``accumulate(agent, day, receptions, orders)`` for each agent and
    ``accumulate(None, ...)`` for the team. Orders are expected sorted by time.
    """
    rows = sorted(((r.agent, r.buyer, r.at) for r in receptions if r.at in day), key=itemgetter(2))
    return _today(rows, [(o.buyer, o.state, o.at) for o in orders if o.at in day])


def _today(
    receptions: list[tuple[str, str, float]], orders: list[tuple[str, str, float]]
) -> tuple[dict[str, Accumulator], Accumulator]:
    """``accumulate_today`` on plain tuples of the day: receptions sorted by time (so a buyer's
    first row is their first reception), orders too. Each accumulator gets its own first
    reception of each buyer, then that buyer's order events in time order (an order event only
    changes its own buyer, so per-buyer order is all that matters)."""
    agents: dict[str, Accumulator] = {}
    firsts: dict[str, dict[str, float]] = {}
    ordering = {buyer for buyer, _, _ in orders}
    buyer_agents: dict[str, list[str]] = {}  # only for buyers with order events
    for agent, buyer, at in receptions:
        mine = firsts.get(agent)
        if mine is None:
            acc = agents[agent] = Accumulator()
            mine = firsts[agent] = acc.buyers
        if buyer not in mine:
            mine[buyer] = at
            if buyer in ordering:
                buyer_agents.setdefault(buyer, []).append(agent)
    team = Accumulator()
    # the first row of each buyer holds their earliest time: fill in reverse, the first one wins
    team.buyers = dict(zip(reversed([r[1] for r in receptions]), reversed([r[2] for r in receptions]), strict=True))
    for buyer, state, at in orders:
        if buyer in team.buyers:
            for agent in buyer_agents.get(buyer, ()):
                agents[agent].order_changed(buyer, state, at)
            team.order_changed(buyer, state, at)
    return agents, team


def local_day(day: date, timezone: str) -> DayRange:
    """A local day of the shop's timezone as epoch seconds, midnight to midnight (DST-safe: the
    next midnight is the next date's, however long the day)."""
    zone = ZoneInfo(timezone)
    following = date.fromordinal(day.toordinal() + 1)
    return DayRange(datetime(day.year, day.month, day.day, tzinfo=zone).timestamp(),
                    datetime(following.year, following.month, following.day, tzinfo=zone).timestamp())


def day_of(at: float, timezone: str) -> DayRange:
    """The local day (shop timezone) holding ``at``."""
    return local_day(datetime.fromtimestamp(at, ZoneInfo(timezone)).date(), timezone)


def previous_day(day: DayRange, timezone: str) -> DayRange:
    return day_of(day.start - 1.0, timezone)


class KpiBook:
    """Per-agent and team accumulators for today and yesterday."""

    def __init__(self, store: Store, timezone: str, now: float) -> None:
        self.store = store
        self.timezone = timezone
        self.today = day_of(now, timezone)
        self.yesterday = previous_day(self.today, timezone)
        self.agents_today: dict[str, Accumulator] = {}
        self.agents_yesterday: dict[str, Accumulator] = {}
        self.team_today = Accumulator()
        self.team_yesterday = Accumulator()
        self.dirty: set[str] = set()
        self.team_dirty = False
        self.rebuild(now)

    # -- building from the facts ----------------------------------------------------------------

    def rebuild(self, now: float) -> None:
        """Recount everything for the day holding ``now`` (start, midnight, policy timezone swap).

        One pass over each day's facts, whatever the number of agents (it used to recount the
        day once per agent: 10.8 s at start and at midnight with 100,000 buyers and 500 agents)."""
        self.today = day_of(now, self.timezone)
        self.yesterday = previous_day(self.today, self.timezone)
        before = set(self.agents_today) | set(self.agents_yesterday)  # their tiles may go back to "-"
        # CONSOLE.md §1, §3: only consumers and merchants are counted
        receptions = kpis_sql.counted_receptions(self.store, self.today.start, self.today.end)
        orders = kpis_sql.order_events(self.store, self.today.start, self.today.end)
        self.agents_today, self.team_today = _today(receptions, orders)
        self.agents_yesterday, self.team_yesterday = self._quality()
        self.dirty |= before | set(self.agents_today) | set(self.agents_yesterday)
        self.team_dirty = True

    def _quality(self) -> tuple[dict[str, Accumulator], Accumulator]:
        """Yesterday's rating and response figures by agent and for the team, counted by SQLite.

        The same figures as ``accumulate`` once per agent (and for the team) over yesterday's
        ratings and waits, aggregated in the database: the midnight roll reads a row per agent
        instead of every rating and wait of the day (0.8 s with 100,000 of each)."""
        day = (self.yesterday.start, self.yesterday.end)
        agents: dict[str, Accumulator] = {}
        for agent_id, count, satisfied in kpis_sql.ratings_by_agent(self.store, SATISFIED, *day):
            acc = agents.setdefault(agent_id, Accumulator())
            acc.ratings, acc.satisfied = count, satisfied
        for agent_id, count, answered, seconds, fast in kpis_sql.waits_by_agent(self.store, RESPONSE_LIMIT, *day):
            acc = agents.setdefault(agent_id, Accumulator())
            acc.waits, acc.answered, acc.answer_seconds, acc.fast = count, answered, seconds, fast or 0
        team = Accumulator()
        for acc in agents.values():
            team.ratings += acc.ratings
            team.satisfied += acc.satisfied
            team.waits += acc.waits
            team.answered += acc.answered
            team.answer_seconds += acc.answer_seconds
            team.fast += acc.fast
        return agents, team

    def roll_if_needed(self, now: float) -> bool:
        """Midnight: start a new day (True when it did)."""
        if now < self.today.end:
            return False
        self.rebuild(now)
        return True

    # -- live facts -----------------------------------------------------------------------------

    def reception(self, agent: str, buyer: str, at: float, kind: str | None = None) -> None:
        """``agent`` received ``buyer`` at ``at``; ``kind``: the buyer's, when the caller has it
        (the shop's row does: no look-up per reception, issue 9)."""
        self.roll_if_needed(at)
        if not (kind in COUNTED_KINDS if kind is not None else self._counted(buyer)):
            return  # platform staff and group chats are not receptions of the tiles (CONSOLE.md §1)
        self.agents_today.setdefault(agent, Accumulator()).add_reception(buyer, at)
        self.team_today.add_reception(buyer, at)
        self.dirty.add(agent)
        self.team_dirty = True

    def _counted(self, buyer: str) -> bool:
        kind = buyers_sql.buyer_kind(self.store, buyer)
        return kind is None or kind in COUNTED_KINDS

    def order(self, buyer: str, state: str, at: float) -> None:
        self.roll_if_needed(at)
        if buyer not in self.team_today.buyers:
            return  # nobody received them today
        # the agents who received them today: a look-up per agent, for an order event (rarer than
        # receptions; a map kept per buyer cost a set per reception at start)
        for agent, acc in self.agents_today.items():
            if buyer in acc.buyers:
                acc.order_changed(buyer, state, at)
                self.dirty.add(agent)
        self.team_today.order_changed(buyer, state, at)
        self.team_dirty = True

    def wait_answered(self, agent: str, started: float, *, answered: float | None = None,
                      previous: str | None | _Unknown = _UNKNOWN) -> None:
        """A wait that began yesterday was answered today: yesterday's figures change.

        With ``answered`` (the answer's time) and ``previous`` (who the open wait was counted
        for, None for nobody) the change is applied in place; without them the agent's and the
        team's figures are recounted from the database (a scan of yesterday's waits)."""
        if not self.yesterday.start <= started < self.yesterday.end:
            return
        if answered is None or isinstance(previous, _Unknown):
            self.agents_yesterday, self.team_yesterday = self._quality()
        else:
            wait = Wait(agent, started, answered)
            if previous is not None:  # it was counted, unanswered, for ``previous``: take it out
                for acc in (self.agents_yesterday.get(previous), self.team_yesterday):
                    if acc is not None:
                        acc.waits -= 1
                self.dirty.add(previous)
            for acc in (self.agents_yesterday.setdefault(agent, Accumulator()), self.team_yesterday):
                acc.add_wait(wait)
        self.dirty.add(agent)
        self.team_dirty = True

    # -- reading --------------------------------------------------------------------------------

    def tiles(self, agent: str) -> KpiTiles:
        return tiles(self.agents_today.get(agent, Accumulator()), self.agents_yesterday.get(agent))

    def team_tiles(self) -> KpiTiles:
        return tiles(self.team_today, self.team_yesterday)

    def buyer_list(self, agent: str, tile: str) -> list[str]:
        return self.agents_today.get(agent, Accumulator()).buyer_list(BuyerTile(tile))


def _kpis_event(kpis: KpiTiles, seq: int) -> KpisUpdated:
    return KpisUpdated(seq=seq, kpis=kpis)


def _team_event(team: TeamInfo, seq: int) -> TeamUpdated:
    return TeamUpdated(seq=seq, team=team)


class KpiPublisher:
    """Coalesced pushes: changed agent tiles, and the team view for connected supervisors."""

    def __init__(self, book: KpiBook, hub: Hub, team: Callable[[], TeamInfo]) -> None:
        self.book = book
        self.hub = hub
        self.team = team
        self._sent: dict[str, KpiTiles] = {}
        self._team_sent: TeamInfo | None = None
        self._handle: asyncio.TimerHandle | None = None
        self.team_changed = False  # status, load or queues moved (set by the shop)

    def poke(self) -> None:
        """Something may have changed: push within PUSH_INTERVAL (one timer for everything)."""
        if self._handle is None:
            self._handle = asyncio.get_running_loop().call_later(PUSH_INTERVAL, self.flush)

    def flush(self) -> None:
        self._handle = None
        dirty, self.book.dirty = self.book.dirty, set()
        for agent in sorted(dirty):
            current = self.book.tiles(agent)
            if self._sent.get(agent) != current:
                self._sent[agent] = current
                self.hub.push(agent, partial(_kpis_event, current))
        if self.book.team_dirty or self.team_changed:
            self.book.team_dirty = self.team_changed = False
            supervisors = self.hub.supervisor_ids()
            if supervisors:
                info = self.team()
                if info != self._team_sent:
                    self._team_sent = info
                    for agent in supervisors:
                        self.hub.push(agent, partial(_team_event, info))

    def sent(self, agent: str, tiles_now: KpiTiles) -> None:
        """A snapshot or answer carried these tiles: no need to push them again."""
        self._sent[agent] = tiles_now

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
