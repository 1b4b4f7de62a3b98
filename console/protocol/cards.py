"""Cards a message can carry (issue 13, CONSOLE.md §6): product, order and 催付 cards.

A leaf module (msgspec only): ``console.reception.model.Message`` carries a ``Card``, so this
module must not import anything of the console. ``Card`` is a union of structs tagged by
``card``; each card kind is one struct here, and its readable preview (``[商品] 标题``) is the
message's ``text``.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

CardTitle = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]


class _Card(msgspec.Struct, tag_field="card", frozen=True, kw_only=True, forbid_unknown_fields=True,
            omit_defaults=True):
    """Base of every card: tagged by ``card``, strict about fields."""


class ProductCard(_Card, tag="product", frozen=True, kw_only=True):
    """A product of the shop's catalogue (filled in by the catalogue work of issue 13)."""

    id: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    title: CardTitle


Card = ProductCard
"""Every card kind (a tagged union once there are several)."""
