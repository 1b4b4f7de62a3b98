"""The routing engine: who receives each buyer (ROUTING.md R2-R12).

``Engine.apply(event, now)`` runs the rules for one event and returns the decisions it made;
the clock is passed in and the timers (idle close, R9.2) are data: ``next_wake()`` says when
``advance(now)`` has work. Everything here is deterministic for a given policy and event
sequence (R8.7), which is what makes replay and the server's event-log recovery exact.
"""

from __future__ import annotations

import heapq
import math
import random
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from console.routing.events import (
    AnyEvent,
    Arrive,
    BuyerSay,
    Claim,
    Close,
    Contact,
    Decision,
    Handoff,
    HolderReply,
    OrderChange,
    Reason,
    SetStatus,
    Status,
    Transfer,
)
from console.routing.matching import BuyerAttributes, GroupMatcher, OrderRecord, order_state, says_handoff
from console.routing.picking import pick
from console.routing.policy import GroupSpec, OfflineMode, Pick, Policy, PolicyError, QueueMode
from console.routing.state import (
    CONVERSION_WINDOW,
    AgentState,
    AgentView,
    BuyerState,
    HolderKind,
    Pool,
    QueueEntry,
    QueueEntryView,
    QueueView,
    Session,
    SessionView,
    Speaker,
    Takers,
)

SHOP_POOL = "shop"  # queue:shop (R10.1, R6.1 queue)
_IMPLICIT = "\x00shop"  # id of the implicit group of R6.2
_PAID_STATES = frozenset({"paid", "shipped", "success"})
_PICK_RULE = {Pick.LEVEL: "R8.1", Pick.CONVERSION: "R8.2", Pick.LEAST_SATURATED: "R8.3",
              Pick.EVEN_DAILY: "R8.4", Pick.RANDOM: "R8.5"}


class EngineError(ValueError):
    """An event the engine cannot apply (unknown agent, nothing to claim, …); state is unchanged."""


@dataclass(frozen=True, slots=True)
class _Target:
    kind: HolderKind
    ref: str | None  # agent id or pool name
    why: Reason
    rule: str


