"""The buyer panel's facts (CONSOLE.md §6, issue 12): order details, shared notes and tags, past
sessions, and the decision that brought the buyer where it is.

The SQL of those is ``console.server.repository.panel``'s; this module turns its rows into what
the panel shows. ``Shop`` decides who may write and
whom to tell. Every write joins the current request's savepoint (``Shop.atomic``).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable

import msgspec

from console.protocol.holders import Holder, HolderKind
from console.protocol.messages import (
    MAX_BUYER_TAGS,
    MAX_HISTORY,
    MAX_PANEL_ORDERS,
    MAX_PANEL_SESSIONS,
    ArriveInfo,
    BuyerPanel,
    DecisionInfo,
    Entry,
    Message,
    NoteInfo,
    OrderInfo,
    OrderItem,
    OrderState,
    SessionInfo,
)
from console.routing.events import Reason
from console.server.repository import ArriveAttrs, Record, Row
from console.server.repository.catalog import Catalog
from console.server.repository.panel import PanelRepository
from console.server.store import Store

_items_encoder = msgspec.json.Encoder()
_items_decoder = msgspec.json.Decoder(list[OrderItem])


def explain(event: str, to: str, why: Reason, rule: str) -> str:
    """A decision in a plain sentence (the console translates the reason itself)."""
    try:
        holder = Holder.parse(to)
    except ValueError:
        target = to
    else:
        target = {HolderKind.BOT: "the bot", HolderKind.POOL: "the message pool",
                  HolderKind.QUEUE: f"queue {holder.ref}"}.get(holder.kind, holder.ref or to)
    verb = {"routed": "went to", "queued": "queued in", "closed": "closed with"}.get(event, event)
    return f"{verb} {target}: {why.value} ({rule})"


def decision_info(r: Record) -> DecisionInfo:
    why = Reason(r["why"])
    return DecisionInfo(at=float(r["at"]), event=str(r["event"]), to=str(r["target"]), why=why, rule=str(r["rule"]),
                        text=explain(str(r["event"]), str(r["target"]), why, str(r["rule"])),
                        position=r["position"], eta=r["eta"], previous=r["previous"])


class PanelLimit(Exception):
    """A buyer already has as many tags as allowed."""


class PanelFacts:
    """Statements of the buyer panel on one store."""

    def __init__(self, store: Store, name: Callable[[str], str]) -> None:
        self.store = store
        self.sql = PanelRepository(store)
        self.name = name  # an agent's display name (the policy's), for who wrote and who served

    # -- orders -----------------------------------------------------------------------------------

    def order_details(self, order: str, items: list[OrderItem] | None, amount: int | None) -> None:
        """What the buyer side said an order holds; a field left out keeps what was said before."""
        if items is None and amount is None:
            return
        self.sql.save_order_details(order, None if items is None else _items_encoder.encode(items).decode(), amount)

    def orders(self, buyer: str) -> list[OrderInfo]:
        rows = self.sql.orders(buyer, MAX_PANEL_ORDERS)
        return [OrderInfo(id=str(r["id"]), state=OrderState(r["state"]),
                          items=_items_decoder.decode(r["items"]) if r["items"] else [],
                          amount=r["amount"], updated_at=float(r["updated_at"]),
                          created_at=float(r["created_at"] if r["created_at"] is not None else r["updated_at"]))
                for r in rows]

    # -- notes and tags -----------------------------------------------------------------------------

    def add_note(self, buyer: str, text: str, by: str, at: float) -> int:
        return self.sql.add_note(buyer, text, by, at)  # bounded: the oldest go past MAX_NOTES

    def remove_note(self, buyer: str, note: int) -> bool:
        return self.sql.remove_note(buyer, note)

    def notes(self, buyer: str) -> list[NoteInfo]:
        return [NoteInfo(id=int(r["id"]), text=str(r["text"]), by=str(r["by"]), name=self.name(str(r["by"])),
                         at=float(r["at"]))
                for r in self.sql.notes(buyer)]

    def add_tag(self, buyer: str, tag: str, by: str, at: float) -> bool:
        """False when the buyer has the tag already; PanelLimit when it has MAX_BUYER_TAGS."""
        if self.sql.has_tag(buyer, tag):
            return False
        if self.sql.tag_count(buyer) >= MAX_BUYER_TAGS:
            raise PanelLimit(f"a buyer has at most {MAX_BUYER_TAGS} tags")
        self.sql.add_tag(buyer, tag, by, at)
        return True

    def remove_tag(self, buyer: str, tag: str) -> bool:
        return self.sql.remove_tag(buyer, tag)

    def tags(self, buyer: str) -> list[str]:
        return self.sql.tags(buyer)

    # -- sessions and the why -----------------------------------------------------------------------

    def sessions(self, buyer: str, *, open_with: str | None) -> list[SessionInfo]:
        """The buyer's sessions with agents, newest first: each from a reception to the first close
        after it or the next reception. ``open_with``: the agent holding the buyer now (its latest
        session is still going on)."""
        receptions = self.sql.receptions(buyer, MAX_PANEL_SESSIONS)
        if not receptions:
            return []
        oldest = float(receptions[-1]["at"])
        closes = self.sql.close_times(buyer, oldest)
        times = self.sql.message_times(buyer, oldest)
        found: list[SessionInfo] = []
        following: float | None = None
        for index, r in enumerate(receptions):
            started = float(r["at"])
            first = bisect_left(closes, started)  # the first close at or after the start, before the next one
            closed = closes[first] if first < len(closes) and (following is None or closes[first] <= following) else None
            ended = closed if closed is not None else following
            if index == 0 and ended is None and open_with != r["agent"]:
                ended = started  # moved away without a close (a transfer, R3.2): over
            # the messages at or after the start and at or before the end
            count = (len(times) if ended is None else bisect_right(times, ended)) - bisect_left(times, started)
            found.append(SessionInfo(id=int(r["id"]), agent=str(r["agent"]), name=self.name(str(r["agent"])),
                                     started=started,
                                     ended=None if ended is None else float(ended), messages=count))
            following = started
        return found

    def session(self, buyer: str, session: int, *, open_with: str | None) -> SessionInfo | None:
        for info in self.sessions(buyer, open_with=open_with):
            if info.id == session:
                return info
        return None

    def session_messages(self, buyer: str, info: SessionInfo) -> tuple[list[Message], bool]:
        """The first MAX_HISTORY messages of a session (and whether there were more)."""
        rows = self.sql.messages_between(buyer, info.started, info.ended, MAX_HISTORY + 1)
        return rows[:MAX_HISTORY], len(rows) > MAX_HISTORY

    def why(self, buyer: str) -> DecisionInfo | None:
        """The decision that put the buyer where it is: the latest that is not a close, skipping
        ``open_session`` (each message of an open session is one, R9.1, and says nothing of why)."""
        r = self.sql.latest_decision(buyer, Reason.OPEN_SESSION.value)
        return None if r is None else decision_info(r)

    # -- the whole panel ----------------------------------------------------------------------------

    def panel(self, row: Row) -> BuyerPanel:
        arrive = arrive_info(row.arrive, self.name)
        product = Catalog(self.store).get(arrive.product) if arrive is not None and arrive.product else None
        if arrive is not None and product is not None:  # shown by title, not by id
            arrive = msgspec.structs.replace(arrive, product_title=product.title, product_price=product.price)
        return BuyerPanel(conversation=row.buyer, orders=self.orders(row.buyer),
                          arrive=arrive,
                          why=self.why(row.buyer), sessions=self.sessions(row.buyer, open_with=row.holder_agent),
                          notes=self.notes(row.buyer), tags=self.tags(row.buyer))


def arrive_info(attrs: ArriveAttrs | None, name: Callable[[str], str]) -> ArriveInfo | None:
    if attrs is None:
        return None
    try:
        entry = Entry(attrs.entry)
    except ValueError:
        entry = Entry.OTHER
    return ArriveInfo(entry=entry, product=attrs.product, question=attrs.question, intent=attrs.intent,
                      crowd=list(attrs.crowd), exclusive=attrs.exclusive,
                      exclusive_name=name(attrs.exclusive) if attrs.exclusive else None)
