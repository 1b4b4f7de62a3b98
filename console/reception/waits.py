"""Where a buyer's open wait goes (CONSOLE.md §3: 3分钟响应率, 平均响应): pure, like ``changes``.

A buyer message with no wait open starts one, held by the agent holding the buyer (None: the
bot, the pool, a queue). A routing decision that moves the buyer moves its open wait to the new
holder (a close leaves it where it was). A human reply answers it; the bot's do not. ``Shop``
keeps the open waits (one per buyer, the newest: the ``waits`` table is the record) and applies
each ``WaitChange``: the repository's write, its memory, the KPI book's count.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from console.reception.model import Author


@dataclass(frozen=True, slots=True)
class OpenWait:
    """A buyer wait not answered yet, as the ``waits`` row ``id`` holds it."""

    id: int
    started: float
    agent: str | None  # who holds it (None: the bot, the pool, a queue)


class WaitMove(StrEnum):
    OPENS = "opens"  # a buyer message with none open
    MOVES = "moves"  # the buyer is held by someone else now
    ANSWERED = "answered"  # a human replied


@dataclass(frozen=True, slots=True)
class WaitChange:
    """One change to a buyer's open wait."""

    move: WaitMove
    buyer: str
    agent: str | None  # OPENS, MOVES: who holds the wait now; ANSWERED: who answered
    at: float  # OPENS: when it starts; ANSWERED: when it was answered; MOVES: when it started
    before: OpenWait | None  # the wait as it was (None when it opens)


def wait_after_message(wait: OpenWait | None, buyer: str, holder_agent: str | None, at: float) -> WaitChange | None:
    """A buyer message at ``at``: a wait opens unless one is open already (the first unanswered
    message is what the response time counts from)."""
    if wait is not None:
        return None
    return WaitChange(WaitMove.OPENS, buyer, holder_agent, at, None)


def wait_after_decision(wait: OpenWait | None, buyer: str, to_agent: str | None, *, closed: bool) -> WaitChange | None:
    """A decision gives the buyer to ``to_agent`` (None: the bot, the pool, a queue): the open wait
    follows the buyer; a close leaves it where it was (the next reply is still counted)."""
    if wait is None or closed or wait.agent == to_agent:
        return None
    return WaitChange(WaitMove.MOVES, buyer, to_agent, wait.started, wait)


def wait_after_reply(wait: OpenWait | None, buyer: str, author: Author, agent: str | None,
                     at: float) -> WaitChange | None:
    """A reply at ``at``: an agent's answers the open wait; the bot's, a system line's do not."""
    if wait is None or author is not Author.AGENT or agent is None:
        return None
    return WaitChange(WaitMove.ANSWERED, buyer, agent, at, wait)