class Engine:
    """Routing state for one shop, driven by events at given times."""

    def __init__(self, policy: Policy, start: float = 0.0) -> None:
        self.rng = random.Random(policy.seed)  # R8.7: one seeded generator
        self.buyers: dict[str, BuyerState] = {}
        self.pools: dict[str, Pool] = {SHOP_POOL: Pool(SHOP_POOL, None)}
        self.now = start
        self._serial = 0
        self._timers: list[tuple[float, int, str, int]] = []
        self._timer_of: dict[int, float] = {}  # a session's id -> the due of an entry it has in _timers
        # R8.2: every reception of the last 7 days, oldest first: (time, serial, agent, buyer)
        self._receptions: deque[tuple[float, int, str, str]] = deque()
        self._day_end = -math.inf
        self._day = 0
        self.agents: dict[str, AgentState] = {}
        self._available: dict[str, AgentState] = {}
        self._install(policy)
        self._roll_day(start)

    # -----------------------------------------------------------------------------------------
    # Policy

    def _install(self, policy: Policy) -> None:
        """Index a (validated) policy: agents, group members, queuing groups and their pools."""
        self.policy = policy
        self.tz = ZoneInfo(policy.timezone)
        old = self.agents
        self.agents = {}
        for index, spec in enumerate(policy.agents):
            state = old.get(spec.id) or AgentState(spec, index)
            state.spec, state.index = spec, index
            self.agents[spec.id] = state
        if policy.groups:
            self.groups: tuple[GroupSpec, ...] = policy.groups
        else:  # R6.2: with no groups, all routable agents form one implicit group
            self.groups = (GroupSpec(id=_IMPLICIT, name="shop", pick=policy.pick, bot=False, cap=10),)
        self.group_index = {g.id: i for i, g in enumerate(self.groups)}
        self.members: dict[str, list[AgentState]] = {g.id: [] for g in self.groups}
        for state in self.agents.values():
            if not policy.groups:
                if state.spec.routable:
                    self.members[_IMPLICIT].append(state)
            for gid in state.spec.groups:
                self.members[gid].append(state)
        if policy.groups:
            queuing = policy.queuing_group_ids()
        else:
            queuing = (_IMPLICIT,) if policy.queue.mode is QueueMode.SHOP else ()
        self.queuing = frozenset(queuing)  # membership only; pools are made in policy order
        for gid in queuing:
            name = self._pool_name(gid)
            self.pools.setdefault(name, Pool(name, None if gid == _IMPLICIT else gid))
        for state in self.agents.values():
            state.capped = any(gid in self.queuing for gid in self._groups_of(state))
        self._available = {}
        self._available_cap = 0
        self._group_cap = dict.fromkeys(self.members, 0)
        for agent in self.agents.values():
            if agent.available:
                self._mark_available(agent, True)
        self._index_takers()
        self.matcher = GroupMatcher(self.groups) if policy.groups else None

    def _mark_available(self, agent: AgentState, available: bool) -> None:
        """Keep the available set and the capacity sums of R10.4 in step with statuses."""
        if (agent.id in self._available) == available:
            return
        sign = 1 if available else -1
        if available:
            self._available[agent.id] = agent
        else:
            del self._available[agent.id]
        self._available_cap += sign * agent.cap
        for gid in self._groups_of(agent):
            self._group_cap[gid] += sign * agent.cap

    def _index_takers(self) -> None:
        """Index, from scratch, who can take a buyer now (§8: available, and a free slot if capped)."""
        self._takers = Takers(list(self.agents.values()), self.members, self._takes)

    def _takes(self, agent: AgentState) -> tuple[str, ...] | None:
        """§8: the groups in which ``agent`` is a candidate now (None: it cannot take a buyer)."""
        return self._groups_of(agent) if agent.available and agent.can_take() else None

    def _retake(self, agent: AgentState) -> None:
        """``agent``'s status or load changed: the takers index looks at it again before its next read."""
        self._takers.stale(agent)

    def __getstate__(self) -> dict[str, object]:
        """A snapshot (pickle) leaves out the indexes that follow from the rest (the takers, the
        timers' sessions): they are rebuilt on load, and are no part of the state's shape
        (``driver.engine_fingerprint``), so snapshots of an engine without them still load."""
        state = dict(vars(self))
        del state["_takers"], state["_timer_of"]
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._index_takers()
        self._timer_of = {}
        for due, sid, _, _ in sorted(self._timers, reverse=True):  # the earliest of each session last
            self._timer_of[sid] = due

    def set_policy(self, policy: Policy, now: float) -> list[Decision]:
        """Swap the policy live: sessions, queues and recent contacts carry over.

        Refused (``PolicyError``, nothing changed) when it would drop an agent that still holds
        open sessions. Buyers waiting in a pool the new policy no longer has are routed again.
        """
        out = self.advance(now)
        kept = {a.id for a in policy.agents}
        for agent in self.agents.values():
            if agent.id not in kept and agent.sessions:
                raise PolicyError("agents", f"cannot remove {agent.id!r} while it holds {agent.load} open sessions")
        self._install(policy)
        live_pools = {self._pool_name(g) for g in self.queuing} | {SHOP_POOL}
        for name in sorted(set(self.pools) - live_pools):
            pool = self.pools.pop(name)
            for entry in pool.alive_entries():
                session = self.buyers[entry.buyer].session
                assert session is not None
                self._detach(session)
                out.append(self._assign(self.buyers[entry.buyer], self._decide(self.buyers[entry.buyer], now, False),
                                        now, session.speaker, session.said_at))
        for agent in list(self._available.values()):
            out.extend(self._fill(agent, now))
        return out

    # -----------------------------------------------------------------------------------------
    # Clock and timers

    def _roll_day(self, now: float) -> None:
        """``today`` is since local midnight in the shop's time zone (§1)."""
        if now < self._day_end:
            return
        local = datetime.fromtimestamp(now, self.tz)
        self._day = local.toordinal()
        midnight = datetime(local.year, local.month, local.day, tzinfo=self.tz) + timedelta(days=1)
        self._day_end = midnight.timestamp()
        for agent in self.agents.values():
            agent.today.clear()
            agent.day = self._day

    def _tick(self, now: float) -> None:
        if now > self.now:
            self.now = now
        self._roll_day(now)
        self._expire_receptions(now)

    def _expire_receptions(self, now: float) -> None:
        """R8.2: receptions leave the 7-day window as the clock passes them, whatever happens
        meanwhile, so a weight is a function of the events in the window at the decision."""
        receptions = self._receptions
        horizon = now - CONVERSION_WINDOW
        while receptions and receptions[0][0] <= horizon:
            _, serial, agent_id, buyer_id = receptions.popleft()
            agent = self.agents.get(agent_id)
            if agent is not None:
                buyer = self.buyers.get(buyer_id)
                agent.expire_reception(buyer_id, serial, buyer.paid_serial if buyer is not None else 0)

    def next_wake(self) -> float | None:
        """When ``advance`` next has a timer to fire, or None.

        An entry of ``_timers`` may be earlier than its session's ``due`` (``_schedule`` leaves it
        there when the session's close moves later): it is moved to the current ``due`` when it
        comes first, so the answer is the earliest ``due`` of any session."""
        timers = self._timers
        while timers:
            due, _, buyer, sid = timers[0]
            state = self.buyers.get(buyer)  # a stale timer may name a buyer dropped by prune()
            session = state.session if state is not None else None
            if session is not None and session.id == sid and session.due is not None and session.due >= due:
                if session.due == due:
                    return due
                heapq.heapreplace(timers, (session.due, sid, buyer, sid))  # its close moved later
                self._timer_of[sid] = session.due
                continue
            heapq.heappop(timers)
            self._popped(sid, due)
        return None

    def _popped(self, sid: int, due: float) -> None:
        """An entry left ``_timers``: its session no longer counts on it."""
        if self._timer_of.get(sid) == due:
            del self._timer_of[sid]

    def advance(self, now: float) -> list[Decision]:
        """Fire every timer due by ``now`` (R9.2 idle close, then R9.3 dequeue), in time order."""
        out: list[Decision] = []
        while (due := self.next_wake()) is not None and due <= now:
            _, _, buyer, sid = heapq.heappop(self._timers)
            self._popped(sid, due)
            session = self.buyers[buyer].session
            assert session is not None
            self._tick(due)
            out.extend(self._close(session, due, Reason.IDLE))
        self._tick(now)
        return out

    def prune(self, now: float) -> int:
        """Drop the state of buyers that no rule can look at again; returns how many were dropped.

        Evaluated at the engine's clock (``now``, never ahead of the last input), so which
        buyers go is a function of the inputs and their times, and no decision changes
        (tests/routing/test_prune.py). A buyer is kept while any of these holds:

        - an open session, a queue place or a place in the message pool (R9.1);
        - a recent contact within ``recent.window`` or ``recent.any_status`` (R4);
        - a closed session within ``queue.repeat_window`` (R5);
        - an order that is not ``closed``, or that was ever ``success`` (R7.4: a later update
          of it needs its first success, and ``paid`` states keep matching R7.3);
        - a reception within the 7 days of R8.2 (a payment would count for that agent).

        Attributes of the latest arrive (R7.5) and the exclusive agent (R7.1) are taken afresh
        at every arrive and used by re-routes only, which need a session. Receptions today
        (R8.3, R8.4) are counted by the agents and stay. A later policy swap that lengthens a
        window does not bring back a buyer already dropped. One pass over the buyers.
        """
        at = min(now, self.now)
        recent_for = max(self.policy.recent.window, self.policy.recent.any_status)
        repeat_for = self.policy.queue.repeat_window
        horizon = at - CONVERSION_WINDOW
        gone = []
        for buyer in self.buyers.values():
            if buyer.session is not None:
                continue
            if buyer.recent is not None and at - buyer.recent[1] < recent_for:
                continue
            if buyer.last_closed is not None and at - buyer.last_closed[1] < repeat_for:
                continue
            if any(o.state != "closed" or o.success_at is not None for o in buyer.orders.values()):
                continue
            if any(t > horizon for t in buyer.receivers.values()):
                continue
            gone.append(buyer.id)
        for buyer_id in gone:
            del self.buyers[buyer_id]
        return len(gone)

    def _schedule(self, session: Session) -> None:
        """R9.2: an agent or bot session closes ``close_after`` past the holder's last word, or
        past routing when nobody has spoken; a buyer who wrote last never idles out."""
        if session.kind not in (HolderKind.AGENT, HolderKind.BOT) or session.speaker is Speaker.BUYER:
            session.due = None
            return
        since = session.said_at if session.speaker is Speaker.HOLDER else session.routed_at
        session.due = due = since + self.policy.close_after
        queued = self._timer_of.get(session.id)
        if queued is None or queued > due:
            heapq.heappush(self._timers, (due, session.id, session.buyer, session.id))
            self._timer_of[session.id] = due
        # else: an entry of this session comes first; ``next_wake`` moves it to ``due`` then. So a
        # reply adds no entry while the session's earlier one waits: the heap holds about one
        # entry per session, not one per reply of the last ``close_after`` (issue 9)

    # -----------------------------------------------------------------------------------------
    # Events

    def apply(self, event: AnyEvent, now: float) -> list[Decision]:
        """Apply one event at ``now`` (never earlier than the last one); timers due first."""
        out = self.advance(now)
        match event:
            case Arrive():
                out.append(self._arrive(event, now))
            case SetStatus():
                out.extend(self._set_status(event.agent, event.status, now))
            case OrderChange():
                self._order(event, now)
            case BuyerSay():
                out.extend(self._say(event, now))
            case HolderReply():
                self._reply(event.buyer, now)
            case Close():
                session = self._session(event.buyer)
                if session is not None and session.kind in (HolderKind.AGENT, HolderKind.BOT):
                    out.extend(self._close(session, now, Reason.AGENT_CLOSE))
            case Handoff():
                session = self._session(event.buyer)
                if session is not None and session.kind is HolderKind.BOT:
                    out.append(self._reroute(session, now, Reason.HANDOFF))
            case Transfer():
                out.extend(self._explicit_transfer(event, now))
            case Contact():
                out.append(self._contact(event, now))
            case Claim():
                session = self._session(event.buyer)
                if session is None or session.kind is not HolderKind.POOL:
                    raise EngineError(f"buyer {event.buyer!r} is not in the message pool")
                out.extend(self._transfer(event.buyer, event.agent, now, Reason.CLAIMED, "R6.1"))
        return out

    def _buyer(self, buyer: str) -> BuyerState:
        state = self.buyers.get(buyer)
        if state is None:
            state = self.buyers[buyer] = BuyerState(buyer)
        return state

    def _session(self, buyer: str) -> Session | None:
        state = self.buyers.get(buyer)
        return state.session if state else None

    def _arrive(self, event: Arrive, now: float) -> Decision:
        buyer = self._buyer(event.buyer)
        buyer.attrs = BuyerAttributes(entry=event.entry, product=event.product, question=event.question,
                                      intent=event.intent, crowd=tuple(event.crowd))
        buyer.role = event.role
        buyer.exclusive = event.exclusive
        session = buyer.session
        if session is not None:  # R9.1: stays with the open session
            if session.kind is HolderKind.AGENT and self.agents[session.ref or ""].spec.routable:
                buyer.recent = (session.ref or "", now)  # R2.1: a re-arrive refreshes the moment
            return self._announce(session, Reason.OPEN_SESSION, "R9.1", now)
        return self._assign(buyer, self._decide(buyer, now, handoff=False, repeat=True), now, None, now)

    def _set_status(self, agent_id: str, status: Status, now: float) -> list[Decision]:
        agent = self._agent(agent_id)
        if agent.status is status:
            return []
        agent.status = status
        agent.status_since = now  # the room's "for how long", exact across restarts (the log's time)
        self._mark_available(agent, agent.available)
        self._retake(agent)
        if agent.available:
            return self._fill(agent, now)  # R10.3, R6.1 queue: an agent becomes available
        out: list[Decision] = []
        if status is Status.OFFLINE and self.policy.reroute_on_offline:  # R3.3
            for buyer in list(agent.sessions):
                session = self.buyers[buyer].session
                if session is not None and session.waiting:
                    out.append(self._reroute(session, now, Reason.REROUTE_OFFLINE))
        return out

    def _order(self, event: OrderChange, now: float) -> None:
        buyer = self._buyer(event.buyer)
        before = buyer.orders.get(event.order)
        self._serial += 1
        success_at = before.success_at if before is not None else None
        if event.state == "success" and success_at is None:
            success_at = now  # R7.4: the window counts from the first success
        buyer.orders[event.order] = OrderRecord(event.state, now, self._serial, success_at)
        if event.state in _PAID_STATES and (before is None or before.state not in _PAID_STATES):
            buyer.paid_serial = self._serial
            for agent_id in buyer.receivers:  # R8.2: paid after the receptions in the window
                agent = self.agents.get(agent_id)
                if agent is not None:
                    agent.note_paid(event.buyer)

    def _say(self, event: BuyerSay, now: float) -> list[Decision]:
        session = self._session(event.buyer)
        if session is None:
            return []
        session.speaker, session.said_at = Speaker.BUYER, now
        self._schedule(session)
        if session.kind is HolderKind.BOT and says_handoff(event.text, self.policy.bot.handoff_words):
            return [self._reroute(session, now, Reason.HANDOFF)]  # R7.7
        return []

    def _reply(self, buyer: str, now: float) -> None:
        session = self._session(buyer)
        if session is not None and session.kind in (HolderKind.AGENT, HolderKind.BOT):
            session.speaker, session.said_at = Speaker.HOLDER, now
            self._schedule(session)

    def _agent(self, agent_id: str) -> AgentState:
        agent = self.agents.get(agent_id)
        if agent is None:
            raise EngineError(f"unknown agent {agent_id!r}")
        return agent

    # -----------------------------------------------------------------------------------------
    # Moving sessions

    def _reroute(self, session: Session, now: float, why: Reason) -> Decision:
        """R3.3 / R7.7: route again as if the buyer had just arrived; the buyer stays waiting."""
        buyer = self.buyers[session.buyer]
        previous = session.holder
        self._detach(session)
        target = self._decide(buyer, now, handoff=why is Reason.HANDOFF, repeat=why is not Reason.HANDOFF)
        forced = _Target(target.kind, target.ref, why, "R7.7" if why is Reason.HANDOFF else "R3.3")
        # the old holder is an offline agent or the bot: no slot to refill (R10.3)
        return self._assign(buyer, forced, now, Speaker.BUYER, session.said_at, previous=previous,
                            via=f"{target.why.value}/{target.rule}")

    def _explicit_transfer(self, event: Transfer, now: float) -> list[Decision]:
        """R3.5. Refused (``EngineError``, nothing moved): no open session, a queue or pool place,
        to oneself, to an offline or unknown agent, an unknown group, or a group nobody of which
        can take the buyer when it has no queue to join."""
        session = self._session(event.buyer)
        if session is None or session.kind in (HolderKind.QUEUE, HolderKind.POOL):
            raise EngineError(f"buyer {event.buyer!r} has no session with an agent or the bot to transfer")
        if (event.agent is None) == (event.group is None):
            raise EngineError("a transfer names an agent or a group")
        if event.agent is not None:
            agent = self._agent(event.agent)
            if agent.status is Status.OFFLINE:
                raise EngineError(f"agent {agent.id!r} is offline")
            return self._transfer(event.buyer, agent.id, now, Reason.TRANSFER, "R3.5")
        group_id = event.group or ""
        if group_id not in self.group_index or group_id == _IMPLICIT:
            raise EngineError(f"unknown group {group_id!r}")
        holder = session.ref if session.kind is HolderKind.AGENT else None
        takers = [a for a in self._takers.of((group_id,)) if a.id != holder]
        if takers:
            chosen = pick(self._group(group_id).pick, takers, self.rng, self._conversion)
            return self._transfer(event.buyer, chosen.id, now, Reason.TRANSFER, "R3.5")
        if group_id not in self.queuing:
            raise EngineError(f"nobody in group {group_id!r} can take the buyer, and it does not queue")
        previous = session.holder
        self._detach(session)  # joins the group's pool at the back, still waiting if waiting
        buyer = self.buyers[event.buyer]
        out = [self._assign(buyer, _Target(HolderKind.QUEUE, self._pool_name(group_id), Reason.TRANSFER, "R3.5"),
                            now, session.speaker, session.said_at, previous=previous)]
        if holder is not None:
            out.extend(self._fill(self.agents[holder], now))
        return out

    def _contact(self, event: Contact, now: float) -> Decision:
        """An agent writes first (``Contact``): refused (``EngineError``, nothing changed) while the
        buyer has any open session, its holder answers them (R9.1), or when the agent is offline
        (R3.2); otherwise the session opens with the agent as an explicit move does (R3.5: no cap
        check), the agent the recent contact (R2.1), the agent's line the last said (R9.2)."""
        if self._session(event.buyer) is not None:
            raise EngineError(f"buyer {event.buyer!r} has an open session")
        agent = self._agent(event.agent)
        if agent.status is Status.OFFLINE:  # R3.2
            raise EngineError(f"agent {agent.id!r} is offline")
        return self._assign(self._buyer(event.buyer), _Target(HolderKind.AGENT, agent.id, Reason.CONTACT, "R3.5"),
                            now, Speaker.HOLDER, now)

    def _transfer(self, buyer_id: str, agent_id: str, now: float, why: Reason, rule: str) -> list[Decision]:
        agent = self._agent(agent_id)
        buyer = self.buyers.get(buyer_id)
        session = buyer.session if buyer else None
        if buyer is None or session is None:
            raise EngineError(f"buyer {buyer_id!r} has no open session")
        if session.kind is HolderKind.AGENT and session.ref == agent_id:
            raise EngineError(f"buyer {buyer_id!r} is already with {agent_id!r}")
        previous = session.holder
        self._detach(session)
        out = [self._assign(buyer, _Target(HolderKind.AGENT, agent.id, why, rule), now, session.speaker,
                            session.said_at, previous=previous)]
        if session.kind is HolderKind.AGENT:
            old = self.agents.get(session.ref or "")
            if old is not None:
                out.extend(self._fill(old, now))
        return out

    def _detach(self, session: Session) -> None:
        """Take a session from its holder without a ``closed`` line (re-route, transfer)."""
        if session.kind is HolderKind.AGENT:
            agent = self.agents[session.ref or ""]
            agent.sessions.pop(session.buyer, None)
            self._retake(agent)
        elif session.kind is HolderKind.QUEUE and session.entry is not None:
            pool = self.pools.get(session.ref or "")
            if pool is not None:
                pool.remove(session.entry)
        session.due = None
        self.buyers[session.buyer].session = None

    def _close(self, session: Session, now: float, why: Reason) -> list[Decision]:
        """R9.2 close; R9.3 the freed slot takes the next queued buyer."""
        holder = session.holder
        self._detach(session)
        out = [Decision(event="closed", buyer=session.buyer, to=holder, why=why, rule="R9.2", t=now)]
        if session.kind is HolderKind.AGENT:
            self.buyers[session.buyer].last_closed = (session.ref or "", now)  # R5
            out.extend(self._fill(self.agents[session.ref or ""], now))
        return out

    def _fill(self, agent: AgentState, now: float) -> list[Decision]:
        """R10.3: an available agent with free slots takes the longest-waiting buyers of its pools."""
        out: list[Decision] = []
        if not agent.available:
            return out
        pools = self._pools_served(agent)
        while agent.can_take():  # caps limit only capped agents (§1): an uncapped one takes them all
            best: Pool | None = None
            best_key: tuple[float, int] | None = None
            for pool in pools:
                head = pool.head()
                if head is not None and (best_key is None or (head.joined, head.serial) < best_key):
                    best, best_key = pool, (head.joined, head.serial)
            if best is None:
                break
            entry = best.pop()
            buyer = self.buyers[entry.buyer]
            session = buyer.session
            assert session is not None
            session.entry = None
            self._detach(session)
            out.append(self._assign(buyer, _Target(HolderKind.AGENT, agent.id, Reason.DEQUEUED, "R10.3"), now,
                                    session.speaker, session.said_at))
        return out

    def _pools_served(self, agent: AgentState) -> list[Pool]:
        if self.policy.queue.overflow:  # R10.6: a freed slot takes from any pool
            return list(self.pools.values())
        names = [self._pool_name(g) for g in self._groups_of(agent) if g in self.queuing]
        names.append(SHOP_POOL)
        return [self.pools[n] for n in dict.fromkeys(names) if n in self.pools]

    # -----------------------------------------------------------------------------------------
    # Assigning

    def _assign(self, buyer: BuyerState, target: _Target, now: float, speaker: Speaker | None, said_at: float,
                previous: str | None = None, via: str | None = None) -> Decision:
        self._serial += 1
        session = Session(self._serial, buyer.id, target.kind, target.ref, now, speaker, said_at)
        buyer.session = session
        if target.kind is HolderKind.AGENT:
            agent = self.agents[target.ref or ""]
            agent.sessions[buyer.id] = None
            self._retake(agent)
            agent.note_reception(buyer.id, self._serial)  # §1 received
            self._receptions.append((now, self._serial, agent.id, buyer.id))
            buyer.receivers[agent.id] = now
            if agent.spec.routable:
                buyer.recent = (agent.id, now)  # R2.1
        elif target.kind is HolderKind.QUEUE:
            session.entry = QueueEntry(buyer.id, now, self._serial)
            self.pools[target.ref or ""].push(session.entry)
        self._schedule(session)
        return self._announce(session, target.why, target.rule, now, previous, via)

    def _announce(self, session: Session, why: Reason, rule: str, now: float, previous: str | None = None,
                  via: str | None = None) -> Decision:
        if session.kind is HolderKind.QUEUE and session.entry is not None:
            pool = self.pools[session.ref or ""]
            position = pool.position(session.entry)
            return Decision(event="queued", buyer=session.buyer, to=session.holder, why=why, rule=rule, t=now,
                            position=position, eta=self._eta(pool, position), tip=self._tip(position),
                            previous=previous, via=via)
        return Decision(event="routed", buyer=session.buyer, to=session.holder, why=why, rule=rule, t=now,
                        previous=previous, via=via)

    def _eta(self, pool: Pool, position: int) -> float:
        """R10.4: ceil(position / slots) x avg_handle; slots = total cap of the agents serving it."""
        if pool.name == SHOP_POOL or self.policy.queue.overflow:
            slots = self._available_cap
        else:
            slots = self._group_cap.get(pool.group or "", 0)
        return math.ceil(position / max(slots, 1)) * self.policy.queue.avg_handle

    def _tip(self, position: int) -> str:
        """R10.5: the position text up to the threshold, the busy text above it."""
        q = self.policy.queue
        if position <= q.tip_threshold:
            return q.tip_text.replace("{ahead}", str(position - 1))
        return q.busy_text

    # -----------------------------------------------------------------------------------------
    # The rules, in order

    def _decide(self, buyer: BuyerState, now: float, handoff: bool, repeat: bool = True) -> _Target:
        """R5 (not after a hand-off), R4, R6, R7.1, R7.2, R7.3-R7.6, R8, R10 in that order."""
        return ((self._repeat_entry(buyer, now) if repeat else None)
                or self._recent(buyer, now, handoff)
                or self._nobody_available()
                or self._exclusive(buyer)
                or (None if handoff else self._shop_bot())
                or self._by_groups(buyer, now, handoff))

    def _repeat_entry(self, buyer: BuyerState, now: float) -> _Target | None:
        """R5: back within the repeat window after a closed session, in queue mode."""
        window = self.policy.queue.repeat_window
        if buyer.last_closed is None or window <= 0:  # R5.3
            return None
        agent_id, closed_at = buyer.last_closed
        agent = self.agents.get(agent_id)
        if agent is None or now - closed_at >= window:
            return None
        queuing = [g for g in self._groups_of(agent) if g in self.queuing]
        if not queuing or not self._buyer_pool_queues(buyer, now):  # the buyer's pool does not queue
            return None
        if agent.available:
            return _Target(HolderKind.AGENT, agent.id, Reason.REPEAT_ENTRY, "R5.1")  # even over its cap
        first = queuing[0]
        colleagues = [a for a in self._takers.of((first,)) if a.has_free_slot]  # capped: the same (§1)
        if colleagues:
            chosen = pick(self._group(first).pick, colleagues, self.rng, self._conversion)
            return _Target(HolderKind.AGENT, chosen.id, Reason.REPEAT_ENTRY, "R5.2")
        return _Target(HolderKind.QUEUE, self._pool_name(first), Reason.QUEUED, "R5.2")

    def _buyer_pool_queues(self, buyer: BuyerState, now: float) -> bool:
        """R5: the groups this buyer matches now (R7.3) include one that queues."""
        if self.matcher is None:
            return _IMPLICIT in self.queuing
        state = order_state(buyer.orders, now, self.policy.after_sale_window)
        return any(g.id in self.queuing for g in self.matcher.match(self.policy.matching_order, buyer.attrs, state))

    def _recent(self, buyer: BuyerState, now: float, handoff: bool) -> _Target | None:
        """R4: recent contact first. None means: go on at R6."""
        if buyer.recent is None:
            return None
        agent_id, since = buyer.recent
        agent = self.agents.get(agent_id)
        if agent is None or not agent.spec.routable:
            return None
        age = now - since
        r = self.policy.recent
        at_cap = agent.capped and r.respect_cap and not agent.has_free_slot  # R4.5
        if age < r.any_status and agent.status is not Status.OFFLINE:  # R4.1
            return None if at_cap else _Target(HolderKind.AGENT, agent.id, Reason.RECENT_ANY_STATUS, "R4.1")
        if age >= r.window:  # R4.6
            return None
        if agent.available:  # R4.2
            return None if at_cap else _Target(HolderKind.AGENT, agent.id, Reason.RECENT, "R4.2")
        if agent.status is Status.SUSPENDED:  # R4.3
            if not r.same_group_first:
                return None
            if self.policy.groups:
                group_ids = list(agent.spec.groups)
                colleagues = self._takers.of(group_ids)
            else:
                group_ids = [_IMPLICIT]
                colleagues = self._shop_wide()
            if not colleagues:
                return None
            chosen = pick(self._group(group_ids[0]).pick, colleagues, self.rng, self._conversion)
            return _Target(HolderKind.AGENT, chosen.id, Reason.RECENT_SAME_GROUP, "R4.3")
        if self.policy.bot.shop_first and not handoff:  # R4.4 (offline recent contact)
            return _Target(HolderKind.BOT, None, Reason.RECENT_OFFLINE_BOT, "R4.4")
        return None

    def _nobody_available(self) -> _Target | None:
        """R6.1: nobody of the shop is available: the offline target."""
        if self._available:
            return None
        offline = self.policy.offline
        if offline.mode is OfflineMode.MAIN and offline.main:
            return _Target(HolderKind.AGENT, offline.main, Reason.OFFLINE_MAIN, "R6.1")
        if offline.mode is OfflineMode.PROXY and offline.proxy:
            return _Target(HolderKind.AGENT, offline.proxy, Reason.OFFLINE_PROXY, "R6.1")
        if offline.mode is OfflineMode.LIST and offline.agents:
            listed = [self.agents[a] for a in offline.agents]
            order = {a.id: i for i, a in reversed(list(enumerate(listed)))}
            chosen = min(listed, key=lambda a: (a.received_today, a.load, order[a.id]))
            return _Target(HolderKind.AGENT, chosen.id, Reason.OFFLINE_LIST, "R6.1")
        if offline.mode is OfflineMode.QUEUE:
            return _Target(HolderKind.QUEUE, SHOP_POOL, Reason.OFFLINE_QUEUE, "R6.1")
        return _Target(HolderKind.POOL, None, Reason.OFFLINE_POOL, "R6.1")

    def _exclusive(self, buyer: BuyerState) -> _Target | None:
        """R7.1: the buyer's exclusive agent, directly, even over its cap."""
        if not self.policy.exclusive_direct or buyer.exclusive is None:
            return None
        agent = self.agents.get(buyer.exclusive)
        if agent is None or not agent.available:
            return None
        return _Target(HolderKind.AGENT, agent.id, Reason.EXCLUSIVE, "R7.1")

    def _shop_bot(self) -> _Target | None:
        if self.policy.bot.shop_first:  # R7.2
            return _Target(HolderKind.BOT, None, Reason.SHOP_BOT, "R7.2")
        return None

    def _by_groups(self, buyer: BuyerState, now: float, handoff: bool) -> _Target:
        """R7.3-R7.6 group matching, R8 picking, R8.6 fallback, R10.2 queue, R10.6 overflow."""
        if self.matcher is not None:
            state = order_state(buyer.orders, now, self.policy.after_sale_window)
            candidates = self.matcher.match(self.policy.matching_order, buyer.attrs, state)
        else:
            candidates = list(self.groups)
        if not handoff:  # R7.6
            bots = [g for g in candidates if g.bot]
            if bots and len(bots) == len(candidates):
                return _Target(HolderKind.BOT, None, Reason.GROUP_BOT, "R7.6")
            candidates = [g for g in candidates if not g.bot]
        strategy = candidates[0].pick
        agents = self._takers.of([g.id for g in candidates])  # §8: the index, not a scan of the groups
        if agents:
            chosen = pick(strategy, agents, self.rng, self._conversion)
            return _Target(HolderKind.AGENT, chosen.id, Reason.GROUP, _PICK_RULE[strategy])
        queuing = [g for g in candidates if g.id in self.queuing]
        if queuing:
            if self.policy.queue.overflow:  # R10.6
                free = [a for a in self._shop_wide() if a.has_free_slot]
                if free:
                    chosen = pick(strategy, free, self.rng, self._conversion)
                    return _Target(HolderKind.AGENT, chosen.id, Reason.OVERFLOW, "R10.6")
            shortest = min(queuing, key=lambda g: (self.pools[self._pool_name(g.id)].length, self.group_index[g.id]))
            return _Target(HolderKind.QUEUE, self._pool_name(shortest.id), Reason.QUEUED, "R10.2")
        shop_wide = self._shop_wide()
        if shop_wide:  # R8.6: any available agent of the shop
            chosen = pick(strategy, shop_wide, self.rng, self._conversion)
            return _Target(HolderKind.AGENT, chosen.id, Reason.SHOP_FALLBACK, "R8.6")
        return _Target(HolderKind.QUEUE, SHOP_POOL, Reason.QUEUED, "R8.6")

    # -----------------------------------------------------------------------------------------
    # Helpers

    def _conversion(self, candidate: AgentState) -> float:
        return candidate.conversion()

    def _shop_wide(self) -> list[AgentState]:
        """Every available agent of the shop that can take a buyer, in policy order (R8.6)."""
        return self._takers.everyone()

    def _group(self, group_id: str) -> GroupSpec:
        return self.groups[self.group_index[group_id]]

    def _groups_of(self, agent: AgentState) -> tuple[str, ...]:
        if not self.policy.groups:
            return (_IMPLICIT,) if agent.spec.routable else ()
        return agent.spec.groups

    @staticmethod
    def _pool_name(group_id: str) -> str:
        return SHOP_POOL if group_id == _IMPLICIT else group_id

    # -----------------------------------------------------------------------------------------
    # Views

    def agent(self, agent_id: str) -> AgentView:
        a = self._agent(agent_id)
        return AgentView(id=a.id, name=a.spec.name, role=a.spec.role.value, status=a.status, load=a.load,
                         cap=a.cap, saturation=a.saturation, received_today=a.received_today, capped=a.capped,
                         status_since=a.status_since)

    def session(self, buyer: str) -> SessionView | None:
        s = self._session(buyer)
        if s is None:
            return None
        return SessionView(buyer=buyer, holder=s.holder, routed_at=s.routed_at, waiting=s.waiting, idle_close_at=s.due)

    def queues(self) -> list[QueueView]:
        views = []
        for pool in self.pools.values():
            head = pool.head()
            views.append(QueueView(pool=f"queue:{pool.name}", length=pool.length,
                                   longest_wait=(self.now - head.joined) if head else 0.0,
                                   eta=self._eta(pool, pool.length + 1)))
        return views

    def queue_entries(self, pool: str) -> list[QueueEntryView]:
        name = pool.removeprefix("queue:")
        found = self.pools.get(name)
        if found is None:
            return []
        return [QueueEntryView(buyer=e.buyer, position=i, eta=self._eta(found, i), tip=self._tip(i), joined=e.joined)
                for i, e in enumerate(found.alive_entries(), start=1)]

    def queue_places(self, pool: str, positions: Iterable[int]) -> list[QueueEntryView]:
        """The entries at the given positions of a pool (those that exist), O(log n) each."""
        found = self.pools.get(pool.removeprefix("queue:"))
        if found is None:
            return []
        views = []
        for i in positions:
            e = found.at(i)
            if e is not None:
                views.append(QueueEntryView(buyer=e.buyer, position=i, eta=self._eta(found, i), tip=self._tip(i),
                                            joined=e.joined))
        return views

    def queue_place(self, buyer: str) -> QueueEntryView | None:
        """Where a queued buyer is now (None when it is not queued), in O(log n)."""
        session = self._session(buyer)
        if session is None or session.kind is not HolderKind.QUEUE or session.entry is None:
            return None
        pool = self.pools.get(session.ref or "")
        if pool is None or not session.entry.alive:
            return None
        i = pool.position(session.entry)
        return QueueEntryView(buyer=buyer, position=i, eta=self._eta(pool, i), tip=self._tip(i),
                              joined=session.entry.joined)

    def queue_bases(self) -> list[tuple[str, int, int]]:
        """Each queue's pool, length and slots (R10.4: what its estimates are divided by): what
        ``queues`` and ``queue_slots`` say, without a view, a head or an estimate per queue (a
        server asks after every change, issue 9)."""
        return [(f"queue:{pool.name}", pool.length, self._slots(pool)) for pool in self.pools.values()]

    def queue_slots(self, pool: str) -> int:
        """R10.4: the slots an estimated wait of ``pool`` is divided by (at least 1)."""
        found = self.pools.get(pool.removeprefix("queue:"))
        return 1 if found is None else self._slots(found)

    def _slots(self, pool: Pool) -> int:
        # R10.4: the shop's pool, or any pool when queues overflow into each other, is served by
        # every available agent; a group's pool by its group's
        if pool.name == SHOP_POOL or self.policy.queue.overflow:
            return max(self._available_cap, 1)
        return max(self._group_cap.get(pool.group or "", 0), 1)

    def entry_questions(self, entry: str) -> tuple[str, ...]:
        return self.policy.entry_questions(entry)

    def order_state(self, buyer: str) -> str:
        state = self.buyers.get(buyer)
        return order_state(state.orders, self.now, self.policy.after_sale_window) if state else "none"
