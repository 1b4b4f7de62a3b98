"""The 接待数据 tiles (CONSOLE.md §3) from plain records, in batch and incrementally.

Definitions, for one agent (or for the team: every agent together):

- received today: distinct buyers received (routing gave them to the agent) since local
  midnight; a buyer's reception time ``r`` is their first reception today;
- not ordered: received buyers with no order placed or paid at or after ``r``;
- not paid: received buyers who placed an order since ``r``, have not paid since ``r``, and
  whose latest order event is ``unpaid``;
- paid: received buyers with a ``paid`` order event at or after ``r``;
- conversion: paid / received;
- yesterday's satisfaction: ratings of 4 or 5 / all ratings, rated yesterday;
- yesterday's 3-minute response rate: buyer waits that began yesterday and that a human answered
  less than 180 s later (ROUTING.md §1 "within"), over all those waits, answered or not;
- yesterday's average response: mean answer time over the answered waits that began yesterday.

With no reception every reception tile is None ("-"); likewise satisfaction without ratings and
both response tiles without waits. "Today" and "yesterday" are ``DayRange`` values the caller
computes in the shop's timezone: this module never reads a clock.

``Accumulator`` keeps the same figures incrementally for the server (one per agent per day and
one for the team); ``agent_tiles`` / ``team_tiles`` compute them from the full records. Feed an
accumulator in time order, receptions before order events at the same instant.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import msgspec

from console.reception.model import Author, KpiTiles, Message

RESPONSE_LIMIT = 180.0  # seconds: the 3-minute response rate
SATISFIED = 4  # ratings of 4 and 5 of 5 are satisfied
BUYER_LIST_LIMIT = 200  # the latest 200 buyers behind a tile


class DayRange(msgspec.Struct, frozen=True):
    """A local day as epoch seconds, ``start`` included, ``end`` excluded."""

    start: float
    end: float

    def __contains__(self, at: float) -> bool:
        return self.start <= at < self.end


class Reception(msgspec.Struct, frozen=True):
    agent: str
    buyer: str
    at: float


class OrderEvent(msgspec.Struct, frozen=True):
    buyer: str
    state: str  # unpaid, paid, shipped, success, closed, after_sale
    at: float


class Rating(msgspec.Struct, frozen=True):
    agent: str
    score: int  # 1..5
    at: float


class Wait(msgspec.Struct, frozen=True):
    """A buyer waiting for a human: from ``start`` to ``answered`` (None: never answered)."""

    agent: str | None  # who answered, or who held the conversation while it went unanswered
    start: float
    answered: float | None = None

    @property
    def seconds(self) -> float | None:
        return None if self.answered is None else self.answered - self.start


class BuyerTile(StrEnum):
    NOT_ORDERED = "not_ordered"
    NOT_PAID = "not_paid"


_ORDERED_STATES = frozenset({"unpaid", "paid"})


def waits_from_messages(messages: Iterable[Message], holder: str | None = None) -> list[Wait]:
    """The response waits of one conversation, its messages in order.

    A wait begins at a buyer message when no wait is open (later buyer messages join it) and
    ends at the next agent message; bot and system messages do not end it. An answered wait
    belongs to the agent who answered; one still open belongs to ``holder`` (an agent id, or
    None when a bot or the pool holds the buyer, which no agent is measured on).
    """
    waits: list[Wait] = []
    start: float | None = None
    for m in messages:
        if m.author is Author.BUYER:
            if start is None:
                start = m.at
        elif m.author is Author.AGENT and start is not None:
            waits.append(Wait(agent=m.agent, start=start, answered=m.at))
            start = None
    if start is not None:
        waits.append(Wait(agent=holder, start=start))
    return waits


@dataclass
class _Orders:
    """A received buyer's order events since their reception (only buyers who have any)."""

    ordered: bool = False
    paid: bool = False
    latest: str | None = None  # the latest order state since reception


