"""Who sees which row (CONSOLE.md §1, R6.1): every holder and agent, every viewer."""

from __future__ import annotations

import itertools

import pytest

from console.reception.audience import Staff, audience, sees

STAFF = Staff(everyone=("a1", "a2", "sup"), supervisors=frozenset({"sup"}))
HOLDERS = [None, "agent:a1", "agent:a2", "bot", "pool", "queue:shop"]
AGENTS = [None, "a1", "a2"]


@pytest.mark.parametrize("holder, agent, expected", [
    ("agent:a1", "a1", ("a1",)),  # the agent holding it
    (None, "a1", ("a1",)),  # closed: stays in its agent's history
    ("bot", "a1", ("a1",)),  # handed back to the bot after a1 had it: a1's history
    ("pool", None, ("a1", "a2", "sup")),  # R6.1: everyone may claim it
    ("pool", "a1", ("a1", "a2", "sup")),
    ("bot", None, ("sup",)),  # the bot's, no agent yet: the supervisors check it
    ("queue:shop", None, ()),  # queued: nobody's until dequeued
    (None, None, ()),
])
def test_audience(holder: str | None, agent: str | None, expected: tuple[str, ...]) -> None:
    assert audience(holder, agent, STAFF) == expected


def test_sees_agrees_with_audience_everywhere() -> None:
    for holder, agent, viewer in itertools.product(HOLDERS, AGENTS, STAFF.everyone):
        assert sees(viewer, holder, agent, supervises=viewer in STAFF.supervisors) == (
            viewer in audience(holder, agent, STAFF)), (holder, agent, viewer)


def test_who_finds_a_row_is_who_sees_it_every_former_holder_and_supervisors() -> None:
    from console.reception.audience import finds, sees

    cases = [("agent:a2", "a2"), ("pool", None), ("bot", None), (None, "a2"), (None, None)]
    for holder, agent in cases:
        for supervises in (False, True):
            # whoever sees it finds it; a supervisor finds everything; a former holder finds it
            assert finds("a1", holder, agent, supervises=supervises, held=False) == (
                supervises or sees("a1", holder, agent, supervises=supervises))
            assert finds("a1", holder, agent, supervises=supervises, held=True)


@pytest.mark.parametrize("holder, agent, code, words", [
    ("agent:a1", "a1", None, None),  # a1 holds it
    (None, "a1", "conflict", "closed"),
    ("pool", None, "conflict", "claim it first"),
    ("pool", "a1", "conflict", "claim it first"),
    ("bot", "a1", "conflict", "held by bot"),  # a1's history, the bot's session now
    ("agent:a2", "a2", "forbidden", "not your"),
    ("queue:shop", None, "forbidden", "not your"),
    (None, "a2", "forbidden", "not your"),
])
def test_only_the_holder_acts_on_a_session_and_others_are_told_why(holder: str | None, agent: str | None,
                                                                    code: str | None, words: str | None) -> None:
    from console.reception.audience import not_holding

    refusal = not_holding("a1", holder, agent)
    if code is None:
        assert refusal is None
    else:
        assert refusal is not None and refusal.code.value == code and words in refusal.message
