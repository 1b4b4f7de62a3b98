"""Engine.prune: buyers outside every window are dropped, and no decision ever changes for it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from console.routing.engine import Engine
from console.routing.events import (
    AnyEvent,
    Arrive,
    BuyerSay,
    Close,
    Decision,
    HolderReply,
    OrderChange,
    SetStatus,
    Status,
)
from console.routing.policy import load_policy_dict
from console.sim.replay import Replay
from console.sim.scenario import load_scenario
from tests.conftest import REPO_ROOT, shared_dir

HOUR = 3600.0
DAY = 24 * HOUR
AGENTS = ["a1", "a2", "a3"]
BUYERS = ["b1", "b2", "b3"]


@st.composite
def policies(draw: st.DrawFn) -> dict[str, Any]:
    queue = draw(st.sampled_from(["off", "shop"]))
    return {
        "preset": draw(st.sampled_from(["taobao", "douyin", "kuaishou", "pinduoduo"])),
        "seed": draw(st.integers(0, 100)),
        "pick": draw(st.sampled_from(["conversion", "level", "even_daily"])),
        "queue": {"mode": queue, "repeat_window": draw(st.sampled_from(["0s", "30m", "10d"]))},
        "recent": {"any_status": draw(st.sampled_from(["0s", "24h", "4d"]))},
        "matching": {"order": ["order"], "after_sale_window": draw(st.sampled_from(["1d", "3d"]))},
        "session": {"close_after": draw(st.sampled_from(["10m", "2d"]))},
        "groups": [{"id": "pre", "orders": ["none", "unpaid"], "cap": 2},
                   {"id": "post", "orders": ["paid", "shipped", "success", "after_sale"], "cap": 2}],
        "agents": [{"id": "a1", "groups": ["pre"], "level": 5}, {"id": "a2", "groups": ["post"]},
                   {"id": "a3", "groups": ["pre", "post"], "level": 1}],
    }


def timelines() -> st.SearchStrategy[list[tuple[float, AnyEvent]]]:
    buyer = st.sampled_from(BUYERS)
    one = st.one_of(
        st.builds(Arrive, buyer=buyer), st.builds(Arrive, buyer=buyer),
        st.builds(Close, buyer=buyer), st.builds(Close, buyer=buyer),
        st.builds(BuyerSay, buyer=buyer, text=st.just("在吗")), st.builds(HolderReply, buyer=buyer),
        st.builds(OrderChange, buyer=buyer, order=st.sampled_from(["o1", "o1", "o2"]),
                  state=st.sampled_from(["unpaid", "paid", "success", "success", "closed", "closed", "after_sale"])),
        st.builds(SetStatus, agent=st.sampled_from(AGENTS), status=st.sampled_from(list(Status))),
    )
    gaps = st.sampled_from([0.0, 60.0, HOUR, DAY, 2 * DAY, 3 * DAY, 5 * DAY, 8 * DAY])
    return st.lists(st.tuples(gaps, one), min_size=20, max_size=90)


@settings(max_examples=500, deadline=None)
@given(policies(), timelines())
def test_pruning_never_changes_a_decision(policy: dict[str, Any], steps: list[tuple[float, AnyEvent]]) -> None:
    """The same inputs to two engines, one pruned after every input: the same decisions."""
    plain = Engine(load_policy_dict(policy, "shop"), start=0.0)
    pruned = Engine(load_policy_dict(policy, "shop"), start=0.0)
    for agent in AGENTS:
        plain.apply(SetStatus(agent=agent, status=Status.ONLINE), 0.0)
        pruned.apply(SetStatus(agent=agent, status=Status.ONLINE), 0.0)
    now, dropped = 0.0, 0
    for gap, step in steps:
        now += gap
        expected: list[Decision] = plain.apply(step, now)
        assert pruned.apply(step, now) == expected
        dropped += pruned.prune(now)
        for buyer in BUYERS:
            assert pruned.order_state(buyer) == plain.order_state(buyer)
        for agent in AGENTS:
            assert pruned.agents[agent].conversion() == plain.agents[agent].conversion()
    if dropped:
        event("some buyer dropped")
        event(f"dropped {min(dropped, 5)}+")


def test_a_buyer_is_kept_while_a_window_holds_then_dropped() -> None:
    engine = Engine(load_policy_dict({"preset": "taobao", "queue": {"repeat_window": "30m"},
                                      "agents": [{"id": "a1"}]}), start=0.0)
    engine.apply(SetStatus(agent="a1", status=Status.ONLINE), 0.0)
    engine.apply(Arrive(buyer="b1"), 0.0)
    assert engine.prune(DAY) == 0  # an open session
    engine.apply(Close(buyer="b1"), 60.0)
    engine.apply(OrderChange(buyer="b1", order="o1", state="closed"), 60.0)
    engine.advance(3 * DAY)
    assert engine.prune(3 * DAY) == 0  # recent contact within 72 h of routing (t = 0) until 3 d
    engine.advance(3 * DAY + 1)
    assert engine.prune(3 * DAY + 1) == 0  # a reception within 7 days (R8.2)
    engine.advance(7 * DAY)
    assert engine.prune(7 * DAY) == 1 and "b1" not in engine.buyers
    engine.apply(OrderChange(buyer="b2", order="o1", state="success"), 7 * DAY)
    engine.apply(OrderChange(buyer="b2", order="o1", state="closed"), 7 * DAY)
    engine.advance(30 * DAY)
    assert engine.prune(30 * DAY) == 0  # an order that was once success keeps its first success (R7.4)
    assert engine.prune(10 * 365 * DAY) == 0  # never ahead of the engine's own clock


def _scenarios() -> list[Path]:
    files = sorted((REPO_ROOT / "tests" / "scenarios").glob("*.json"))
    shared = shared_dir() / "scenarios"
    return files + (sorted(shared.glob("*.json")) if shared.is_dir() else [])


@pytest.mark.parametrize("path", _scenarios(), ids=lambda p: p.stem)
def test_scenarios_replay_the_same_when_pruned_after_every_line(path: Path) -> None:
    scenario = load_scenario(json.loads(path.read_text(encoding="utf-8")))
    plain = [line.as_json() for line in Replay(scenario).run()]
    replay = Replay(scenario)
    pruned = []
    for line in replay.run():
        pruned.append(line.as_json())
        replay.engine.prune(replay.engine.now)
    assert pruned == plain
