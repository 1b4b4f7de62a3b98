"""Who holds a buyer's session, as a typed value, and its one text form on the wire.

The wire (``Conversation.holder``, ``Decision.to``) and the engine carry a holder as text:
``agent:ID``, ``bot``, ``pool`` (the message pool, R6.1) or ``queue:GROUP`` (a queue pool, R10.1).
It is encoded and parsed here and nowhere else: code asks ``Holder.parse(text).agent`` instead of
looking at prefixes.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache


class HolderKind(StrEnum):
    AGENT = "agent"
    BOT = "bot"
    POOL = "pool"
    QUEUE = "queue"


@dataclass(frozen=True, slots=True)
class Holder:
    kind: HolderKind
    ref: str | None = None  # the agent id, or the queue's group ("shop" for the shop-wide pool)

    @classmethod
    def parse(cls, text: str) -> Holder:
        """``agent:ID`` / ``bot`` / ``pool`` / ``queue:G``; ValueError for anything else."""
        return _parse(text)

    @classmethod
    def _parse(cls, text: str) -> Holder:
        kind, _, ref = text.partition(":")
        try:
            holder_kind = HolderKind(kind)
        except ValueError:
            raise ValueError(f"not a holder: {text!r}") from None
        if (holder_kind in (HolderKind.AGENT, HolderKind.QUEUE)) != bool(ref):
            raise ValueError(f"not a holder: {text!r}")
        return cls(holder_kind, ref or None)

    @classmethod
    def of_agent(cls, agent: str) -> Holder:
        return cls(HolderKind.AGENT, agent)

    def __str__(self) -> str:
        return self.kind.value if self.ref is None else f"{self.kind.value}:{self.ref}"

    @property
    def agent(self) -> str | None:
        return self.ref if self.kind is HolderKind.AGENT else None


@lru_cache(maxsize=8192)
def _parse(text: str) -> Holder:
    """Holders are few (the agents, bot, pool, the queues) and immutable: each text is parsed once
    (the server asks several times per message whose a row is)."""
    return Holder._parse(text)


BOT = Holder(HolderKind.BOT)
POOL = Holder(HolderKind.POOL)


def agent_of(holder: str | None) -> str | None:
    """The agent holding a session given as text (None: no session, or not an agent)."""
    return None if holder is None else Holder.parse(holder).agent


def is_queue(holder: str | None) -> bool:
    return holder is not None and Holder.parse(holder).kind is HolderKind.QUEUE
