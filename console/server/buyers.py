"""The ``/buyer`` endpoint: what a shop platform's IM gateway (or the simulator) says for a buyer.

The first frame is ``hello``: who the buyer is (and the gateway key, when the server has one).
The buyer's kind (consumer, merchant, platform staff, group chat) comes from the server's own
directory, never from the connection (CONSOLE.md §1). Then: ``arrive`` runs routing and is
answered with the outcome; ``say`` stores the message (idempotent on ``client_id``) and, when the
bot holds the buyer, lets the bot answer or hand off (R7.7); ``rate``, ``order`` and
``get_questions`` (R7.5). Routing outcomes, queue positions, agent and bot messages and session
ends are pushed as they happen.
"""

from __future__ import annotations

import hmac
import logging

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from console.protocol.access import check_buyer
from console.protocol.codec import ProtocolError, decode_buyer
from console.protocol.messages import (
    Arrive,
    BuyerHello,
    BuyerRequest,
    ErrorCode,
    GetQuestions,
    Ok,
    OrderUpdate,
    Questions,
    Rate,
    Routed,
    Say,
    SayAck,
)
from console.reception.model import Author
from console.routing import events
from console.server.conversations import ArriveAttrs, Row
from console.server.directory import BuyerAccount
from console.server.frames import serve_frames
from console.server.limits import Doorway, Limits
from console.server.shop import Shop

log = logging.getLogger(__name__)


