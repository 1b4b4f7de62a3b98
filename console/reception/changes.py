"""What one routing decision or one new message changes, and who must be told what: the reception
core beside the engine (pure: no store, no sockets, no clock).

``Shop`` is its one caller. For a decision it passes the row as it is before and gets a frozen
``DecisionChanges``: the row's new holder, list owner and sort time, the agents whose lists lose
the row (and why) and those whose lists show it changed (who sees a row: ``audience``), what the
buyer is told, the reception the KPI book counts, where the buyer's open wait goes (``waits``), whether
the bot takes a turn, which queue the buyer left (its position updates) and whose load may have moved.
For a message written to a conversation, ``message_changes`` says whose lists show it;
``waits`` where a message leaves the buyer's open wait, ``statuses`` whose status is pushed. Shop
applies a change set: writes, pushes, KPI deltas, in that order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from console.protocol.holders import BOT, Holder, agent_of, is_queue
from console.protocol.messages import RemovalReason, Routed, SessionClosed
from console.reception.audience import Staff, audience
from console.reception.waits import OpenWait, WaitChange, wait_after_decision
from console.routing.events import Decision, Reason

_REMOVAL = {
    Reason.TRANSFER: RemovalReason.TRANSFERRED,
    Reason.CLAIMED: RemovalReason.CLAIMED,
    Reason.AGENT_CLOSE: RemovalReason.CLOSED,
    Reason.IDLE: RemovalReason.CLOSED,
}


class RowFacts(Protocol):
    """What the core reads of a conversation row (the server's ``Row`` has these and more)."""

    @property
    def buyer(self) -> str: ...
    @property
    def holder(self) -> str | None: ...
    @property
    def agent(self) -> str | None: ...
    @property
    def last_text(self) -> str: ...
    @property
    def last_at(self) -> float: ...
    @property
    def waiting_since(self) -> float | None: ...
    @property
    def cleared(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class Removal:
    """An agent whose list showed the row and no longer does, and why (ConversationRemoved)."""

    agent: str
    reason: RemovalReason


@dataclass(frozen=True, slots=True)
class Reception:
    """An agent received a buyer (CONSOLE.md §1): recorded, and counted by the KPI book."""

    agent: str
    buyer: str
    t: float


@dataclass(frozen=True, slots=True)
class DecisionChanges:
    """Everything one decision changes about its buyer's row, and who is told what."""

    holder: str | None  # the row's new holder (None: the session closed)
    agent: str | None  # whose list shows it now
    last_at: float  # what the row sorts by
    removed: tuple[Removal, ...]  # agents whose lists lose the row, in agent order
    told: tuple[str, ...]  # agents whose lists show the row changed (ConversationUpdated)
    buyer: Routed | SessionClosed | None  # what the buyer is told (None: the caller answers it)
    reception: Reception | None  # a new reception (§1), for the record and the KPI book
    wait: WaitChange | None  # the buyer's open wait moves to its new holder (``waits``)
    bot_turn: bool  # the bot now holds a buyer who waits: it answers after the decisions (R7.7)
    left_queue: str | None  # the queue the buyer left (the buyers behind it move up, R10.4)
    touched: frozenset[str]  # agents whose load may have changed (their status is pushed)
    team_changed: bool  # the room's team view may show something else (who waits for whom)


@dataclass(frozen=True, slots=True)
class MessageChanges:
    """A conversation changed (a message, read, or its row's text): whose lists show it."""

    told: tuple[str, ...]  # ConversationUpdated, or MessageAdded with the row when there is a message
    team_changed: bool


def routed(d: Decision, names: Mapping[str, str]) -> Routed:
    """What the buyer side is told about a routing outcome (no internal ids beyond the kind)."""
    agent = agent_of(d.to)
    name = names.get(agent, agent) if agent is not None else None
    return Routed(to=Holder.parse(d.to).kind.value, name=name, why=d.why, position=d.position, eta=d.eta,
                  tip=d.tip)


def removal_reason(why: Reason) -> RemovalReason:
    """Why a row left a list, as its former viewers are told (transfer, claim, close, or re-route)."""
    return _REMOVAL.get(why, RemovalReason.REROUTED)


def queue_left(holder: str | None, d: Decision) -> str | None:
    """The queue a buyer held by ``holder`` leaves with decision ``d`` (the buyers behind it move
    up, R10.4), or None."""
    return holder if holder is not None and is_queue(holder) and d.to != holder else None


def decision_changes(d: Decision, row: RowFacts, staff: Staff, names: Mapping[str, str], *,
                     quiet: bool = False, wait: OpenWait | None = None) -> DecisionChanges:
    """One decision about ``row``'s buyer (``row`` as it is before it, ``wait`` its open wait).
    ``quiet``: the caller answers the buyer's own outcome itself (an arrive's reply), so no
    separate push."""
    before_agent = agent_of(row.holder)
    to_agent = agent_of(d.to) if d.event != "closed" else None
    touched = frozenset(a for a in (before_agent, agent_of(d.to), agent_of(d.previous)) if a)
    left_queue = queue_left(row.holder, d)
    shown_before = audience(row.holder, row.agent, staff)
    holder: str | None
    agent: str | None
    if d.event == "closed":
        holder, agent, last_at = None, row.agent, row.last_at
        reception = None
        told_buyer: Routed | SessionClosed | None = SessionClosed(why=d.why)
        bot_turn = False
    else:
        holder = d.to
        last_at = d.t if row.last_at == 0.0 and not row.last_text else row.last_at  # the arrival, until a message
        if to_agent is not None:
            agent = to_agent
        elif d.to != str(BOT):
            agent = None  # the pool (everyone's list) or a queue (nobody's until dequeued)
        else:
            agent = row.agent  # the bot: the last agent keeps it in its history
        # §1 received; a re-arrive (R9.1, the open session) is not a new reception
        reception = Reception(to_agent, d.buyer, d.t) if to_agent is not None and d.why is not Reason.OPEN_SESSION \
            else None
        told_buyer = None if quiet else routed(d, names)
        bot_turn = d.to == str(BOT) and row.waiting_since is not None
    shown = audience(holder, agent, staff)
    reason = removal_reason(d.why)
    removed = tuple(Removal(a, reason) for a in sorted(set(shown_before) - set(shown)))
    return DecisionChanges(
        holder=holder, agent=agent, last_at=last_at, removed=removed,
        told=() if row.cleared else shown,  # a cleared row stays off its lists until the buyer writes (§1)
        buyer=told_buyer, reception=reception,
        wait=wait_after_decision(wait, d.buyer, to_agent, closed=d.event == "closed"),
        bot_turn=bot_turn, left_queue=left_queue, touched=touched,
        team_changed=agent_of(holder) is not None,
    )


def message_changes(row: RowFacts, staff: Staff, *, message: bool) -> MessageChanges:
    """A row changed, with a new ``message`` or without one (read, a row field): its audience is
    told; a cleared row only with a message (the buyer wrote: it is back)."""
    told = audience(row.holder, row.agent, staff) if message or not row.cleared else ()
    return MessageChanges(told=told, team_changed=agent_of(row.holder) is not None)


def bot_turn_after(holder_before: str | None, holder: str | None) -> bool:
    """After a buyer message: the bot takes a turn when it holds the buyer (it answers or hands
    off, R7.7) or an agent does (its assist, if the policy has ``bot.assist``), but not when the
    message itself moved the buyer (a hand-off word: the new holder answers)."""
    return holder_before == holder and (holder == str(BOT) or agent_of(holder) is not None)


def agents_in(events: Iterable[object]) -> frozenset[str]:
    """The agents an engine input names (a status change, a claim, a transfer's target)."""
    found = set()
    for event in events:
        agent = getattr(event, "agent", None)
        if isinstance(agent, str):
            found.add(agent)
    return frozenset(found)

