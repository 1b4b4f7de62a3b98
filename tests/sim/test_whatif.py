"""What-if core (console/sim/whatif.py): how the same traffic maps onto another policy."""

from __future__ import annotations

from console.routing.engine import Engine
from console.routing.events import AnyEvent, Arrive, BuyerSay, Close, HolderReply, SetStatus, Status, event_encoder
from console.routing.policy import load_policy_toml
from console.sim.whatif import DayLog, LogRow, compare, figures

START = 1_700_000_000.0

POLICY = """
preset = "taobao"
timezone = "Asia/Shanghai"
seed = 1

[queue]
mode = "shop"
repeat_window = 0

[[groups]]
id = "presale"
name = "售前"
entries = ["product_detail"]
cap = {cap}

[[agents]]
id = "a1"
name = "小美"
groups = ["presale"]
{second}
"""
SECOND = '\n[[agents]]\nid = "a2"\nname = "阿杰"\ngroups = ["presale"]\n'


def _policy(cap: int, second: bool = False) -> str:
    return POLICY.format(cap=cap, second=SECOND if second else "")


def _day(policy: str, inputs: list[tuple[float, AnyEvent]]) -> DayLog:
    engine = Engine(load_policy_toml(policy), start=START)
    rows = [LogRow(i + 1, START + t, "event", event_encoder.encode(e).decode()) for i, (t, e) in enumerate(inputs)]
    return DayLog(label="day", engine=engine, rows=rows)


def _arrive(buyer: str) -> Arrive:
    return Arrive(buyer=buyer, entry="product_detail")


def test_a_close_of_a_buyer_still_queued_waits_for_an_agent_and_keeps_its_handling_time() -> None:
    day = _day(_policy(cap=2), [
        (0, SetStatus(agent="a1", status=Status.ONLINE)),
        (10, _arrive("b1")), (11, BuyerSay(buyer="b1", text="在吗")),
        (40, _arrive("b2")), (41, BuyerSay(buyer="b2", text="在吗")),
        (80, Close(buyer="b2")),  # 40 s after a1 got b2; under cap 1 b2 is still queued then
        (100, Close(buyer="b1")),
        (200, _arrive("b3")),
    ])
    result = compare(day, load_policy_toml(_policy(cap=1)))
    base = [(d.buyer, d.event, d.why.value, d.t - START) for d in result.baseline.decisions]
    assert ("b2", "closed", "agent_close", 80.0) in base
    other = [(d.buyer, d.event, d.why.value, d.t - START) for d in result.whatif.decisions]
    assert ("b2", "queued", "queued", 40.0) in other
    assert ("b2", "routed", "dequeued", 100.0) in other  # b1's close frees a1
    assert ("b2", "closed", "agent_close", 140.0) in other  # its 40 s of handling, after the dequeue
    assert result.whatif.adjusted["close_deferred"] == 1
    pool = result.whatif_figures.pools["queue:presale"]
    assert pool.peak == 1 and pool.waits == [60.0]
    assert result.whatif_figures.agents["a1"].queue_waits == [60.0]
    assert "queue:presale" not in result.baseline_figures.pools
    [shown] = result.as_json()["pools"]  # the group's name beside its queue, not only its id
    assert (shown["pool"], shown["name"]) == ("queue:presale", "售前")


def test_an_agent_close_follows_the_buyer_to_its_other_agent() -> None:
    both = _policy(cap=5, second=True)
    a1_serves = both.replace('groups = ["presale"]\n\n[[agents]]\nid = "a2"\nname = "阿杰"\ngroups = ["presale"]',
                             'groups = ["presale"]\n\n[[agents]]\nid = "a2"\nname = "阿杰"\ngroups = []')
    a2_serves = both.replace('id = "a1"\nname = "小美"\ngroups = ["presale"]', 'id = "a1"\nname = "小美"\ngroups = []')
    assert a1_serves != both and a2_serves != both
    day = _day(a1_serves, [
        (0, SetStatus(agent="a1", status=Status.ONLINE)), (0, SetStatus(agent="a2", status=Status.ONLINE)),
        (10, _arrive("b1")), (11, BuyerSay(buyer="b1", text="在吗")), (20, HolderReply(buyer="b1", text="在的")),
        (30, Close(buyer="b1")),
    ])
    result = compare(day, load_policy_toml(a2_serves))
    assert [(d.buyer, d.to) for d in result.baseline.decisions if d.event == "closed"] == [("b1", "agent:a1")]
    closes = [d for d in result.whatif.decisions if d.event == "closed"]
    assert [(d.buyer, d.to, d.why.value, d.t - START) for d in closes] == [("b1", "agent:a2", "agent_close", 30.0)]
    assert not result.whatif.adjusted


def test_an_input_the_other_policy_cannot_take_is_dropped_and_counted() -> None:
    day = _day(_policy(cap=5, second=True), [
        (0, SetStatus(agent="a1", status=Status.ONLINE)),
        (5, SetStatus(agent="a2", status=Status.ONLINE)),
        (10, _arrive("b1")),
    ])
    result = compare(day, load_policy_toml(_policy(cap=5)))  # without a2
    assert result.whatif.adjusted == {"setstatus_dropped": 1}
    assert result.whatif_figures.agents["a1"].received == 1


def test_figures_count_a_re_arrive_once() -> None:
    day = _day(_policy(cap=5), [
        (0, SetStatus(agent="a1", status=Status.ONLINE)),
        (10, _arrive("b1")), (20, _arrive("b1")),
    ])
    result = compare(day, load_policy_toml(_policy(cap=5)))
    assert [d.why.value for d in result.baseline.decisions] == ["group", "open_session"]
    assert figures(result.baseline.decisions, ["a1"], START + 20).agents["a1"].received == 1
