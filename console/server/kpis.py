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
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from console.protocol.messages import KpisUpdated, TeamInfo, TeamUpdated
from console.reception.kpi import (
    Accumulator,
    BuyerTile,
    DayRange,
    OrderEvent,
    Rating,
    Reception,
    Wait,
    accumulate,
    tiles,
)
from console.reception.model import KpiTiles
from console.server.hub import Hub
from console.server.store import Store

log = logging.getLogger(__name__)

PUSH_INTERVAL = 0.25  # seconds: at most four pushes a second per agent


def day_of(at: float, timezone: str) -> DayRange:
    """The local day (shop timezone) holding ``at``; DST-safe (midnight to next midnight)."""
    zone = ZoneInfo(timezone)
    local = datetime.fromtimestamp(at, zone)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    following = (midnight + timedelta(days=1, hours=3)).replace(hour=0)  # jump past DST shifts
    return DayRange(midnight.timestamp(), following.timestamp())


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
        self.buyer_agents: dict[str, set[str]] = {}  # buyer -> agents who received them today
        self.dirty: set[str] = set()
        self.team_dirty = False
        self.rebuild(now)

    # -- building from the facts ----------------------------------------------------------------

    def rebuild(self, now: float) -> None:
        """Recount everything for the day holding ``now`` (start, midnight, policy timezone swap)."""
        self.today = day_of(now, self.timezone)
        self.yesterday = previous_day(self.today, self.timezone)
        receptions = [
            Reception(str(r["agent"]), str(r["buyer"]), float(r["at"]))
            for r in self.store.all(
                "SELECT agent, buyer, at FROM receptions WHERE at >= ? AND at < ? ORDER BY at, id",
                (self.today.start, self.today.end),
            )
        ]
        orders = [
            OrderEvent(str(r["buyer"]), str(r["state"]), float(r["at"]))
            for r in self.store.all(
                "SELECT buyer, state, at FROM order_events WHERE at >= ? AND at < ? ORDER BY at, id",
                (self.today.start, self.today.end),
            )
        ]
        agents = {r.agent for r in receptions}
        self.agents_today = {a: accumulate(a, self.today, receptions, orders) for a in agents}
        self.team_today = accumulate(None, self.today, receptions, orders)
        self.buyer_agents = {}
        for r in receptions:
            self.buyer_agents.setdefault(r.buyer, set()).add(r.agent)
        ratings, waits = self._quality_facts()
        quality_agents = {g.agent for g in ratings} | {w.agent for w in waits if w.agent is not None}
        self.agents_yesterday = {
            a: accumulate(a, self.yesterday, ratings=ratings, waits=waits) for a in quality_agents
        }
        self.team_yesterday = accumulate(None, self.yesterday, ratings=ratings, waits=waits)
        self.dirty |= agents | quality_agents | set(self.agents_today) | set(self.agents_yesterday)
        self.team_dirty = True

    def _quality_facts(self, agent: str | None = None) -> tuple[list[Rating], list[Wait]]:
        where, params = ("", ()) if agent is None else (" AND agent = ?", (agent,))
        ratings = [
            Rating(str(r["agent"]), int(r["score"]), float(r["at"]))
            for r in self.store.all(
                "SELECT agent, score, at FROM ratings WHERE agent IS NOT NULL AND at >= ? AND at < ?" + where,
                (self.yesterday.start, self.yesterday.end, *params),
            )
        ]
        waits = [
            Wait(r["agent"], float(r["started"]), r["answered"])
            for r in self.store.all(
                "SELECT agent, started, answered FROM waits WHERE started >= ? AND started < ?" + where,
                (self.yesterday.start, self.yesterday.end, *params),
            )
        ]
        return ratings, waits

    def roll_if_needed(self, now: float) -> bool:
        """Midnight: start a new day (True when it did)."""
        if now < self.today.end:
            return False
        self.rebuild(now)
        return True

    # -- live facts -----------------------------------------------------------------------------

    def reception(self, agent: str, buyer: str, at: float) -> None:
        self.roll_if_needed(at)
        self.agents_today.setdefault(agent, Accumulator()).add_reception(buyer, at)
        self.team_today.add_reception(buyer, at)
        self.buyer_agents.setdefault(buyer, set()).add(agent)
        self.dirty.add(agent)
        self.team_dirty = True

    def order(self, buyer: str, state: str, at: float) -> None:
        self.roll_if_needed(at)
        agents = self.buyer_agents.get(buyer, ())
        for agent in agents:
            self.agents_today[agent].order_changed(buyer, state, at)
            self.dirty.add(agent)
        if buyer in self.team_today.buyers:
            self.team_today.order_changed(buyer, state, at)
            self.team_dirty = True

    def wait_answered(self, agent: str, started: float) -> None:
        """A wait that began yesterday was answered today: yesterday's figures change."""
        if self.yesterday.start <= started < self.yesterday.end:
            ratings, waits = self._quality_facts(agent)
            self.agents_yesterday[agent] = accumulate(agent, self.yesterday, ratings=ratings, waits=waits)
            all_ratings, all_waits = self._quality_facts()
            self.team_yesterday = accumulate(None, self.yesterday, ratings=all_ratings, waits=all_waits)
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
