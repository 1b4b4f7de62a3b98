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

import asyncio
import hmac
import logging
from collections.abc import Awaitable, Callable

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from console.protocol.access import check_buyer
from console.protocol.codec import ProtocolError, decode_buyer
from console.protocol.messages import (
    Arrive,
    BuyerHello,
    BuyerRequest,
    ErrorCode,
    GetImage,
    GetQuestions,
    ImageBegin,
    ImageChunk,
    ImageEnd,
    ImagePart,
    Ok,
    OrderUpdate,
    Questions,
    Rate,
    Routed,
    Say,
    SayAck,
    ShareProduct,
)
from console.reception.model import IMAGE_TEXT, MessageKind
from console.server.answers import Answers
from console.server.conversations import ArriveAttrs
from console.server.directory import BuyerAccount
from console.server.frames import serve_frames
from console.server.images import ImageDesk
from console.server.limits import Doorway, Limits
from console.server.shop import Shop
from console.server.uploads import Uploads

log = logging.getLogger(__name__)


async def serve_buyer(conn: ServerConnection, pick: Callable[[str | None], Awaitable[BuyerSide]], first: BuyerSide) -> None:
    """One gateway connection for one buyer: its hello names the shop (``pick`` finds it or
    refuses with ``not_found``), and that shop's side serves it from then on (issue 15)."""
    side: BuyerSide | None = None
    buyer: BuyerAccount | None = None
    uploads: Uploads | None = None  # the connection's image uploads, in its shop's budget (issue 13)
    answers = Answers(conn, first.hub)  # in request order, each once its commit stands (answers.py)

    async def on_request(request: BuyerRequest) -> bool:
        nonlocal side, buyer, uploads
        check_buyer(request, greeted=buyer is not None)  # hello first, and only once
        if buyer is None:
            assert isinstance(request, BuyerHello)
            chosen = await pick(request.shop)
            with chosen.shop.atomic():
                buyer = chosen._hello(conn, request)
            side = chosen
            uploads = side.images.uploads()
            await chosen.shop.committed()
            answers.serve(chosen.hub, chosen.store, chosen.shop.batch_lost)
            answers.send(Ok(rid=request.rid))
            where = chosen.shop.current_routed(buyer.id)  # a reconnecting gateway learns it
            if where is not None:
                answers.send(where)
            return True
        assert side is not None
        if isinstance(request, ImageBegin | ImageChunk | ImageEnd | GetImage):
            assert uploads is not None
            answers.send(await side._image(buyer, uploads, request))
            return True
        handle(request)
        return True

    def now_ok(request: BuyerRequest) -> bool:  # served without a wait (frames.py ``direct``)
        return buyer is not None and not isinstance(request, _AWAITED)

    def serve_now(request: BuyerRequest) -> None:
        check_buyer(request, greeted=True)
        handle(request)

    def handle(request: BuyerRequest) -> None:  # checked (``check_buyer``), greeted, no wait
        assert side is not None and buyer is not None
        with side.shop.atomic():  # all of it or, on any error, none of it
            answer = side._handle(buyer, request)
        answers.committed(answer)  # sent once the commit that holds it stands; the next frame meanwhile

    limits = first.limits
    try:
        await serve_frames(conn, answers, limits=limits, rate=(limits.buyer_rate, limits.buyer_burst),
                           doorway=first.doorway, decode=decode_buyer, greeted=lambda: buyer is not None,
                           hello_first="say hello first", on_request=on_request, what="buyer",
                           serve_now=serve_now, now_ok=now_ok)
    except ConnectionClosed:
        pass
    finally:
        if uploads is not None:
            uploads.close()
        if side is not None and buyer is not None:
            side.hub.remove_buyer(buyer.id, conn)


_AWAITED = (BuyerHello, ImageBegin, ImageChunk, ImageEnd, GetImage)
"""Requests only the connection's task serves (they await); every other is served at once."""


