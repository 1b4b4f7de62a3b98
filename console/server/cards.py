"""Cards the shop sends (issue 13): built from the server's own facts, checked, then sent.

A product card comes from the catalogue (``console/server/catalog.py``): an unknown product is
``not_found``. An order card and a 催付 card come from the buyer's orders (``orders`` and
``order_details``): an unknown order is ``not_found``, another buyer's order ``forbidden`` and 催付
on an order that is not unpaid ``conflict``. Nothing a client says about a product or an order
ends up on a card; the request only names it. The card's readable line (``[商品] 标题``) is the
message text (``protocol.cards.card_text``).
"""

from __future__ import annotations

import msgspec

from console.protocol.cards import (
    Card,
    CardItem,
    CardKind,
    OrderCard,
    PayReminderCard,
    ProductCard,
)
from console.protocol.codec import ProtocolError
from console.protocol.messages import ErrorCode, OrderItem
from console.reception.catalog import Product
from console.server.repository.catalog import Catalog
from console.server.repository.panel import PanelRepository
from console.server.store import Store

_items_decoder = msgspec.json.Decoder(list[OrderItem])


def product_card(product: Product) -> ProductCard:
    return ProductCard(id=product.id, title=product.title[:128], price=product.price, image=product.image,
                       url=product.url)


class CardMaker:
    """Builds the card a request names, or refuses it with a typed error."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.catalog = Catalog(store)

    def make(self, buyer: str, kind: CardKind, ref: str) -> Card:
        if kind is CardKind.PRODUCT:
            return self.product(ref)
        r = PanelRepository(self.store).order_for_card(ref)
        if r is None:
            raise ProtocolError(ErrorCode.NOT_FOUND, f"no order {ref!r}", "ref")
        if r["buyer"] != buyer:
            raise ProtocolError(ErrorCode.FORBIDDEN, f"order {ref!r} is not this buyer's", "ref")
        items = [CardItem(title=i.title, quantity=i.quantity) for i in _items_decoder.decode(r["items"])] \
            if r["items"] else []
        if kind is CardKind.ORDER:
            return OrderCard(order=ref, state=r["state"], amount=r["amount"], items=items)
        if r["state"] != "unpaid":  # 催付 only on an unpaid order
            raise ProtocolError(ErrorCode.CONFLICT, f"order {ref!r} is {r['state']}, not unpaid: nothing to remind",
                                "ref")
        return PayReminderCard(order=ref, amount=r["amount"], items=items)

    def product(self, product_id: str, field: str = "ref") -> ProductCard:
        product = self.catalog.get(product_id)
        if product is None:
            raise ProtocolError(ErrorCode.NOT_FOUND, f"no product {product_id!r} in the shop's catalogue", field)
        return product_card(product)
