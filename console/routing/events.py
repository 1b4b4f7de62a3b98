"""Inputs and outputs of the routing engine.

The engine is a pure function of the events it is given and the times they happen at
(``Engine.apply(event, now)``). Events are msgspec structs with a ``kind`` tag so that the
server can append them to its event log as JSON and rebuild the exact same engine state on
restart by applying them again in order (R8.7 makes that deterministic).
"""

from __future__ import annotations

from enum import StrEnum

import msgspec


class Status(StrEnum):
    ONLINE = "online"
    SUSPENDED = "suspended"
    OFFLINE = "offline"


class Reason(StrEnum):
    """Why a decision was made: ROUTING.md §12, plus the closes and the server's manual moves."""

    OPEN_SESSION = "open_session"  # R9.1
    REPEAT_ENTRY = "repeat_entry"  # R5
    RECENT_ANY_STATUS = "recent_any_status"  # R4.1
    RECENT = "recent"  # R4.2
    RECENT_SAME_GROUP = "recent_same_group"  # R4.3
    RECENT_OFFLINE_BOT = "recent_offline_bot"  # R4.4
    OFFLINE_MAIN = "offline_main"  # R6.1
    OFFLINE_PROXY = "offline_proxy"  # R6.1
    OFFLINE_POOL = "offline_pool"  # R6.1
    OFFLINE_LIST = "offline_list"  # R6.1
    OFFLINE_QUEUE = "offline_queue"  # R6.1
    EXCLUSIVE = "exclusive"  # R7.1
    SHOP_BOT = "shop_bot"  # R7.2
    GROUP_BOT = "group_bot"  # R7.6
    GROUP = "group"  # R8.1-R8.5
    SHOP_FALLBACK = "shop_fallback"  # R8.6
    QUEUED = "queued"  # R10.2
    DEQUEUED = "dequeued"  # R10.3
    OVERFLOW = "overflow"  # R10.6
    REROUTE_OFFLINE = "reroute_offline"  # R3.3
    HANDOFF = "handoff"  # R7.7
    # closes (SCENARIOS.md)
    AGENT_CLOSE = "agent_close"
    IDLE = "idle"
    # manual moves made through the server (not produced by replay)
    TRANSFER = "transfer"  # R3.5: an explicit transfer by the holder or a supervisor
    CLAIMED = "claimed"  # an agent claimed a buyer from the message pool (R6.1 pool)
    CONTACT = "contact"  # R3.5 by analogy: an agent wrote first to a buyer with no session (再次联系)


class Event(msgspec.Struct, frozen=True, tag_field="kind", kw_only=True):
    """Base of every engine input."""


class SetStatus(Event, tag="status", frozen=True, kw_only=True):
    agent: str
    status: Status


class Arrive(Event, tag="arrive", frozen=True, kw_only=True):
    """The buyer clicks the chat entry (R2.1). ``entry`` defaults to ``other`` (R7.5)."""

    buyer: str
    entry: str = "other"
    product: str | None = None
    question: str | None = None
    intent: str | None = None
    crowd: tuple[str, ...] = ()
    role: str = "consumer"
    exclusive: str | None = None


class OrderChange(Event, tag="order", frozen=True, kw_only=True):
    buyer: str
    order: str
    state: str  # unpaid, paid, shipped, success, closed, after_sale


class BuyerSay(Event, tag="say", frozen=True, kw_only=True):
    buyer: str
    text: str = ""


class HolderReply(Event, tag="reply", frozen=True, kw_only=True):
    """Whoever holds the buyer's session (an agent or the bot) writes to the buyer."""

    buyer: str
    text: str = ""


class Close(Event, tag="close", frozen=True, kw_only=True):
    buyer: str


class Handoff(Event, tag="handoff", frozen=True, kw_only=True):
    """The bot hands the buyer to a human (R7.7)."""

    buyer: str


class Transfer(Event, tag="transfer", frozen=True, kw_only=True):
    """R3.5: the holder or a supervisor moves a buyer's open session to a named agent who is
    online (suspended included, caps aside), or to a group (``group`` instead of ``agent``),
    whose pick chooses among its available agents; a full queuing group queues the buyer."""

    buyer: str
    agent: str | None = None
    group: str | None = None


class Claim(Event, tag="claim", frozen=True, kw_only=True):
    """An agent takes a buyer out of the message pool (R6.1 ``pool``)."""

    buyer: str
    agent: str


class Contact(Event, tag="contact", frozen=True, kw_only=True):
    """An agent writes first to a buyer who has no open session (再次联系 from search, issue 13).

    As an explicit move to a named agent (R3.5): the agent must be online or suspended (R3.1;
    offline receives nothing, R3.2) and is not refused for a cap (it chose to); the session opens
    with it (R9.1) and it becomes the buyer's recent contact (R2.1). The agent spoke last, so the
    R9.2 idle close applies if the buyer does not answer."""

    buyer: str
    agent: str


AnyEvent = SetStatus | Arrive | OrderChange | BuyerSay | HolderReply | Close | Handoff | Transfer | Claim | Contact


class Decision(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One outcome: a buyer routed, queued or closed, with the reason and the rule that decided.

    ``to`` is ``agent:ID``, ``bot``, ``pool``, ``queue:GROUP`` or ``queue:shop``.
    ``previous`` is the holder the buyer left (re-routes, hand-offs, transfers), so the server
    can tell that agent the conversation has gone.
    """

    event: str  # "routed", "queued", "closed"
    buyer: str
    to: str
    why: Reason
    rule: str
    t: float
    position: int | None = None
    eta: float | None = None
    tip: str | None = None
    previous: str | None = None
    via: str | None = None  # for re-routes and hand-offs: the reason/rule that picked the target


event_encoder = msgspec.json.Encoder()
event_decoder = msgspec.json.Decoder(AnyEvent)
