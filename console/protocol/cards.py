"""Cards a message can carry (issue 13, CONSOLE.md §6): product, order and 催付 cards.

A leaf module (msgspec only): ``console.reception.model.Message`` carries a ``Card``, so this
module must not import anything of the console. ``Card`` is a union of structs tagged by
``card``; each card kind is one struct here, and its readable preview (``[商品] 标题``) is the
message's ``text`` (``card_text``, the one place that words it).

The server builds every card from its own facts (the catalogue, the buyer's orders), never from
what a client says a product or an order is: a request names the product or order, and the card
says what the shop knows of it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

import msgspec

CardTitle = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
CardId = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Fen = Annotated[int, msgspec.Meta(ge=0, le=100_000_000_00)]
Link = Annotated[str, msgspec.Meta(max_length=500, pattern=r"^(https?://\S+)?$")]
CardOrderState = Literal["unpaid", "paid", "shipped", "success", "closed", "after_sale"]
"""``console.routing`` OrderState's values (a test keeps them equal): a leaf cannot import it."""


class CardKind(StrEnum):
    """What an agent asks to send (``send_card``): the card's tag."""

    PRODUCT = "product"  # a product of the catalogue: ``ref`` is its id
    ORDER = "order"  # one of the buyer's own orders: ``ref`` is the order number
    PAY_REMINDER = "pay_reminder"  # 催付 on one of the buyer's unpaid orders


class _Card(msgspec.Struct, tag_field="card", frozen=True, kw_only=True, forbid_unknown_fields=True,
            omit_defaults=True):
    """Base of every card: tagged by ``card``, strict about fields."""


class CardItem(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """A line of an order card: what and how many."""

    title: CardTitle
    quantity: Annotated[int, msgspec.Meta(ge=1, le=9999)] = 1


class ProductCard(_Card, tag="product", frozen=True, kw_only=True):
    """A product of the shop's catalogue: title, price in fen, picture and page addresses (http(s))."""

    id: CardId
    title: CardTitle
    price: Fen | None = None
    image: Link = ""
    url: Link = ""


class OrderCard(_Card, tag="order", frozen=True, kw_only=True):
    """One of the buyer's orders as the shop knows it: state, amount in fen, items."""

    order: CardId
    state: CardOrderState
    amount: Fen | None = None
    items: Annotated[list[CardItem], msgspec.Meta(max_length=50)] = []


class PayReminderCard(_Card, tag="pay_reminder", frozen=True, kw_only=True):
    """催付: a reminder to pay an unpaid order (its amount and items, as on the order card)."""

    order: CardId
    amount: Fen | None = None
    items: Annotated[list[CardItem], msgspec.Meta(max_length=50)] = []


Card = ProductCard | OrderCard | PayReminderCard
"""Every card kind, told apart by ``card``."""


def card_text(card: Card) -> str:
    """The card's readable line (the message's text: row previews, search, the buyer's fallback)."""
    if isinstance(card, ProductCard):
        return f"[商品] {card.title}"
    if isinstance(card, OrderCard):
        return f"[订单] {card.order}"
    return f"[催付] {card.order}"
