"""Which section of the reception list a conversation is in, and how rows are ordered (CONSOLE.md §1).

The server decides a row's section from who wrote last; the console sorts rows with the keys
below. Both are pure so the server, the console's model and the tests agree exactly.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from console.reception.model import SECTION_ORDER, Author, Conversation, Kind, Message, Section

_SECTION_INDEX: dict[Section, int] = {s: i for i, s in enumerate(SECTION_ORDER)}


def section_of(
    kind: Kind,
    last_buyer_at: float | None,
    last_bot_at: float | None,
    last_human_at: float | None,
) -> Section:
    """The section for a conversation given when each side last wrote (times or message ids).

    Platform staff and group chats have their own sections whatever was written. For consumers
    and merchants: a human reply after the buyer's latest message makes it *replied*; else a bot
    reply after it makes it *bot-replied* (a human still has to check); else it is *pending*.
    "After" is strict, so pass message ids when two messages can share a timestamp. A
    conversation where the buyer has not written yet is pending unless someone already wrote.
    """
    if kind is Kind.STAFF:
        return Section.STAFF
    if kind is Kind.GROUP:
        return Section.GROUP
    if last_human_at is not None and (last_buyer_at is None or last_human_at > last_buyer_at):
        return Section.REPLIED
    if last_bot_at is not None and (last_buyer_at is None or last_bot_at > last_buyer_at):
        return Section.BOT_REPLIED
    return Section.PENDING


def waiting_since(messages: Sequence[Message]) -> float | None:
    """When the buyer's oldest unanswered message came (the pending row's waiting time).

    Any reply, human or bot, answers; consecutive buyer messages keep the first one's time.
    None when nothing is waiting. ``messages`` are in order.
    """
    since: float | None = None
    for m in messages:
        if m.author is Author.BUYER:
            if since is None:
                since = m.at
        elif m.author in (Author.AGENT, Author.BOT):
            since = None
    return since


def sort_key(conversation: Conversation) -> tuple[int, float, str]:
    """Grouped order: sections in their fixed order; pending oldest-waiting first, the others
    by last activity, most recent first. Ties fall back to the id so the order is total."""
    index = _SECTION_INDEX[conversation.section]
    if conversation.section is Section.PENDING:
        waited = conversation.waiting_since
        return (index, waited if waited is not None else conversation.last_at, conversation.id)
    return (index, -conversation.last_at, conversation.id)


def flat_sort_key(conversation: Conversation) -> tuple[float, str]:
    """Ungrouped order: one list by last activity, most recent first."""
    return (-conversation.last_at, conversation.id)


def grouped(
    conversations: Iterable[Conversation], *, include_cleared: bool = False
) -> list[tuple[Section, list[Conversation]]]:
    """The non-empty sections in their fixed order, rows sorted (empty sections hide)."""
    by_section: dict[Section, list[Conversation]] = {s: [] for s in SECTION_ORDER}
    for c in conversations:
        if c.cleared and not include_cleared:
            continue
        by_section[c.section].append(c)
    return [(s, sorted(rows, key=sort_key)) for s, rows in by_section.items() if rows]


def first_pending(conversations: Iterable[Conversation]) -> Conversation | None:
    """The row Ctrl+Up jumps to: the first pending consumer (or merchant) in list order."""
    pending = [c for c in conversations if c.section is Section.PENDING and not c.cleared]
    return min(pending, key=sort_key, default=None)
