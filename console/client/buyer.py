"""The buyer side of the protocol: what a shop platform's IM gateway (or the simulator) says.

One ``BuyerClient`` is one buyer's connection to ``/buyer``. It says who the buyer is (``hello``;
never what kind of account: that is the server's own data), then ``arrive`` (routing runs),
``say`` (idempotent on ``client_id``), ``rate``, ``order`` and ``get_questions``. The server's
pushes (``routed`` again on a re-route, ``queue`` position changes, ``agent_message``,
``session_closed``) come through ``pushes`` (observers) or ``subscribe()`` (an async stream), in
the order they arrived.

There is no reconnection here: a gateway connection that drops is simply opened again with the
same buyer id, and the server answers ``hello`` with the open session's ``routed``. A ``hello``
answered with ``moved`` (another server process owns the shop, issue 15) is said again at the
owner's address; ``connect`` always starts from the configured one.
"""

from __future__ import annotations

import ssl as ssl_module
from collections.abc import Callable, Iterable
from typing import Any

from websockets.asyncio.client import connect

from console.client.agent import new_client_id
from console.client.errors import NotConnected, Redirected
from console.client.images import fetch_image, send_image
from console.client.link import REQUEST_TIMEOUT, Link, decode_buyer_push
from console.client.moves import Moves, endpoint
from console.client.observers import EventStream, Observers
from console.protocol.codec import MAX_PUSH_BYTES
from console.protocol.limits import BUYER_BURST, BUYER_RATE
from console.protocol.messages import (
    AgentMessage,
    Arrive,
    BuyerHello,
    Entry,
    GetQuestions,
    Ok,
    OrderItem,
    OrderState,
    OrderUpdate,
    Questions,
    QueueUpdate,
    Rate,
    Request,
    Routed,
    Say,
    SayAck,
    SessionClosed,
    ShareProduct,
)

BuyerPushed = Routed | QueueUpdate | AgentMessage | SessionClosed
"""What the server pushes to a buyer outside an answer."""

CLOSE_TIMEOUT = 3.0


class BuyerClient:
    """One buyer's connection; ``async with BuyerClient(url, "b1", "小王") as buyer: ...``."""

    def __init__(
        self,
        url: str,
        buyer: str,
        name: str = "",
        *,
        key: str | None = None,
        ssl: ssl_module.SSLContext | None = None,
        request_timeout: float = REQUEST_TIMEOUT,
        shop: str | None = None,
        move_check: Callable[[str], None] | None = None,
    ) -> None:
        """``move_check``: refuses (``ValueError``) an address a ``moved`` names, beyond the
        checks every client makes (moves.py); the simulator stays on this machine with it."""
        self.url = endpoint(url, "/buyer")
        self.moves = Moves(self.url, "/buyer", move_check)  # ``moves.current``: where the connection is (the owner's)
        self.shop = shop  # the shop the buyer writes to (issue 15); None: the server's only shop
        self.buyer = buyer
        self.name = name
        self._key = key
        self._ssl = ssl
        self._timeout = request_timeout
        self._link: Link | None = None
        self.pushes: Observers[BuyerPushed] = Observers()
        self.routed: Routed | None = None  # the latest routing outcome (answer or push)

    @property
    def is_open(self) -> bool:
        return self._link is not None and self._link.is_open

    async def connect(self) -> None:
        """Open the connection and say ``hello``, following ``moved`` to the shop's owner (issue 15).
        Raises ``ClientError`` (e.g. a wrong gateway key; ``MoveRefused``: a move not followed)
        or ``OSError``/``TimeoutError`` when the server cannot be reached."""
        self.moves.reset()  # from the configured address: it says where the shop is now
        while True:
            conn = await connect(self.moves.current, ssl=self._ssl, open_timeout=self._timeout,
                                 max_size=MAX_PUSH_BYTES, compression=None, proxy=None, close_timeout=CLOSE_TIMEOUT)
            self._link = Link(conn, decode_buyer_push, self._on_push, rid_prefix="g")
            try:
                await self._link.request(BuyerHello(buyer=self.buyer, name=self.name, key=self._key, shop=self.shop),
                                         Ok, self._timeout)
                return
            except Redirected as exc:  # another process owns the shop (issue 15): say hello there
                await self.close()
                self.moves.follow(exc.moved)  # MoveRefused: a downgrade, a loop or too many moves
            except BaseException:
                await self.close()
                raise

    async def close(self) -> None:
        link, self._link = self._link, None
        if link is not None:
            await link.close()

    async def __aenter__(self) -> BuyerClient:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def subscribe(self) -> EventStream[BuyerPushed]:
        """An async stream of the pushes from now on."""
        return EventStream(self.pushes)

    def _on_push(self, message: Any) -> None:
        if isinstance(message, Routed):
            self.routed = message
        if isinstance(message, Routed | QueueUpdate | AgentMessage | SessionClosed):
            self.pushes.emit(message)

    async def _call(self, message: Request, answer: type[Any]) -> Any:
        if self._link is None:
            raise NotConnected()
        return await self._link.request(message, answer, self._timeout)

    # -- requests -------------------------------------------------------------------------------

    async def arrive(
        self,
        entry: Entry = Entry.OTHER,
        *,
        product: str | None = None,
        question: str | None = None,
        intent: str | None = None,
        crowd: Iterable[str] = (),
        exclusive: str | None = None,
    ) -> Routed:
        """The buyer clicks the chat entry; returns where routing sent them."""
        routed: Routed = await self._call(
            Arrive(entry=entry, product=product, question=question, intent=intent, crowd=list(crowd),
                   exclusive=exclusive),
            Routed,
        )
        self.routed = routed
        return routed

    async def say(self, text: str, *, client_id: str | None = None) -> SayAck:
        """The buyer writes (a resend with the same ``client_id`` is acknowledged, not stored)."""
        ack: SayAck = await self._call(Say(text=text, client_id=client_id or new_client_id()), SayAck)
        return ack

    async def send_image(self, data: bytes, *, client_id: str | None = None) -> SayAck:
        """The buyer sends a picture (checked, cleaned and stored by the server)."""
        return await send_image(self._call, data, client_id or new_client_id(), SayAck, rate=(BUYER_RATE, BUYER_BURST))

    async def fetch_image(self, sha256: str, *, thumb: bool = False) -> bytes:
        """An image of the buyer's own conversation (one an agent sent, say)."""
        return await fetch_image(self._call, sha256, thumb=thumb)
    async def share_product(self, product: str, *, client_id: str | None = None) -> SayAck:
        """The buyer shares a product of the shop: a product card the server makes (issue 13)."""
        ack: SayAck = await self._call(ShareProduct(product=product, client_id=client_id or new_client_id()), SayAck)
        return ack

    async def rate(self, score: int) -> None:
        await self._call(Rate(score=score), Ok)

    async def order(self, order: str, state: OrderState, *, items: list[OrderItem] | None = None,
                    amount: int | None = None) -> None:
        """An order's state, with its items and amount (fen) when known (for the agent's panel)."""
        await self._call(OrderUpdate(order=order, state=state, items=items, amount=amount), Ok)

    async def get_questions(self, entry: Entry) -> list[str]:
        answer: Questions = await self._call(GetQuestions(entry=entry), Questions)
        return answer.questions