@dataclass
class Accumulator:
    """One day's figures for one agent or the team, kept as events happen.

    Today's accumulator gives the reception tiles; yesterday's gives the quality tiles
    (``tiles(today, yesterday)``). Receptions and order events go to today's; ratings and waits
    to the accumulator of the day they happened (a wait: the day it began).

    A received buyer is one float (``buyers``: their first reception time); only buyers with an
    order event since then get an ``_Orders`` record, and the tile counts are kept as they change,
    so ``tiles`` reads counters instead of walking every buyer (a start with 1,000,000 receptions
    today built two objects per reception and summed them per agent: issue 9).
    """

    buyers: dict[str, float] = field(default_factory=dict)  # buyer -> first reception today
    orders: dict[str, _Orders] = field(default_factory=dict)
    ordered: int = 0  # received buyers counted as ordered, not paid, paid (kept with ``orders``)
    not_paid: int = 0
    paid: int = 0
    ratings: int = 0
    satisfied: int = 0
    waits: int = 0
    answered: int = 0
    fast: int = 0
    answer_seconds: float = 0.0

    def add_reception(self, buyer: str, at: float) -> None:
        self.buyers.setdefault(buyer, at)  # a second reception today keeps the first time

    def order_changed(self, buyer: str, state: str, at: float) -> None:
        received = self.buyers.get(buyer)
        if received is None or at < received:
            return
        b = self.orders.get(buyer)
        if b is None:
            b = self.orders[buyer] = _Orders()
        else:
            self._count(b, -1)
        b.ordered = b.ordered or state in _ORDERED_STATES
        b.paid = b.paid or state == "paid"
        b.latest = state
        self._count(b, 1)

    def _count(self, b: _Orders, sign: int) -> None:
        self.ordered += sign * b.ordered
        self.paid += sign * b.paid
        self.not_paid += sign * _is_not_paid(b)

    def add_rating(self, score: int) -> None:
        self.ratings += 1
        self.satisfied += score >= SATISFIED

    def add_wait(self, wait: Wait) -> None:
        self.waits += 1
        seconds = wait.seconds
        if seconds is not None:
            self.answered += 1
            self.answer_seconds += seconds
            self.fast += seconds < RESPONSE_LIMIT

    def buyer_list(self, tile: BuyerTile, limit: int = BUYER_LIST_LIMIT) -> list[str]:
        """The buyers behind a tile, latest reception first."""
        keep = _is_not_ordered if tile is BuyerTile.NOT_ORDERED else _is_not_paid
        orders = self.orders
        chosen = [(at, buyer) for buyer, at in self.buyers.items() if keep(orders.get(buyer))]
        chosen.sort(key=lambda rb: (-rb[0], rb[1]))
        return [buyer for _, buyer in chosen[:limit]]


def _is_not_ordered(b: _Orders | None) -> bool:
    return b is None or not b.ordered


def _is_not_paid(b: _Orders | None) -> bool:
    return b is not None and b.ordered and not b.paid and b.latest == "unpaid"


def tiles(today: Accumulator, yesterday: Accumulator | None) -> KpiTiles:
    """The eight tiles from today's and yesterday's figures (None where there is no data)."""
    y = yesterday or Accumulator()
    quality = KpiTiles(
        satisfaction_yesterday=y.satisfied / y.ratings if y.ratings else None,
        response_3min_yesterday=y.fast / y.waits if y.waits else None,
        avg_response_yesterday=y.answer_seconds / y.answered if y.answered else None,
    )
    received = len(today.buyers)
    if not received:
        return quality
    return msgspec.structs.replace(
        quality,
        received_today=received,
        not_ordered=received - today.ordered,
        not_paid=today.not_paid,
        paid=today.paid,
        conversion=today.paid / received,
    )


def accumulate(
    agent: str | None,
    day: DayRange,
    receptions: Iterable[Reception] = (),
    orders: Iterable[OrderEvent] = (),
    ratings: Iterable[Rating] = (),
    waits: Iterable[Wait] = (),
) -> Accumulator:
    """One day's accumulator built from full records (``agent`` None: the whole team)."""
    acc = Accumulator()
    first: dict[str, float] = {}
    for r in receptions:
        if (agent is None or r.agent == agent) and r.at in day:
            first[r.buyer] = min(r.at, first.get(r.buyer, r.at))
    for buyer, at in first.items():
        acc.add_reception(buyer, at)
    for o in sorted(orders, key=lambda o: o.at):  # stable: same-instant events keep their order
        if o.at in day:
            acc.order_changed(o.buyer, o.state, o.at)
    for g in ratings:
        if (agent is None or g.agent == agent) and g.at in day:
            acc.add_rating(g.score)
    for w in waits:
        if w.agent is not None and (agent is None or w.agent == agent) and w.start in day:
            acc.add_wait(w)
    return acc


def agent_tiles(
    agent: str,
    today: DayRange,
    yesterday: DayRange,
    receptions: Sequence[Reception] = (),
    orders: Sequence[OrderEvent] = (),
    ratings: Sequence[Rating] = (),
    waits: Sequence[Wait] = (),
) -> KpiTiles:
    """The tiles of one agent from full records."""
    return tiles(
        accumulate(agent, today, receptions, orders),
        accumulate(agent, yesterday, ratings=ratings, waits=waits),
    )


def team_tiles(
    today: DayRange,
    yesterday: DayRange,
    receptions: Sequence[Reception] = (),
    orders: Sequence[OrderEvent] = (),
    ratings: Sequence[Rating] = (),
    waits: Sequence[Wait] = (),
) -> KpiTiles:
    """The tiles of the whole team: distinct buyers over all agents, all ratings and waits."""
    return tiles(
        accumulate(None, today, receptions, orders),
        accumulate(None, yesterday, ratings=ratings, waits=waits),
    )
