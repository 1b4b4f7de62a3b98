"""The reception core (``console.reception.changes``): what each decision and each message changes,
and who is told what. Pure: rows are plain values, no store, no sockets."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from console.protocol.messages import RemovalReason, Routed, SessionClosed
from console.reception.audience import Staff
from console.reception.changes import (
    DecisionChanges,
    Reception,
    Removal,
    bot_turn_after,
    decision_changes,
    message_changes,
    routed,
)
from console.reception.waits import OpenWait, WaitChange, WaitMove
from console.routing.events import Decision, Reason

STAFF = Staff(everyone=("a1", "a2", "sup"), supervisors=frozenset({"sup"}))
NAMES = {"a1": "小美", "a2": "小王", "sup": "主管"}


@dataclass
class FakeRow:
    buyer: str = "b1"
    holder: str | None = None
    agent: str | None = None
    last_text: str = ""
    last_at: float = 0.0
    waiting_since: float | None = None
    cleared: bool = False


WAIT = OpenWait(id=7, started=20.0, agent="a1")  # the buyer's open wait, held by a1


def _decide(event: str, to: str, why: Reason, row: FakeRow, *, previous: str | None = None, quiet: bool = False,
            position: int | None = None, wait: OpenWait | None = WAIT) -> DecisionChanges:
    d = Decision(event=event, buyer=row.buyer, to=to, why=why, rule="r", t=100.0, previous=previous,
                 position=position, eta=30.0 if position else None, tip="前面还有1位" if position else None)
    return decision_changes(d, row, STAFF, NAMES, quiet=quiet, wait=wait)


def test_routed_to_an_agent_is_a_reception_told_to_that_agent_and_the_buyer() -> None:
    c = _decide("routed", "agent:a1", Reason.GROUP, FakeRow())
    assert (c.holder, c.agent, c.last_at) == ("agent:a1", "a1", 100.0)  # sorts by the arrival until a message
    assert c.told == ("a1",) and c.removed == ()
    assert c.reception == Reception("a1", "b1", 100.0)
    assert c.buyer == Routed(to="agent", name="小美", why=Reason.GROUP)
    assert c.wait is None  # the wait was a1's already
    assert _decide("routed", "agent:a1", Reason.GROUP, FakeRow(), wait=None).wait is None  # none open
    assert c.touched == {"a1"} and c.team_changed and not c.bot_turn and c.left_queue is None


def test_an_arrive_answered_by_the_caller_tells_the_buyer_nothing_more() -> None:
    c = _decide("routed", "agent:a1", Reason.GROUP, FakeRow(), quiet=True)
    assert c.buyer is None and c.told == ("a1",)


def test_a_re_arrive_into_the_open_session_is_not_a_new_reception() -> None:  # R9.1
    row = FakeRow(holder="agent:a1", agent="a1", last_text="在吗", last_at=50.0)
    c = _decide("routed", "agent:a1", Reason.OPEN_SESSION, row)
    assert c.reception is None and c.last_at == 50.0 and c.removed == () and c.told == ("a1",)


def test_queued_leaves_every_list_and_the_last_agents_history() -> None:  # R10.2
    row = FakeRow(agent="a2", last_text="上次的问题", last_at=10.0)
    c = _decide("queued", "queue:shop", Reason.QUEUED, row, position=1)
    assert (c.holder, c.agent, c.last_at) == ("queue:shop", None, 10.0)
    assert c.removed == (Removal("a2", RemovalReason.REROUTED),) and c.told == ()
    assert c.buyer == Routed(to="queue", why=Reason.QUEUED, position=1, eta=30.0, tip="前面还有1位")
    assert c.reception is None and c.wait == WaitChange(WaitMove.MOVES, "b1", None, 20.0, WAIT) and not c.team_changed
    assert c.left_queue is None and c.touched == frozenset()


def test_dequeued_names_the_queue_left_and_is_a_reception() -> None:  # R10.3, R10.4
    row = FakeRow(holder="queue:shop", waiting_since=5.0)
    c = _decide("routed", "agent:a2", Reason.DEQUEUED, row)
    assert c.left_queue == "queue:shop" and c.reception == Reception("a2", "b1", 100.0)
    assert c.told == ("a2",) and c.removed == () and c.touched == {"a2"}


def test_a_transfer_tells_the_giver_why_the_row_went_and_the_receiver_the_row() -> None:  # R3.5
    row = FakeRow(holder="agent:a1", agent="a1", last_text="在吗", last_at=20.0, waiting_since=20.0)
    c = _decide("routed", "agent:a2", Reason.TRANSFER, row, previous="agent:a1")
    assert c.removed == (Removal("a1", RemovalReason.TRANSFERRED),) and c.told == ("a2",)
    assert c.touched == {"a1", "a2"} and c.wait == WaitChange(WaitMove.MOVES, "b1", "a2", 20.0, WAIT)
    assert c.reception == Reception("a2", "b1", 100.0)


@pytest.mark.parametrize("why", [Reason.AGENT_CLOSE, Reason.IDLE])
def test_a_close_keeps_the_row_in_its_agents_history_and_always_tells_the_buyer(why: Reason) -> None:
    row = FakeRow(holder="agent:a1", agent="a1", last_text="好的", last_at=30.0, waiting_since=None)
    c = _decide("closed", "agent:a1", why, row, quiet=True)  # a close is told even to a quiet buyer
    assert (c.holder, c.agent, c.last_at) == (None, "a1", 30.0)
    assert c.removed == () and c.told == ("a1",)
    assert c.buyer == SessionClosed(why=why)
    assert c.reception is None and c.wait is None and not c.bot_turn  # the wait stays where it was and not c.team_changed
    assert c.touched == {"a1"}


def test_a_closed_pool_row_leaves_everyone_as_closed() -> None:
    c = _decide("closed", "pool", Reason.IDLE, FakeRow(holder="pool"))
    assert c.removed == tuple(Removal(a, RemovalReason.CLOSED) for a in ("a1", "a2", "sup")) and c.told == ()


def test_the_bot_with_nobody_before_is_the_supervisors_and_answers_a_waiting_buyer() -> None:  # R7.2
    c = _decide("routed", "bot", Reason.SHOP_BOT, FakeRow(waiting_since=1.0))
    assert (c.holder, c.agent) == ("bot", None) and c.told == ("sup",)
    assert c.bot_turn and c.reception is None and c.wait is not None and c.wait.agent is None
    assert c.buyer == Routed(to="bot", why=Reason.SHOP_BOT)


def test_the_bot_after_an_agent_stays_in_that_agents_history_and_waits_for_a_message() -> None:  # R4.4
    row = FakeRow(agent="a1", last_text="谢谢", last_at=40.0)
    c = _decide("routed", "bot", Reason.RECENT_OFFLINE_BOT, row)
    assert (c.holder, c.agent) == ("bot", "a1") and c.told == ("a1",) and c.removed == ()
    assert not c.bot_turn  # nobody waits: the bot answers the next message


def test_a_hand_off_takes_the_row_from_the_supervisors_to_the_agent() -> None:  # R7.7
    row = FakeRow(holder="bot", waiting_since=3.0, last_text="转人工", last_at=3.0)
    c = _decide("routed", "agent:a1", Reason.HANDOFF, row, previous="bot")
    assert c.removed == (Removal("sup", RemovalReason.REROUTED),) and c.told == ("a1",)
    assert c.reception == Reception("a1", "b1", 100.0) and c.last_at == 3.0


def test_the_message_pool_is_everyones_and_a_claim_takes_it_from_the_others() -> None:  # R6.1
    row = FakeRow(holder="agent:a1", agent="a1", last_text="在吗", last_at=5.0)
    pooled = _decide("routed", "pool", Reason.REROUTE_OFFLINE, row, previous="agent:a1")
    assert (pooled.holder, pooled.agent) == ("pool", None)
    assert pooled.removed == () and pooled.told == ("a1", "a2", "sup") and pooled.reception is None
    in_pool = FakeRow(holder="pool", last_text="在吗", last_at=5.0)
    claimed = _decide("routed", "agent:a2", Reason.CLAIMED, in_pool, previous="pool")
    assert claimed.removed == (Removal("a1", RemovalReason.CLAIMED), Removal("sup", RemovalReason.CLAIMED))
    assert claimed.told == ("a2",) and claimed.touched == {"a2"}


def test_contact_opens_a_session_with_a_buyer_who_had_none() -> None:  # 再次联系
    row = FakeRow(agent="a1", last_text="收到了", last_at=7.0)
    c = _decide("routed", "agent:a2", Reason.CONTACT, row)
    assert c.removed == (Removal("a1", RemovalReason.REROUTED),) and c.told == ("a2",)
    assert c.reception == Reception("a2", "b1", 100.0)


def test_a_cleared_row_is_moved_but_shown_to_nobody_until_the_buyer_writes() -> None:  # §1 清扫
    row = FakeRow(holder="agent:a1", agent="a1", last_text="好的", last_at=9.0, cleared=True)
    c = _decide("closed", "agent:a1", Reason.IDLE, row)
    assert c.told == () and c.removed == ()


def test_a_message_is_told_to_the_rows_audience_and_brings_a_cleared_row_back() -> None:
    held = FakeRow(holder="agent:a1", agent="a1")
    assert message_changes(held, STAFF, message=True).told == ("a1",)
    assert message_changes(held, STAFF, message=True).team_changed
    assert message_changes(FakeRow(holder="pool"), STAFF, message=False).told == ("a1", "a2", "sup")
    assert message_changes(FakeRow(holder="bot"), STAFF, message=True).told == ("sup",)
    assert not message_changes(FakeRow(holder="bot"), STAFF, message=True).team_changed
    cleared = FakeRow(agent="a1", cleared=True)
    assert message_changes(cleared, STAFF, message=False).told == ()
    assert message_changes(cleared, STAFF, message=True).told == ("a1",)
    assert message_changes(FakeRow(holder="queue:shop"), STAFF, message=True).told == ()


def test_the_buyer_learns_the_agents_name() -> None:
    d = Decision(event="routed", buyer="b1", to="agent:gone", why=Reason.GROUP, rule="", t=0.0)
    assert routed(d, NAMES).name == "gone"  # an agent the policy no longer names: its id, as before
    d = Decision(event="routed", buyer="b1", to="agent:a2", why=Reason.GROUP, rule="", t=0.0)
    assert routed(d, NAMES) == Routed(to="agent", name="小王", why=Reason.GROUP)


@pytest.mark.parametrize("before, after, turn", [
    ("bot", "bot", True),  # the bot holds the buyer: it answers or hands off (R7.7)
    ("agent:a1", "agent:a1", True),  # an agent's session: the bot's assist, if the policy has it
    ("bot", "agent:a1", False),  # the message was a hand-off word: the agent answers
    ("pool", "pool", False), ("queue:shop", "queue:shop", False), (None, None, False),
])
def test_the_bot_takes_a_turn_after_a_message_only_where_it_or_an_agent_holds_the_buyer(
        before: str | None, after: str | None, turn: bool) -> None:
    assert bot_turn_after(before, after) is turn
