"""What an agent's reception list and KPI tiles are made of (CONSOLE.md §1, §3).

These structs are shared by the server (which computes them), the protocol (which carries them)
and the console (which shows them). They hold no behaviour beyond small derived properties.
"""

from __future__ import annotations

from enum import StrEnum

import msgspec


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


class Message(msgspec.Struct, frozen=True, kw_only=True):
    id: int  # server id, increasing
    conversation: str  # buyer id
    author: Author
    text: str
    at: float  # epoch seconds
    agent: str | None = None  # which agent wrote it, for agent messages
    client_id: str | None = None  # the console's id for the reply (idempotency)


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
