"""The section of a conversation and the order of rows (CONSOLE.md §1)."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from console.reception.model import SECTION_ORDER, Author, Conversation, Kind, Message, Section
from console.reception.sections import (
    first_pending,
    flat_sort_key,
    grouped,
    section_of,
    sort_key,
    waiting_since,
)

TIMES = [None, 1.0, 2.0, 3.0]


@pytest.mark.parametrize(("buyer", "bot", "human"), list(itertools.product(TIMES, TIMES, TIMES)))
def test_every_combination(buyer: float | None, bot: float | None, human: float | None) -> None:
    assert section_of(Kind.STAFF, buyer, bot, human) is Section.STAFF
    assert section_of(Kind.GROUP, buyer, bot, human) is Section.GROUP
    b = buyer if buyer is not None else float("-inf")
    if human is not None and human > b:
        expected = Section.REPLIED
    elif bot is not None and bot > b:
        expected = Section.BOT_REPLIED
    else:
        expected = Section.PENDING
    assert section_of(Kind.CONSUMER, buyer, bot, human) is expected
    assert section_of(Kind.MERCHANT, buyer, bot, human) is expected  # a merchant is served like a consumer


def test_named_cases() -> None:
    assert section_of(Kind.CONSUMER, 5.0, None, None) is Section.PENDING
    assert section_of(Kind.CONSUMER, 5.0, 6.0, None) is Section.BOT_REPLIED
    assert section_of(Kind.CONSUMER, 5.0, 6.0, 7.0) is Section.REPLIED
    assert section_of(Kind.CONSUMER, 5.0, 7.0, 6.0) is Section.REPLIED  # a human answered after the buyer
    assert section_of(Kind.CONSUMER, 8.0, 7.0, 6.0) is Section.PENDING  # the buyer wrote again
    assert section_of(Kind.CONSUMER, 5.0, 5.0, 5.0) is Section.PENDING  # "after" is strict
    assert section_of(Kind.CONSUMER, None, None, None) is Section.PENDING  # just arrived


authors = st.sampled_from([Author.BUYER, Author.AGENT, Author.BOT, Author.SYSTEM])


def _messages(seq: list[Author]) -> list[Message]:
    return [
        Message(id=i + 1, conversation="b", author=a, text="t", at=float(10 * i)) for i, a in enumerate(seq)
    ]


@given(st.lists(authors, max_size=12))
def test_section_from_the_end_of_the_conversation(seq: list[Author]) -> None:
    """Walking back from the latest message: a buyer first means pending; an agent before the
    buyer's latest message means replied; only bots there means bot-replied."""
    spoken = [a for a in seq if a is not Author.SYSTEM]
    tail: list[Author] = []
    for a in reversed(spoken):
        if a is Author.BUYER:
            break
        tail.append(a)
    if Author.AGENT in tail:
        expected = Section.REPLIED
    elif Author.BOT in tail:
        expected = Section.BOT_REPLIED
    else:
        expected = Section.PENDING
    last: dict[Author, int] = {m.author: m.id for m in _messages(seq)}  # ids grow: the latest wins
    assert section_of(Kind.CONSUMER, last.get(Author.BUYER), last.get(Author.BOT), last.get(Author.AGENT)) is expected


def test_waiting_since_keeps_the_first_unanswered_message() -> None:
    seq = [Author.BUYER, Author.BOT, Author.BUYER, Author.BUYER, Author.SYSTEM]
    assert waiting_since(_messages(seq)) == 20.0
    assert waiting_since(_messages([Author.BUYER, Author.AGENT])) is None
    assert waiting_since([]) is None


def _row(
    id_: str, section: Section, last_at: float, waiting: float | None = None, cleared: bool = False
) -> Conversation:
    kind = {Section.STAFF: Kind.STAFF, Section.GROUP: Kind.GROUP}.get(section, Kind.CONSUMER)
    return Conversation(
        id=id_,
        name=id_,
        kind=kind,
        section=section,
        holder="agent:a1",
        last_at=last_at,
        waiting_since=waiting,
        cleared=cleared,
    )


ROWS = [
    _row("p-new", Section.PENDING, 100, waiting=90),
    _row("p-old", Section.PENDING, 110, waiting=20),  # waited longest, though written to lately
    _row("g1", Section.GROUP, 300),
    _row("r-old", Section.REPLIED, 50),
    _row("r-new", Section.REPLIED, 200),
    _row("s1", Section.STAFF, 10),
    _row("b1", Section.BOT_REPLIED, 150),
    _row("b-gone", Section.BOT_REPLIED, 400, cleared=True),
]


def test_grouped_order() -> None:
    groups = grouped(ROWS)
    assert [s for s, _ in groups] == list(SECTION_ORDER)
    assert [[c.id for c in rows] for _, rows in groups] == [
        ["p-old", "p-new"],
        ["b1"],
        ["r-new", "r-old"],
        ["s1"],
        ["g1"],
    ]
    assert [c.id for c in sorted(ROWS, key=sort_key)][:2] == ["p-old", "p-new"]


def test_empty_sections_hide_and_cleared_rows_leave() -> None:
    groups = grouped([ROWS[0], ROWS[-1]])
    assert [s for s, _ in groups] == [Section.PENDING]
    assert [s for s, _ in grouped([ROWS[-1]], include_cleared=True)] == [Section.BOT_REPLIED]


def test_flat_order_is_by_last_activity() -> None:
    ids = [c.id for c in sorted(ROWS, key=flat_sort_key)]
    assert ids == ["b-gone", "g1", "r-new", "b1", "p-old", "p-new", "r-old", "s1"]


def test_first_pending() -> None:
    assert first_pending(ROWS) == ROWS[1]
    assert first_pending([r for r in ROWS if r.section is not Section.PENDING]) is None


def test_pending_without_waiting_time_sorts_by_last_activity() -> None:
    a, b = _row("a", Section.PENDING, 50), _row("b", Section.PENDING, 40)
    assert [c.id for c in sorted([a, b], key=sort_key)] == ["b", "a"]
