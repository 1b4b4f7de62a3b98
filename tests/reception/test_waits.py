"""Where a buyer's open wait goes (``console.reception.waits``, CONSOLE.md §3) and whose status is
pushed (``console.reception.statuses``): pure, every kind."""

from __future__ import annotations

import pytest

from console.reception.model import Author
from console.reception.statuses import StatusPush, status_pushes
from console.reception.waits import (
    OpenWait,
    WaitChange,
    WaitMove,
    wait_after_decision,
    wait_after_message,
    wait_after_reply,
)
from console.routing.events import Status

WAIT = OpenWait(id=3, started=10.0, agent="a1")


def test_a_buyer_message_opens_a_wait_only_when_none_is_open() -> None:
    assert wait_after_message(None, "b1", "a1", 12.0) == WaitChange(WaitMove.OPENS, "b1", "a1", 12.0, None)
    assert wait_after_message(None, "b1", None, 12.0) == WaitChange(WaitMove.OPENS, "b1", None, 12.0, None)  # bot, pool
    assert wait_after_message(WAIT, "b1", "a1", 12.0) is None  # counted from the first unanswered message


def test_the_wait_follows_the_buyer_but_not_a_close() -> None:
    assert wait_after_decision(WAIT, "b1", "a2", closed=False) == WaitChange(WaitMove.MOVES, "b1", "a2", 10.0, WAIT)
    assert wait_after_decision(WAIT, "b1", None, closed=False) == WaitChange(WaitMove.MOVES, "b1", None, 10.0, WAIT)
    assert wait_after_decision(WAIT, "b1", "a1", closed=False) is None  # the same holder
    assert wait_after_decision(WAIT, "b1", None, closed=True) is None
    assert wait_after_decision(None, "b1", "a2", closed=False) is None


@pytest.mark.parametrize("author, agent, answered", [
    (Author.AGENT, "a2", True),  # any agent's reply answers it, as who answered (a transfer's receiver)
    (Author.BOT, None, False),  # the bot's do not (§3)
    (Author.BOT, "a1", False),  # not even its assist in an agent's session
    (Author.SYSTEM, None, False),
])
def test_a_human_reply_answers_the_wait(author: Author, agent: str | None, answered: bool) -> None:
    change = wait_after_reply(WAIT, "b1", author, agent, 40.0)
    assert change == (WaitChange(WaitMove.ANSWERED, "b1", agent, 40.0, WAIT) if answered else None)
    assert wait_after_reply(None, "b1", author, agent, 40.0) is None


def test_status_is_pushed_to_the_agents_whose_figures_changed_in_agent_order() -> None:
    sent = {"a1": (Status.ONLINE, 2, 8), "a2": (Status.ONLINE, 1, 8)}
    now = {"a2": (Status.ONLINE, 2, 8), "a1": (Status.ONLINE, 2, 8), "a3": (Status.SUSPENDED, 0, 5)}
    assert status_pushes(now, sent) == (StatusPush("a2", Status.ONLINE, 2, 8), StatusPush("a3", Status.SUSPENDED, 0, 5))
    assert status_pushes({"a1": (Status.OFFLINE, 2, 8)}, sent)[0].state == (Status.OFFLINE, 2, 8)
    assert status_pushes({}, sent) == ()
