"""Who may see a conversation row, and who may find and read it, defined once (CONSOLE.md §1, §6, R6.1).

A row reaches an agent's list in three ways, and only these: it is the agent's own (``agent``: the
agent holding it, or the last one that did, so closed and bot-held conversations stay in that
agent's history); it is in the message pool, which is everyone's (R6.1: anyone may claim it); or
the bot holds a buyer no agent has had, which the supervisors see (someone has to check the bot's
answers). The server's indexes (``console.server.conversations``) materialise exactly these three.
"""

from __future__ import annotations

from dataclasses import dataclass

from console.protocol.codec import ProtocolError
from console.protocol.holders import agent_of
from console.protocol.messages import ErrorCode

POOL = "pool"
BOT = "bot"


@dataclass(frozen=True, slots=True)
class Staff:
    """The shop's agents (policy order) and which of them supervise."""

    everyone: tuple[str, ...]
    supervisors: frozenset[str]


def audience(holder: str | None, agent: str | None, staff: Staff) -> tuple[str, ...]:
    """Whose list shows a row held by ``holder`` whose agent is ``agent``."""
    if holder == POOL:
        return staff.everyone
    if agent is not None:
        return (agent,)
    if holder == BOT:
        return tuple(a for a in staff.everyone if a in staff.supervisors)
    return ()


def sees(viewer: str, holder: str | None, agent: str | None, *, supervises: bool) -> bool:
    """Whether ``viewer``'s list shows the row (``audience`` for one viewer, no staff list needed)."""
    return agent == viewer or holder == POOL or (supervises and agent is None and holder == BOT)


def finds(viewer: str, holder: str | None, agent: str | None, *, supervises: bool, held: bool) -> bool:
    """Whether ``viewer`` may find the conversation by search and read it (read-only): whoever its
    list shows it to (``sees``), every agent who ever held a session with the buyer (``held``: a
    reception of theirs; the list shows only the last holder's), and supervisors, the whole shop."""
    return supervises or held or sees(viewer, holder, agent, supervises=supervises)


def not_holding(viewer: str, holder: str | None, agent: str | None) -> ProtocolError | None:
    """Why ``viewer`` may not write to, close or transfer the session (None: it holds it), in
    the words its console shows: closed, in the pool (claim it first), held by someone else
    since, or never its conversation."""
    if agent_of(holder) == viewer:
        return None
    if agent == viewer and holder is None:
        return ProtocolError(ErrorCode.CONFLICT, "the session is closed", "conversation")
    if holder == POOL:
        return ProtocolError(ErrorCode.CONFLICT, "the buyer is in the message pool; claim it first", "conversation")
    if agent == viewer:
        return ProtocolError(ErrorCode.CONFLICT, f"the session is held by {holder}", "conversation")
    return ProtocolError(ErrorCode.FORBIDDEN, "not your conversation", "conversation")