class BuyerSide:
    """Serves buyer-side connections for one shop."""

    def __init__(self, shop: Shop, limits: Limits, doorway: Doorway, gateway_key: str | None = None) -> None:
        self.shop = shop
        self.store = shop.store
        self.hub = shop.hub
        self.limits = limits
        self.gateway_key = gateway_key
        self.doorway = doorway

    async def serve(self, conn: ServerConnection) -> None:
        buyer: BuyerAccount | None = None

        async def on_request(request: BuyerRequest) -> bool:
            nonlocal buyer
            check_buyer(request, greeted=buyer is not None)  # hello first, and only once
            if buyer is None:
                assert isinstance(request, BuyerHello)
                buyer = self._hello(conn, request)
                await self.store.committed()
                self.hub.reply(conn, Ok(rid=request.rid))
                where = self.shop.current_routed(buyer.id)  # a reconnecting gateway learns it
                if where is not None:
                    self.hub.reply(conn, where)
                return True
            answer = self._handle(buyer, request)
            await self.store.committed()  # answer only after the commit that holds it
            self.hub.reply(conn, answer)
            return True

        try:
            await serve_frames(conn, self.hub, limits=self.limits, rate=(self.limits.buyer_rate, self.limits.buyer_burst),
                               doorway=self.doorway, decode=decode_buyer, greeted=lambda: buyer is not None,
                               hello_first="say hello first", on_request=on_request, what="buyer")
        except ConnectionClosed:
            pass
        finally:
            if buyer is not None:
                self.hub.remove_buyer(buyer.id, conn)

    def _hello(self, conn: ServerConnection, request: BuyerHello) -> BuyerAccount:
        if self.gateway_key is not None and (
            request.key is None or not hmac.compare_digest(request.key.encode(), self.gateway_key.encode())
        ):
            raise ProtocolError(ErrorCode.UNAUTHENTICATED, "wrong or missing gateway key", "key")
        account = self.shop.directory.greet(request.buyer, request.name)
        self.shop.rows.ensure(account.id, account.name, account.kind)
        self.hub.add_buyer(account.id, conn)
        return account

    def _handle(self, buyer: BuyerAccount, request: BuyerRequest) -> Ok | Routed | SayAck | Questions:
        row = self.shop.rows.get(buyer.id)
        assert row is not None
        if isinstance(request, Arrive):
            return self._arrive(row, request)
        if isinstance(request, Say):
            return self._say(row, request)
        if isinstance(request, Rate):
            if row.agent is None:
                raise ProtocolError(ErrorCode.CONFLICT, "no session with an agent to rate yet")
            # One rating per session counts; a second replaces the first (issue 10). The session
            # began with the agent's latest reception of this buyer.
            began = self.store.one("SELECT MAX(at) AS at FROM receptions WHERE buyer = ? AND agent = ?",
                                   (row.buyer, row.agent))
            self.store.execute("DELETE FROM ratings WHERE buyer = ? AND agent = ? AND at >= ?",
                               (row.buyer, row.agent, began["at"] if began and began["at"] is not None else 0.0))
            self.store.execute(
                "INSERT INTO ratings (buyer, agent, score, at) VALUES (?, ?, ?, ?)",
                (row.buyer, row.agent, request.score, self.shop.driver.now()),
            )  # counted in the KPI book at the next midnight (yesterday's satisfaction)
            return Ok(rid=request.rid)
        if isinstance(request, OrderUpdate):
            now = self.shop.driver.now()
            self.store.execute(
                "INSERT INTO orders (id, buyer, state, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT(id) DO UPDATE"
                " SET state = excluded.state, updated_at = excluded.updated_at WHERE orders.buyer = excluded.buyer",
                (request.order, row.buyer, request.state.value, now),
            )
            owner = self.store.one("SELECT buyer FROM orders WHERE id = ?", (request.order,))
            if owner is None or owner["buyer"] != row.buyer:
                raise ProtocolError(ErrorCode.FORBIDDEN, "that order belongs to another buyer", "order")
            self.store.execute(
                "INSERT INTO order_events (buyer, order_id, state, at) VALUES (?, ?, ?, ?)",
                (row.buyer, request.order, request.state.value, now),
            )
            self.shop.feed(events.OrderChange(buyer=row.buyer, order=request.order, state=request.state.value))
            if self.shop.kpis is not None:
                self.shop.kpis.order(row.buyer, request.state.value, now)
            return Ok(rid=request.rid)
        if isinstance(request, GetQuestions):
            return Questions(rid=request.rid, entry=request.entry, questions=list(self.shop.policy.entry_questions(request.entry.value)))
        raise ProtocolError(ErrorCode.UNKNOWN_TYPE, f"{type(request).__name__} is not handled here")

    def _arrive(self, row: Row, request: Arrive) -> Routed:
        attrs = ArriveAttrs(entry=request.entry.value, product=request.product, question=request.question,
                            intent=request.intent, crowd=tuple(request.crowd), exclusive=request.exclusive)
        row.arrive = attrs
        self.shop.rows.save(row)
        decisions = self._route(row, attrs, quiet=True)
        mine = [d for d in decisions if d.buyer == row.buyer and d.event != "closed"]
        routed = self.shop.routed(mine[-1])
        return Routed(rid=request.rid, to=routed.to, name=routed.name, why=routed.why, position=routed.position,
                      eta=routed.eta, tip=routed.tip)

    def _route(self, row: Row, attrs: ArriveAttrs, *, quiet: bool) -> list[events.Decision]:
        return self.shop.feed(
            events.Arrive(buyer=row.buyer, entry=attrs.entry, product=attrs.product, question=attrs.question,
                          intent=attrs.intent, crowd=attrs.crowd, role=row.kind.value, exclusive=attrs.exclusive),
            quiet=row.buyer if quiet else None,
        )

    def _say(self, row: Row, request: Say) -> SayAck:
        earlier = self.shop.rows.find_client_message(row.buyer, request.client_id, Author.BUYER)
        if earlier is not None:
            return SayAck(rid=request.rid, client_id=request.client_id, message_id=earlier.id, duplicate=True)
        if row.arrive is None:
            raise ProtocolError(ErrorCode.CONFLICT, "no session: send arrive first")
        if row.holder is None:  # writing after the session closed opens a new one (R2.1 routing runs)
            self._route(row, row.arrive or ArriveAttrs(), quiet=False)
        now = self.shop.driver.now()
        message = self.shop.rows.add_message(row, Author.BUYER, request.text, now, client_id=request.client_id)
        self.shop.open_wait(row, now)
        holder_before = row.holder
        self.shop.feed(events.BuyerSay(buyer=row.buyer, text=request.text))  # may hand off (R7.7)
        self.shop._publish(row, message)
        if holder_before == "bot" and row.holder == "bot":
            self.shop.bot_answer(row, request.text)
        return SayAck(rid=request.rid, client_id=request.client_id, message_id=message.id)
