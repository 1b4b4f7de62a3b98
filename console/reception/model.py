"""What an agent's reception list and KPI tiles are made of (CONSOLE.md §1, §3).

These structs are shared by the server (which computes them), the protocol (which carries them)
and the console (which shows them). They hold no behaviour beyond small derived properties.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import msgspec

from console.protocol.cards import Card


class Section(StrEnum):
    """The five sections of the reception list, in their fixed order (CONSOLE.md §1)."""

    PENDING = "pending"  # 待回复
    BOT_REPLIED = "bot_replied"  # 已被自动回复
    REPLIED = "replied"  # 已回复
    STAFF = "staff"  # 小二
    GROUP = "group"  # 群聊


SECTION_ORDER: tuple[Section, ...] = tuple(Section)


class Kind(StrEnum):
    """Who is on the other side, as the server's own account data says (never from a name)."""

    CONSUMER = "consumer"
    MERCHANT = "merchant"  # a merchant buying as a customer: the 商 badge
    STAFF = "staff"  # platform staff (小二): the 平 badge
    GROUP = "group"  # a group chat: the group badge


class Author(StrEnum):
    BUYER = "buyer"
    AGENT = "agent"
    BOT = "bot"
    SYSTEM = "system"


class MessageKind(StrEnum):
    """What a message is (issue 13). Whatever the kind, ``Message.text`` is a readable line
    (``[图片]``, ``[商品] 标题``): the row preview, search and KPIs read only that."""

    TEXT = "text"
    IMAGE = "image"  # ``Message.image`` says which
    CARD = "card"  # ``Message.card`` holds it


IMAGE_TEXT = "[图片]"
"""The text of an image message (the row preview, search): the platform's own word for it."""

Sha256 = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{64}$")]


class ImageRef(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An image stored by the server, named by the SHA-256 of its stored bytes (stored once)."""

    sha256: Sha256
    mime: str  # image/png, image/jpeg, image/gif or image/webp: as the server re-encoded it
    width: Annotated[int, msgspec.Meta(ge=1)]
    height: Annotated[int, msgspec.Meta(ge=1)]
    size: Annotated[int, msgspec.Meta(ge=1)]  # bytes


class Message(msgspec.Struct, frozen=True, kw_only=True):
    id: int  # server id, increasing
    conversation: str  # buyer id
    author: Author
    text: str  # the message, or for an image or a card its readable preview
    at: float  # epoch seconds
    agent: str | None = None  # which agent wrote it, for agent messages
    client_id: str | None = None  # the console's id for the reply (idempotency)
    kind: MessageKind = MessageKind.TEXT
    image: ImageRef | None = None  # kind image
    card: Card | None = None  # kind card

    def __post_init__(self) -> None:
        check_payload(self.kind, self.image, self.card)


def check_payload(kind: MessageKind, image: ImageRef | None, card: Card | None) -> None:
    """A message carries exactly the payload of its kind (ValueError otherwise: ``invalid``)."""
    if (kind is MessageKind.IMAGE) != (image is not None):
        raise ValueError("Invalid value for field `image`: an image message carries exactly one image")
    if (kind is MessageKind.CARD) != (card is not None):
        raise ValueError("Invalid value for field `card`: a card message carries exactly one card")


def preview(text: str) -> str:
    """A message's text as one line of a row (the last message, CONSOLE.md §1)."""
    line = " ".join(text.split())
    return line if len(line) <= 80 else line[:79] + "…"


class Conversation(msgspec.Struct, frozen=True, kw_only=True):
    """One row of the reception list."""

    id: str  # the buyer (or staff account, or group) id
    name: str
    kind: Kind
    section: Section
    holder: str | None  # "agent:ID", "bot", "pool", "queue:G" or None when closed
    last_text: str = ""
    last_at: float = 0.0  # time of the last message
    unread: int = 0  # buyer messages since the agent last opened it
    waiting_since: float | None = None  # when the buyer's unanswered message came (pending)
    open: bool = True  # the session is open
    cleared: bool = False  # removed from the list by the 清扫 button until the next buyer message


class KpiTiles(msgspec.Struct, frozen=True, kw_only=True):
    """The 接待数据 tiles for one agent or for the team. ``None`` shows as "-" (no data)."""

    received_today: int | None = None  # 今日接待
    not_ordered: int | None = None  # 未下单
    not_paid: int | None = None  # 未付款
    paid: int | None = None  # 已付款
    conversion: float | None = None  # 询单转化率, 0..1
    satisfaction_yesterday: float | None = None  # 昨日满意度, 0..1
    response_3min_yesterday: float | None = None  # 昨日3分钟响应率, 0..1
    avg_response_yesterday: float | None = None  # 昨日平均响应时长, seconds


KPI_TILES: tuple[str, ...] = tuple(KpiTiles.__struct_fields__)
