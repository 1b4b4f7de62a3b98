"""A day's report from hand-made records, checked field by field (console/reception/report.py)."""

from __future__ import annotations

from console.reception.kpi import DayRange, Reception
from console.reception.report import (
    AgentDayRow,
    ConversationRow,
    DayRecords,
    DecisionRecord,
    MessageRecord,
    OrderRecord,
    RatingRecord,
    WaitRecord,
    agent_rows,
    conversation_rows,
)

DAY = DayRange(1_000_000.0, 1_086_400.0)
T = DAY.start + 36_000.0  # 10:00 of the day


def d(buyer: str, event: str, target: str, why: str, rule: str, at: float) -> DecisionRecord:
    return DecisionRecord(buyer=buyer, event=event, target=target, why=why, rule=rule, at=at)


def records() -> DayRecords:
    return DayRecords(
        day=DAY,
        decisions=[
            # b0: a session of the day before (not in the report), closed after midnight
            d("b0", "routed", "agent:a1", "group", "R8.1", DAY.start - 60),
            d("b0", "closed", "agent:a1", "idle", "R9.2", DAY.start + 600),
            # b1: queued, dequeued to a1, transferred to a2, closed by a2
            d("b1", "queued", "queue:presale", "queued", "R10.2", T),
            d("b1", "routed", "agent:a1", "dequeued", "R10.3", T + 120),
            d("b1", "routed", "agent:a2", "transfer", "R3.2", T + 300),
            d("b1", "closed", "agent:a2", "agent_close", "SCENARIOS", T + 600),
            # b1 again, later: a second conversation, still open at the end of the day
            d("b1", "routed", "agent:a2", "recent", "R4.2", T + 7200),
            # b3: the bot only
            d("b3", "routed", "bot", "shop_bot", "R7.2", T + 60),
            # b4: began after the day (not in the report)
            d("b4", "routed", "agent:a1", "group", "R8.1", DAY.end + 5),
        ],
        messages=[
            MessageRecord(buyer="b1", author="buyer", at=T + 30),
            MessageRecord(buyer="b1", author="buyer", at=T + 40),
            MessageRecord(buyer="b1", author="agent", at=T + 150, agent="a1"),
            MessageRecord(buyer="b1", author="buyer", at=T + 310),
            MessageRecord(buyer="b1", author="bot", at=T + 311),
            MessageRecord(buyer="b1", author="agent", at=T + 550, agent="a2"),
            MessageRecord(buyer="b1", author="buyer", at=T + 7210),
            MessageRecord(buyer="b3", author="buyer", at=T + 61),
            MessageRecord(buyer="b3", author="bot", at=T + 62),
        ],
        ratings=[
            RatingRecord(buyer="b1", agent="a2", score=2, at=T + 610),
            RatingRecord(buyer="b1", agent="a2", score=5, at=T + 620),  # the latest counts
        ],
        waits=[
            WaitRecord(buyer="b1", agent="a1", started=T + 30, answered=T + 150),  # 120 s
            WaitRecord(buyer="b1", agent="a2", started=T + 310, answered=T + 550),  # 240 s
            WaitRecord(buyer="b1", agent="a2", started=T + 7210),  # open at the end of the day
        ],
        orders=[
            OrderRecord(buyer="b1", state="unpaid", at=T + 200),
            OrderRecord(buyer="b1", state="paid", at=T + 400),
            OrderRecord(buyer="b1", state="shipped", at=DAY.end + 10),  # after the day
        ],
        receptions=[
            Reception(agent="a1", buyer="b1", at=T + 120),
            Reception(agent="a2", buyer="b1", at=T + 300),
        ],
        buyer_names={"b1": "王小姐"},
        agents=[("a1", "小美"), ("a2", "阿杰"), ("a3", "小林")],
    )


def test_one_row_per_conversation_that_began_that_day() -> None:
    rows = conversation_rows(records())
    assert [(r.buyer, r.arrived_at) for r in rows] == [("b1", T), ("b3", T + 60), ("b1", T + 7200)]
    first, bot, again = rows
    assert first == ConversationRow(
        buyer="b1", buyer_name="王小姐", agent="a2", arrived_at=T, reason="queued", rule="R10.2", queued=True,
        assigned_at=T + 120, first_message_at=T + 30, first_response_at=T + 150, first_response_s=120.0,
        longest_wait_s=240.0, waits=2, answered_in_3min=1, closed_at=T + 600, close_reason="agent_close",
        moves=1, buyer_messages=3, agent_messages=2, bot_messages=1, rating=5, order_state="paid",
    )
    assert bot.agent is None and bot.assigned_at is None and bot.bot_messages == 1 and bot.waits == 0
    assert bot.first_response_s is None and bot.longest_wait_s is None and bot.closed_at is None
    assert bot.buyer_name == "b3"  # no name known: the id
    # the open conversation: its wait runs to the end of the day; the earlier rating is not its own
    assert again.closed_at is None and again.rating is None and again.waits == 1
    assert again.longest_wait_s == DAY.end - (T + 7210)
    assert again.order_state is None  # no order event since it began (the payment came before)


def test_one_row_per_agent_with_the_tiles_arithmetic() -> None:
    rows = agent_rows(records())
    assert [r.agent for r in rows] == ["a1", "a2", "a3"]
    a1, a2, a3 = rows
    assert a1 == AgentDayRow(agent="a1", name="小美", received=1, not_ordered=0, not_paid=0, paid=1, conversion=1.0,
                             ratings=0, satisfaction=None, waits=1, response_3min=1.0, avg_response_s=120.0,
                             closed=0, messages_sent=1)
    assert a2 == AgentDayRow(agent="a2", name="阿杰", received=1, not_ordered=0, not_paid=0, paid=1, conversion=1.0,
                             ratings=2, satisfaction=0.5, waits=2, response_3min=0.0, avg_response_s=240.0,
                             closed=1, messages_sent=1)
    assert a3.received == 0 and a3.conversion is None and a3.waits == 0 and a3.avg_response_s is None


def test_an_agent_outside_the_policy_still_gets_a_row() -> None:
    r = records()
    r.agents = [("a1", "小美")]
    assert [row.agent for row in agent_rows(r)] == ["a1", "a2"]
