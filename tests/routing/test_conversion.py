"""R8.2 conversion weights: a function of the events in the 7-day window at the decision, nothing else.

The engine's figure is checked against one computed from scratch out of the event history: the
distinct buyers an agent received in the window, and those among them whose order became paid
after a reception in the window (§1 "paid (per agent)").
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from console.routing.engine import Engine
from console.routing.events import AnyEvent, Arrive, Close, OrderChange, SetStatus, Status
from console.routing.policy import load_policy_dict

DAY = 86400.0
WINDOW = 7 * DAY
PAID = {"paid", "shipped", "success"}


def _engine(agents: list[dict[str, Any]]) -> Engine:
    return Engine(load_policy_dict({"pick": "conversion", "seed": 1, "agents": agents}), start=0.0)


def test_reception_after_payment_does_not_count_as_paid() -> None:
    """The issue's example: the only reception of b1 in the window came after b1 paid: 3 x 1/3."""
    engine = _engine([{"id": "a1", "level": 3}, {"id": "a2", "level": 1}])
    engine.apply(SetStatus(agent="a1", status=Status.ONLINE), 0.0)
    engine.apply(Arrive(buyer="b1"), 0.0)
    engine.apply(OrderChange(buyer="b1", order="o1", state="paid"), 60.0)  # paid after the reception
    engine.apply(Close(buyer="b1"), 120.0)
    engine.apply(Arrive(buyer="b1"), 8 * DAY)  # R4.6: past the window, a fresh reception by a1
    engine.apply(Close(buyer="b1"), 8 * DAY + 60)
    a1 = engine.agents["a1"]
    assert a1.level * a1.conversion() == 1.0  # 3 x (0 + 1) / (1 + 2), not 2.0


def _brute(history: list[tuple[float, int, str, str, str]], now: float) -> dict[str, float]:
    """(time, order, kind, agent or order id, buyer) -> each agent's (paid + 1) / (received + 2)."""
    received: dict[str, dict[str, list[int]]] = {}
    paid_at: dict[str, list[int]] = {}
    order_states: dict[tuple[str, str], str] = {}
    for t, serial, kind, ref, buyer in history:
        if kind == "received" and now - t < WINDOW:
            received.setdefault(ref, {}).setdefault(buyer, []).append(serial)
        elif kind != "received":
            before = order_states.get((buyer, ref))
            order_states[(buyer, ref)] = kind
            if kind in PAID and before not in PAID:
                paid_at.setdefault(buyer, []).append(serial)
    out = {}
    for agent, buyers in received.items():
        paid = sum(1 for b, serials in buyers.items() if any(p > min(serials) for p in paid_at.get(b, [])))
        out[agent] = (paid + 1) / (len(buyers) + 2)
    return out


@st.composite
def timelines(draw: st.DrawFn) -> list[tuple[float, AnyEvent, bool]]:
    buyers = ["b1", "b2", "b3"]
    steps: list[tuple[float, AnyEvent, bool]] = []
    for _ in range(draw(st.integers(5, 60))):
        gap = draw(st.sampled_from([0.0, 60.0, 60.0, DAY, 3 * DAY, 7 * DAY - 60, 7 * DAY]))
        buyer = draw(st.sampled_from(buyers))
        event = draw(st.one_of(
            st.builds(Arrive, buyer=st.just(buyer)),
            st.builds(Close, buyer=st.just(buyer)),
            st.builds(OrderChange, buyer=st.just(buyer), order=st.sampled_from(["o1", "o2"]),
                      state=st.sampled_from(["unpaid", "paid", "paid", "shipped", "closed", "success"])),
            st.builds(SetStatus, agent=st.sampled_from(["a1", "a2"]), status=st.sampled_from(list(Status))),
        ))
        steps.append((gap, event, draw(st.booleans())))  # look at the weights here or not
    return steps


@settings(max_examples=120, deadline=None)
@given(timelines())
def test_weights_are_a_function_of_the_window(steps: list[tuple[float, AnyEvent, bool]]) -> None:
    """Whenever looked at (and whether or not it was looked at before), every agent's conversion
    rate equals the one computed from scratch out of the window."""
    engine = _engine([{"id": "a1", "level": 2}, {"id": "a2", "level": 4}, {"id": "a3"}])
    engine.apply(SetStatus(agent="a3", status=Status.ONLINE), 0.0)
    history: list[tuple[float, int, str, str, str]] = []
    now, serial = 0.0, 0
    for gap, event, look in steps:
        now += gap
        for decision in engine.apply(event, now):
            serial += 1
            if decision.event == "routed" and decision.to.startswith("agent:") and decision.why.value != "open_session":
                history.append((now, serial, "received", decision.to.removeprefix("agent:"), decision.buyer))
        if isinstance(event, OrderChange):
            serial += 1
            history.append((now, serial, event.state, event.order, event.buyer))
        if not look:
            continue
        expected = _brute(history, now)
        for agent in engine.agents.values():
            assert agent.conversion() == expected.get(agent.id, 0.5), (agent.id, now)
