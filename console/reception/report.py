"""A day's report from plain records: one row per conversation, one per agent (CONSOLE.md §7).

What supervisors export for their own spreadsheets (the exports Chatwoot users ask for most:
one row per conversation, chatwoot#15243 and #13366, and per agent per day). Pure: the records
come in, the rows go out; the caller reads the database and writes the file.

A *conversation* here is one session: it begins with the decision that first placed the buyer
(routed or queued) and ends with the decision that closed it (R9.2 idle, an agent's close). A
day's conversations are those that began that day (local, in the shop's timezone). Its figures:

- the first reason and rule (ROUTING.md §12), and the agent who held it last (a transfer or a
  re-route moves it; ``moves`` counts how many times a human holder changed);
- the time a human first held it (``assigned_at``: after a queue, the dequeue);
- waits (CONSOLE.md §3, the server's ``waits`` records that began within the session): the
  first human response time (``first_response_s``, from the first buyer message), the longest
  wait (an open one counts until the close, or the end of the day when still open), how many
  were answered within 180 s;
- the buyer's latest rating given between this session's start and the next one's (a second
  rating replaces the first);
- the order outcome: the latest order state from the session's start to the end of the day.

Per agent, the day's figures are those of ``kpi.accumulate`` (the definition the KPI tiles use):
received, not ordered, not paid, paid, conversion, and the same day's satisfaction, 3-minute
response rate and average response time; plus conversations closed and messages sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TypeVar

import msgspec

from console.protocol.holders import agent_of
from console.reception.kpi import RESPONSE_LIMIT, DayRange, OrderEvent, Reception, Wait, accumulate, tiles
from console.reception.kpi import Rating as KpiRating


class DecisionRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A row of the server's decision log (R2.3), in log order."""

    buyer: str
    event: str  # routed, queued, closed
    target: str  # agent:ID, bot, pool, queue:GROUP
    why: str
    rule: str
    at: float


class MessageRecord(msgspec.Struct, frozen=True, kw_only=True):
    buyer: str
    author: str  # buyer, agent, bot, system
    at: float
    agent: str | None = None


class RatingRecord(msgspec.Struct, frozen=True, kw_only=True):
    buyer: str
    agent: str | None
    score: int
    at: float


class WaitRecord(msgspec.Struct, frozen=True, kw_only=True):
    buyer: str
    agent: str | None
    started: float
    answered: float | None = None


class OrderRecord(msgspec.Struct, frozen=True, kw_only=True):
    buyer: str
    state: str
    at: float


class DayRecords(msgspec.Struct, kw_only=True):
    """Everything a day's report reads. Records may reach before and after the day: the
    functions below pick what they need."""

    day: DayRange
    decisions: list[DecisionRecord]
    messages: list[MessageRecord]
    ratings: list[RatingRecord]
    waits: list[WaitRecord]
    orders: list[OrderRecord]
    receptions: list[Reception]
    buyer_names: dict[str, str] = msgspec.field(default_factory=dict)
    agents: list[tuple[str, str]] = msgspec.field(default_factory=list)  # (id, name) in policy order


class ConversationRow(msgspec.Struct, frozen=True, kw_only=True):
    buyer: str
    buyer_name: str
    agent: str | None  # the human who held it last (None: the bot, the pool or a queue only)
    arrived_at: float
    reason: str  # the first decision's reason
    rule: str
    queued: bool
    assigned_at: float | None  # a human first held it
    first_message_at: float | None  # the buyer's first message
    first_response_at: float | None  # the first human reply to a waiting buyer
    first_response_s: float | None
    longest_wait_s: float | None
    waits: int
    answered_in_3min: int
    closed_at: float | None
    close_reason: str | None
    moves: int  # times the human holder changed (transfers, re-routes)
    buyer_messages: int
    agent_messages: int
    bot_messages: int
    rating: int | None
    order_state: str | None


class AgentDayRow(msgspec.Struct, frozen=True, kw_only=True):
    agent: str
    name: str
    received: int
    not_ordered: int
    not_paid: int
    paid: int
    conversion: float | None
    ratings: int
    satisfaction: float | None
    waits: int
    response_3min: float | None
    avg_response_s: float | None
    closed: int
    messages_sent: int


class _Session:
    def __init__(self, first: DecisionRecord) -> None:
        self.first = first
        self.end: DecisionRecord | None = None
        self.queued = first.event == "queued"
        self.assigned_at: float | None = None
        self.agent: str | None = None
        self.moves = 0

    def holds(self, d: DecisionRecord) -> None:
        if d.event == "queued":
            self.queued = True
        agent = agent_of(d.target)
        if agent is not None:
            if self.assigned_at is None:
                self.assigned_at = d.at
            elif agent != self.agent:
                self.moves += 1
            self.agent = agent


def sessions(decisions: Iterable[DecisionRecord]) -> dict[str, list[_Session]]:
    """Each buyer's sessions, in order, from the decision log."""
    out: dict[str, list[_Session]] = {}
    open_: dict[str, _Session] = {}
    for d in decisions:
        current = open_.get(d.buyer)
        if d.event == "closed":
            if current is not None:
                current.end = d
                del open_[d.buyer]
            continue
        if current is None:
            current = _Session(d)
            open_[d.buyer] = current
            out.setdefault(d.buyer, []).append(current)
        current.holds(d)
    return out


