"""R3.5 explicit transfers: to a named online agent (caps aside) or to a group; what is refused."""

from __future__ import annotations

import pytest

from console.routing.engine import Engine, EngineError
from console.routing.events import Arrive, BuyerSay, Reason, SetStatus, Status, Transfer
from console.routing.policy import load_policy_dict


def _shop() -> Engine:
    """Queue on (douyin), cap 1: a1 and a2 in presale, a3 in after (which queues too)."""
    engine = Engine(load_policy_dict({
        "preset": "douyin", "seed": 1, "offline": {"mode": "pool"},
        "groups": [{"id": "presale", "cap": 1, "products": ["p1"]}, {"id": "after", "cap": 1, "products": ["p2"]}],
        "agents": [{"id": "a1", "groups": ["presale"]}, {"id": "a2", "groups": ["presale"]},
                   {"id": "a3", "groups": ["after"]}, {"id": "a4", "groups": ["after"]}],
    }), start=0.0)
    return engine


def test_refusals_change_nothing() -> None:
    engine = _shop()
    engine.apply(Arrive(buyer="p"), 0.0)  # nobody online: the message pool
    with pytest.raises(EngineError):
        engine.apply(Transfer(buyer="p", agent="a1"), 1.0)  # a pool place
    for agent in ("a1", "a3"):
        engine.apply(SetStatus(agent=agent, status=Status.ONLINE), 2.0)
    engine.apply(Arrive(buyer="b1", product="p1"), 3.0)
    engine.apply(Arrive(buyer="b2", product="p1"), 3.0)
    assert engine.session("b1").holder == "agent:a1" and engine.session("b2").holder == "queue:presale"
    for refused in (Transfer(buyer="b2", agent="a3"),  # a queue place
                    Transfer(buyer="b1", agent="a1"),  # to oneself
                    Transfer(buyer="b1", agent="a2"),  # offline
                    Transfer(buyer="b1", agent="zz"),  # unknown
                    Transfer(buyer="b1", group="nope"),
                    Transfer(buyer="b1"),
                    Transfer(buyer="nobody", agent="a3")):
        with pytest.raises(EngineError):
            engine.apply(refused, 4.0)
    assert engine.session("b1").holder == "agent:a1" and engine.session("b2").holder == "queue:presale"


def test_to_a_suspended_agent_over_its_cap_and_the_freed_slot_refills() -> None:
    engine = _shop()
    for agent in ("a1", "a3"):
        engine.apply(SetStatus(agent=agent, status=Status.ONLINE), 0.0)
    engine.apply(Arrive(buyer="b1", product="p1"), 1.0)
    engine.apply(Arrive(buyer="c1", product="p2"), 1.0)
    engine.apply(Arrive(buyer="b2", product="p1"), 2.0)  # queued behind a1's cap
    engine.apply(BuyerSay(buyer="b1", text="在吗"), 3.0)
    engine.apply(SetStatus(agent="a3", status=Status.SUSPENDED), 4.0)
    out = engine.apply(Transfer(buyer="b1", agent="a3"), 5.0)
    assert [(d.buyer, d.to, d.why) for d in out] == [("b1", "agent:a3", Reason.TRANSFER),
                                                      ("b2", "agent:a1", Reason.DEQUEUED)]
    assert out[0].previous == "agent:a1" and out[0].rule == "R3.5"
    assert engine.session("b1").waiting  # the buyer stays waiting
    assert engine.agent("a3").load == 2  # over its cap of 1: an explicit transfer is not refused for it


def test_to_a_group_picks_or_queues_at_the_back() -> None:
    engine = _shop()
    for agent in ("a1", "a3", "a4"):
        engine.apply(SetStatus(agent=agent, status=Status.ONLINE), 0.0)
    engine.apply(Arrive(buyer="b1", product="p1"), 1.0)
    out = engine.apply(Transfer(buyer="b1", group="after"), 2.0)
    assert out[0].to in ("agent:a3", "agent:a4") and out[0].why is Reason.TRANSFER
    engine.apply(Arrive(buyer="c1", product="p2"), 3.0)  # the other one of after
    engine.apply(Arrive(buyer="c2", product="p2"), 3.0)  # queued in after
    engine.apply(Arrive(buyer="b3", product="p1"), 4.0)  # a1
    out = engine.apply(Transfer(buyer="b3", group="after"), 5.0)
    assert (out[0].to, out[0].why, out[0].position) == ("queue:after", Reason.TRANSFER, 2)


def test_an_agent_writing_first_opens_a_session_with_it_and_becomes_the_recent_contact() -> None:
    """Contact (再次联系, issue 13): R3.5's explicit move to a named agent for a buyer with no
    session: over a cap, suspended allowed, offline refused (R3.2), refused while any session is
    open (R9.1); the agent is the recent contact afterwards (R2.1), and the idle close (R9.2)
    ends the session if the buyer never answers."""
    from console.routing.events import Close, Contact

    engine = _shop()
    engine.apply(SetStatus(agent="a1", status=Status.ONLINE), 0.0)
    engine.apply(Arrive(buyer="b1", product="p1"), 1.0)
    engine.apply(Arrive(buyer="q", product="p1"), 1.0)  # queued: a1's cap is 1
    with pytest.raises(EngineError):
        engine.apply(Contact(buyer="b1", agent="a1"), 2.0)  # an open session: its holder answers
    with pytest.raises(EngineError):
        engine.apply(Contact(buyer="q", agent="a3"), 2.0)  # a queue place is a session too
    engine.apply(Close(buyer="b1"), 3.0)  # q takes a1's slot (R9.3)
    with pytest.raises(EngineError):
        engine.apply(Contact(buyer="b1", agent="a2"), 4.0)  # offline (R3.2)
    engine.apply(SetStatus(agent="a3", status=Status.SUSPENDED), 4.0)
    [routed] = engine.apply(Contact(buyer="b1", agent="a1"), 5.0)  # a1 is full (q): no cap check
    assert (routed.to, routed.why, routed.rule) == ("agent:a1", Reason.CONTACT, "R3.5")
    assert engine.agent("a1").load == 2
    assert not engine.session("b1").waiting  # the agent speaks first
    [closed] = [d for d in engine.apply(SetStatus(agent="a3", status=Status.SUSPENDED), 5.0 + 3600)
                if d.buyer == "b1"]
    assert closed.event == "closed" and closed.why is Reason.IDLE  # never answered: R9.2
    [back] = engine.apply(Arrive(buyer="b1", product="p2"), 5.0 + 3700)  # another group's product
    assert back.to == "agent:a1" and back.why in (Reason.RECENT, Reason.RECENT_ANY_STATUS)  # R2.1 then R4