class BuyerSide:
    """Serves buyer-side connections for one shop."""

    def __init__(self, shop: Shop, limits: Limits, doorway: Doorway, images: ImageDesk,
                 gateway_key: str | None = None) -> None:
        self.shop = shop
        self.images = images
        self.store = shop.store
        self.hub = shop.hub
        self.limits = limits
        self.gateway_key = gateway_key
        self.doorway = doorway

    async def serve(self, conn: ServerConnection) -> None:
        async def itself(name: str | None) -> BuyerSide:
            return self

        await serve_buyer(conn, itself, self)

    def _hello(self, conn: ServerConnection, request: BuyerHello) -> BuyerAccount:
        if self.gateway_key is not None and (
            request.key is None or not hmac.compare_digest(request.key.encode(), self.gateway_key.encode())
        ):
            raise ProtocolError(ErrorCode.UNAUTHENTICATED, "wrong or missing gateway key", "key")
        account = self.shop.greet(request.buyer, request.name)
        self.hub.add_buyer(account.id, conn)
        return account

    def _handle(self, buyer: BuyerAccount, request: BuyerRequest) -> Ok | Routed | SayAck | Questions:
        if isinstance(request, Arrive):
            attrs = ArriveAttrs(entry=request.entry.value, product=request.product, question=request.question,
                                intent=request.intent, crowd=tuple(request.crowd), exclusive=request.exclusive)
            routed = self.shop.buyer_arrives(buyer.id, attrs)
            return Routed(rid=request.rid, to=routed.to, name=routed.name, why=routed.why, position=routed.position,
                          eta=routed.eta, tip=routed.tip)
        if isinstance(request, Say):
            message_id, resent = self.shop.buyer_writes(buyer.id, request.text, request.client_id)
            return SayAck(rid=request.rid, client_id=request.client_id, message_id=message_id, duplicate=resent)
        if isinstance(request, ShareProduct):  # a product card from the buyer (issue 13)
            message_id, resent = self.shop.buyer_writes(buyer.id, "", request.client_id, product=request.product)
            return SayAck(rid=request.rid, client_id=request.client_id, message_id=message_id, duplicate=resent)
        if isinstance(request, Rate):
            self.shop.rate(buyer.id, request.score)
            return Ok(rid=request.rid)
        if isinstance(request, OrderUpdate):
            self.shop.order_changed(buyer.id, request.order, request.state.value, request.items, request.amount)
            return Ok(rid=request.rid)
        if isinstance(request, GetQuestions):
            return Questions(rid=request.rid, entry=request.entry, questions=self.shop.entry_questions(request.entry.value))
        raise ProtocolError(ErrorCode.UNKNOWN_TYPE, f"{type(request).__name__} is not handled here")

    async def _image(self, buyer: BuyerAccount, uploads: Uploads,
                     request: ImageBegin | ImageChunk | ImageEnd | GetImage) -> Ok | SayAck | ImagePart:
        """The buyer sends an image (in chunks, checked and stored before the message is
        committed) or fetches one of its own conversation: the answer."""
        now = asyncio.get_running_loop().time()
        answer: Ok | SayAck | ImagePart
        if isinstance(request, ImageBegin):
            if request.conversation is not None:
                raise ProtocolError(ErrorCode.INVALID, "leave conversation out: the buyer writes to its own",
                                    "conversation")
            earlier = self.shop.buyer_resent(buyer.id, request.client_id)
            if earlier is not None:  # already stored: nothing to send
                answer = SayAck(rid=request.rid, client_id=request.client_id, message_id=earlier, duplicate=True)
            else:
                uploads.begin(request, now)
                answer = Ok(rid=request.rid)
        elif isinstance(request, ImageChunk):
            uploads.chunk(request, now)
            answer = Ok(rid=request.rid)
        elif isinstance(request, ImageEnd):
            _, cleaned = await self.images.finish(uploads, request.client_id)  # checked (SQLite: stored, synced)
            with self.shop.atomic():
                self.images.save(cleaned)  # PostgreSQL: its row, in the message's transaction
                message_id, resent = self.shop.buyer_writes(buyer.id, IMAGE_TEXT, request.client_id,
                                                            kind=MessageKind.IMAGE, image=cleaned.ref)
            await self.shop.committed()
            answer = SayAck(rid=request.rid, client_id=request.client_id, message_id=message_id, duplicate=resent)
        else:
            if request.conversation not in (None, buyer.id):
                raise ProtocolError(ErrorCode.FORBIDDEN, "a buyer sees only its own conversation", "conversation")
            self.shop.check_image(buyer.id, request.sha256)
            answer = self.images.part(request)
        return answer