def conversation_rows(records: DayRecords) -> list[ConversationRow]:
    """One row per conversation that began on ``records.day``, in order of arrival."""
    day = records.day
    by_buyer_messages = _group(records.messages)
    by_buyer_waits = _group(records.waits)
    by_buyer_ratings = _group(records.ratings)
    by_buyer_orders = _group(records.orders)
    rows: list[ConversationRow] = []
    for buyer, found in sessions(records.decisions).items():
        for i, s in enumerate(found):
            start = s.first.at
            if start not in day:
                continue
            following = found[i + 1].first.at if i + 1 < len(found) else None
            end = s.end.at if s.end is not None else None
            inside_until = end if end is not None else (following if following is not None else day.end)
            msgs = [m for m in by_buyer_messages.get(buyer, []) if start <= m.at <= inside_until
                    and (following is None or m.at < following)]
            waits = [w for w in by_buyer_waits.get(buyer, []) if start <= w.started <= inside_until
                     and (following is None or w.started < following)]
            waits.sort(key=lambda w: w.started)
            answered = [w for w in waits if w.answered is not None]
            first = answered[0] if answered else None
            longest = max((((w.answered if w.answered is not None else inside_until) - w.started) for w in waits),
                          default=None)
            rated = [g for g in by_buyer_ratings.get(buyer, []) if g.at >= start and (following is None or g.at < following)]
            orders = [o for o in by_buyer_orders.get(buyer, []) if start <= o.at < day.end]
            rows.append(ConversationRow(
                buyer=buyer,
                buyer_name=records.buyer_names.get(buyer, buyer),
                agent=s.agent,
                arrived_at=start,
                reason=s.first.why,
                rule=s.first.rule,
                queued=s.queued,
                assigned_at=s.assigned_at,
                first_message_at=next((m.at for m in msgs if m.author == "buyer"), None),
                first_response_at=first.answered if first is not None else None,
                first_response_s=(first.answered - first.started) if first is not None and first.answered is not None
                else None,
                longest_wait_s=longest,
                waits=len(waits),
                answered_in_3min=sum(1 for w in answered if w.answered is not None and w.answered - w.started
                                     < RESPONSE_LIMIT),
                closed_at=end,
                close_reason=s.end.why if s.end is not None else None,
                moves=s.moves,
                buyer_messages=sum(1 for m in msgs if m.author == "buyer"),
                agent_messages=sum(1 for m in msgs if m.author == "agent"),
                bot_messages=sum(1 for m in msgs if m.author == "bot"),
                rating=max(rated, key=lambda g: g.at).score if rated else None,
                order_state=max(orders, key=lambda o: o.at).state if orders else None,
            ))
    rows.sort(key=lambda r: (r.arrived_at, r.buyer))
    return rows


def agent_rows(records: DayRecords, conversations: Sequence[ConversationRow] | None = None) -> list[AgentDayRow]:
    """One row per agent of the policy (then any other agent seen that day), for ``records.day``."""
    day = records.day
    convs = conversation_rows(records) if conversations is None else conversations
    orders = [OrderEvent(buyer=o.buyer, state=o.state, at=o.at) for o in records.orders]
    ratings = [KpiRating(agent=g.agent, score=g.score, at=g.at) for g in records.ratings if g.agent is not None]
    waits = [Wait(agent=w.agent, start=w.started, answered=w.answered) for w in records.waits]
    names = dict(records.agents)
    ids = [a for a, _ in records.agents]
    seen = {r.agent for r in records.receptions if r.at in day} | {w.agent for w in waits if w.agent and w.start in day}
    ids += sorted(a for a in seen if a is not None and a not in names)
    rows: list[AgentDayRow] = []
    for agent in ids:
        acc = accumulate(agent, day, records.receptions, orders, ratings, waits)
        t = tiles(acc, acc)  # the tiles' own arithmetic, with the day's quality figures
        rows.append(AgentDayRow(
            agent=agent,
            name=names.get(agent, agent),
            received=t.received_today or 0,
            not_ordered=t.not_ordered or 0,
            not_paid=t.not_paid or 0,
            paid=t.paid or 0,
            conversion=t.conversion,
            ratings=acc.ratings,
            satisfaction=t.satisfaction_yesterday,
            waits=acc.waits,
            response_3min=t.response_3min_yesterday,
            avg_response_s=t.avg_response_yesterday,
            closed=sum(1 for c in convs if c.agent == agent and c.closed_at is not None),
            messages_sent=sum(1 for m in records.messages if m.author == "agent" and m.agent == agent and m.at in day),
        ))
    return rows


_Record = TypeVar("_Record", MessageRecord, WaitRecord, RatingRecord, OrderRecord)


def _group(items: Iterable[_Record]) -> dict[str, list[_Record]]:
    out: dict[str, list[_Record]] = {}
    for item in items:
        out.setdefault(item.buyer, []).append(item)
    return out
