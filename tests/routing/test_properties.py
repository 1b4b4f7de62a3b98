"""Invariants of the engine over random event sequences (STYLE.md: Hypothesis for invariants)."""

from __future__ import annotations

import pickle
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from console.routing.engine import Engine
from console.routing.events import (
    AnyEvent,
    Arrive,
    BuyerSay,
    Close,
    Decision,
    Handoff,
    HolderReply,
    OrderChange,
    SetStatus,
    Status,
)
from console.routing.policy import load_policy_dict
from console.routing.state import HolderKind

AGENTS = ["a1", "a2", "a3", "a4"]
BUYERS = [f"b{i}" for i in range(12)]


@st.composite
def policies(draw: st.DrawFn, queue_on: bool) -> dict[str, Any]:
    group_ids = draw(st.lists(st.sampled_from(["g1", "g2", "g3"]), min_size=0, max_size=3, unique=True))
    groups = [{"id": g, "cap": draw(st.integers(1, 3)), "products": draw(st.lists(st.sampled_from("pq"), max_size=1)),
               "bot": draw(st.booleans()) if not queue_on else False} for g in group_ids]
    agents = []
    for a in AGENTS:
        member = draw(st.lists(st.sampled_from(group_ids), unique=True, max_size=2)) if group_ids else []
        agents.append({"id": a, "level": draw(st.integers(1, 5)), "groups": member, "cap": draw(st.integers(1, 3))})
    return {
        "preset": draw(st.sampled_from(["taobao", "douyin", "kuaishou", "pinduoduo"])),
        "seed": draw(st.integers(0, 1000)),
        "pick": draw(st.sampled_from(["level", "conversion", "least_saturated", "even_daily", "random"])),
        "queue": {"mode": "shop" if queue_on else "off", "repeat_window": 0,
                  "overflow": draw(st.booleans())},
        "recent": {"respect_cap": True},
        "offline": {"mode": draw(st.sampled_from(["pool", "queue"]))},
        "bot": {"shop_first": draw(st.booleans()) if not queue_on else False},
        "session": {"close_after": draw(st.sampled_from(["1m", "10m", "2h"]))},
        "groups": groups,
        "agents": agents,
    }


def events() -> st.SearchStrategy[tuple[float, AnyEvent]]:
    buyer = st.sampled_from(BUYERS)
    event = st.one_of(
        st.builds(SetStatus, agent=st.sampled_from(AGENTS), status=st.sampled_from(list(Status))),
        st.builds(Arrive, buyer=buyer, product=st.sampled_from([None, "p", "q"])),
        st.builds(Arrive, buyer=buyer),  # arrivals twice as likely: queues and caps need pressure
        st.builds(BuyerSay, buyer=buyer, text=st.sampled_from(["在吗", "转人工"])),
        st.builds(HolderReply, buyer=buyer),
        st.builds(Close, buyer=buyer),
        st.builds(Handoff, buyer=buyer),
        st.builds(OrderChange, buyer=buyer, order=st.sampled_from(["o1", "o2"]),
                  state=st.sampled_from(["unpaid", "paid", "success", "closed"])),
    )
    return st.tuples(st.sampled_from([0.0, 0.0, 0.0, 1.0, 30.0, 90.0, 700.0]), event)


def run(policy: dict[str, Any], steps: list[tuple[float, AnyEvent]]) -> tuple[Engine, list[list[Decision]]]:
    engine = Engine(load_policy_dict(policy, "shop"), start=1_000_000.0)
    now = 1_000_000.0
    outputs = []
    for gap, event in steps:
        now += gap
        outputs.append(engine.apply(event, now))
    return engine, outputs


def check_ownership(engine: Engine) -> None:
    """One open session per buyer, held by exactly one holder, loads matching sessions."""
    held: dict[str, str] = {}
    for agent in engine.agents.values():
        for buyer in agent.sessions:
            assert buyer not in held, f"{buyer} held twice"
            held[buyer] = agent.id
    for pool in engine.pools.values():
        for entry in pool.alive_entries():
            assert entry.buyer not in held, f"{entry.buyer} both held and queued"
            held[entry.buyer] = f"queue:{pool.name}"
        assert pool.length == len(pool.alive_entries())
    for buyer in engine.buyers.values():
        session = buyer.session
        if session is None:
            assert buyer.id not in held
        elif session.kind is HolderKind.AGENT:
            assert held.get(buyer.id) == session.ref
        elif session.kind is HolderKind.QUEUE:
            assert held.get(buyer.id) == session.holder
        else:
            assert buyer.id not in held


def check_takers(engine: Engine) -> None:
    """The takers index (issue 9) says what a test of every agent says (§8: available, and a free
    slot if capped), per group and shop-wide, in policy order; and a snapshot rebuilds it."""
    def scan(agents: Any) -> list[str]:
        return [a.id for a in agents if a.available and a.can_take()]

    for copy in (engine, pickle.loads(pickle.dumps(engine))):
        assert [a.id for a in copy._shop_wide()] == scan(copy.agents.values())
        for gid, members in copy.members.items():
            assert [a.id for a in copy._takers.of((gid,))] == scan(members)
        assert [a.id for a in copy._takers.of(list(copy.members))] == scan(
            a for a in copy.agents.values() if any(a in m for m in copy.members.values()))


# ---------------------------------------------------------------------------------------------
# Queues under pressure: caps that bind, several pools with buyers waiting, recent contacts at
# their cap. Small caps, few buyers coming back often, agents online from the start.

GROUPS = ["g1", "g2", "g3"]
PRODUCTS = ["p1", "p2", "p3"]


@st.composite
def busy_policies(draw: st.DrawFn) -> dict[str, Any]:
    group_ids = draw(st.lists(st.sampled_from(GROUPS), min_size=2, max_size=3, unique=True))
    groups = [{"id": g, "cap": draw(st.integers(1, 2)), "products": [PRODUCTS[GROUPS.index(g)]],
               "pick": draw(st.sampled_from(["level", "conversion", "least_saturated", "even_daily", "random"]))}
              for g in group_ids]
    agents = []
    for a in AGENTS:
        member = draw(st.lists(st.sampled_from(group_ids), unique=True, min_size=0, max_size=2)
                      if a != AGENTS[-1] else st.just([]))  # one agent in no group (never capped)
        agent: dict[str, Any] = {"id": a, "level": draw(st.integers(1, 5)), "groups": member}
        if draw(st.booleans()):
            agent["cap"] = draw(st.integers(1, 2))
        agents.append(agent)
    mode = draw(st.sampled_from(["shop", "shop", "groups"]))
    queue: dict[str, Any] = {"mode": mode, "repeat_window": 0, "overflow": draw(st.booleans())}
    if mode == "groups":
        queue["groups"] = draw(st.lists(st.sampled_from(group_ids), min_size=1, unique=True))
    return {
        "preset": draw(st.sampled_from(["taobao", "douyin", "kuaishou", "pinduoduo"])),
        "seed": draw(st.integers(0, 1000)),
        "queue": queue,
        "recent": {"respect_cap": True, "any_status": draw(st.sampled_from(["0s", "24h"]))},
        "offline": {"mode": draw(st.sampled_from(["pool", "queue"]))},
        "bot": {"shop_first": False},
        "session": {"close_after": draw(st.sampled_from(["1m", "2h", "2h"]))},
        "groups": groups,
        "agents": agents,
    }


def busy_events() -> st.SearchStrategy[tuple[float, AnyEvent]]:
    buyer = st.sampled_from(BUYERS[:8])
    arrive = st.builds(Arrive, buyer=buyer, product=st.sampled_from([None, *PRODUCTS]))
    close = st.builds(Close, buyer=buyer)
    event = st.one_of(
        arrive, arrive, arrive, close, close, close,
        st.builds(SetStatus, agent=st.sampled_from(AGENTS), status=st.sampled_from(list(Status))),
        st.builds(BuyerSay, buyer=buyer, text=st.just("在吗")),
        st.builds(HolderReply, buyer=buyer),
    )
    return st.tuples(st.sampled_from([0.0, 0.0, 1.0, 30.0, 90.0, 3600.0]), event)


def _served(policy: dict[str, Any], agent: dict[str, Any]) -> set[str]:
    """R10.3 (and R10.6): the pools an agent takes buyers from, read off the policy file."""
    group_ids = [g["id"] for g in policy["groups"]]
    if policy["queue"]["overflow"]:
        return {"queue:shop", *(f"queue:{g}" for g in group_ids)}
    queuing = group_ids if policy["queue"]["mode"] == "shop" else policy["queue"].get("groups", [])
    return {"queue:shop", *(f"queue:{g}" for g in agent["groups"] if g in queuing)}


def _at_cap_recent(engine: Engine, event: AnyEvent) -> bool:
    """The arriving buyer's recent contact is a capped agent at its cap (R4.5 must skip it)."""
    if not isinstance(event, Arrive):
        return False
    state = engine.buyers.get(event.buyer)
    if state is None or state.recent is None or state.session is not None:
        return False
    agent = engine.agents[state.recent[0]]
    return agent.capped and agent.load >= agent.cap and agent.status is not Status.OFFLINE


@settings(max_examples=150, deadline=None)
@given(busy_policies(), st.sets(st.sampled_from(AGENTS), min_size=1), st.lists(busy_events(), min_size=40, max_size=120))
def test_queues_under_pressure(policy: dict[str, Any], online: set[str], steps: list[tuple[float, AnyEvent]]) -> None:
    """Queue on, respect_cap on, no repeat window, no exclusive. After every event:

    - caps hold: no capped agent over its cap, R4.5 included (a recent contact at its cap is skipped);
    - work conservation (R9.3, R10.3): no available capped agent with a free slot while a buyer
      waits in a pool it serves (an uncapped one may hold buyers over its cap while R10.6's
      overflow queues others: R10.6 sends overflow only to a free slot);
    - each pool is first in, first out, with the positions it announces;
    - a dequeue takes the buyer who has waited longest across every pool the agent serves;
    - every buyer has one owner.
    """
    engine = Engine(load_policy_dict(policy, "shop"), start=1_000_000.0)
    specs = {a["id"]: a for a in policy["agents"]}
    now = 1_000_000.0
    pools: dict[str, list[str]] = {}
    where: dict[str, str] = {}  # buyer -> the pool they wait in
    joined: dict[str, int] = {}  # buyer -> order of joining (R10.3 "since joining")
    seen = {"cap": False, "dequeued": False, "several pools": False, "recent at cap": False}
    initial = [(0.0, SetStatus(agent=a, status=Status.ONLINE)) for a in sorted(online)]
    for gap, event in initial + steps:
        now += gap
        seen["recent at cap"] |= _at_cap_recent(engine, event)
        for d in engine.apply(event, now):
            old = where.pop(d.buyer, None)
            if d.event == "closed":
                assert old is None, f"{d.buyer}: a queue place closed (R9.1)"
                continue
            if old is not None and old != d.to:
                if d.why.value == "dequeued":
                    agent = d.to.removeprefix("agent:")
                    waiting = [b for name in _served(policy, specs[agent]) for b in pools.get(name, [])]
                    longest = min(waiting, key=joined.__getitem__)
                    assert d.buyer == longest, f"{agent} took {d.buyer} from {old}; {longest} has waited longer"
                    seen["dequeued"] = True
                pools[old].remove(d.buyer)
            if d.event == "queued":
                pool = pools.setdefault(d.to, [])
                if old != d.to:
                    pool.append(d.buyer)
                    joined[d.buyer] = len(joined) + sum(joined.values())  # strictly increasing
                assert d.position == pool.index(d.buyer) + 1
                where[d.buyer] = d.to
        seen["several pools"] |= sum(1 for p in pools.values() if p) > 1
        for agent in engine.agents.values():
            if agent.capped:
                assert agent.load <= agent.cap, f"{agent.id} holds {agent.load} over cap {agent.cap}"
                seen["cap"] |= agent.load == agent.cap
            if agent.capped and agent.available and agent.has_free_slot:
                waiting = [name for name in _served(policy, specs[agent.id]) if pools.get(name)]
                assert not waiting, f"{agent.id} has a free slot while buyers wait in {waiting}"
        check_ownership(engine)
        check_takers(engine)
        check_wake(engine)
        # what a server's queue teller reads after every change, as the views say it
        assert engine.queue_bases() == [(v.pool, v.length, engine.queue_slots(v.pool)) for v in engine.queues()]
    for label, reached in seen.items():
        if reached:
            event_label(label)


def event_label(label: str) -> None:
    from hypothesis import event

    event(label)


@settings(max_examples=100, deadline=None)
@given(policies(queue_on=False), st.lists(events(), max_size=60))
def test_same_seed_same_decisions(policy: dict[str, Any], steps: list[tuple[float, AnyEvent]]) -> None:
    first, out1 = run(policy, steps)
    second, out2 = run(policy, steps)
    assert out1 == out2
    check_ownership(first)
    check_takers(first)
    # a new policy re-indexes every agent (caps, groups and who is in them change)
    changed = dict(policy, agents=[dict(a, cap=a["cap"] % 3 + 1, groups=a["groups"][:1]) for a in policy["agents"]])
    first.set_policy(load_policy_dict(changed, "shop"), 2_000_000.0)
    check_takers(first)


@settings(max_examples=100, deadline=None)
@given(policies(queue_on=False), st.lists(events(), max_size=40))
def test_waiting_buyers_never_idle_out(policy: dict[str, Any], steps: list[tuple[float, AnyEvent]]) -> None:
    """R9.2: a session whose buyer wrote last never closes by itself."""
    engine = Engine(load_policy_dict(policy, "shop"), start=0.0)
    now = 0.0
    for gap, event in steps:
        now += gap
        waiting = {b.id for b in engine.buyers.values() if b.session is not None and b.session.waiting}
        for d in engine.apply(event, now):
            if d.event == "closed" and d.why.value == "idle":
                assert d.buyer not in waiting
                waiting.discard(d.buyer)


def check_wake(engine: Engine) -> None:
    """R9.2: the engine wakes at the earliest idle close of any session, though its timer heap
    keeps about one entry per session, which may be earlier than that session's close (issue 9)."""
    for copy in (engine, pickle.loads(pickle.dumps(engine))):
        dues = [b.session.due for b in copy.buyers.values() if b.session is not None and b.session.due is not None]
        assert copy.next_wake() == (min(dues) if dues else None)
        entries = {(due, sid) for due, sid, _, _ in copy._timers}
        assert all((due, sid) in entries for sid, due in copy._timer_of.items())


@settings(max_examples=100, deadline=None)
@given(policies(queue_on=False), st.lists(events(), max_size=60))
def test_next_wake_is_the_earliest_idle_close(policy: dict[str, Any], steps: list[tuple[float, AnyEvent]]) -> None:
    engine = Engine(load_policy_dict(policy, "shop"), start=0.0)
    now = 0.0
    for gap, event in [(0.0, SetStatus(agent=a, status=Status.ONLINE)) for a in AGENTS] + steps:
        now += gap
        engine.apply(event, now)
        check_wake(engine)


def test_replies_do_not_grow_the_timer_heap() -> None:
    """A conversation going back and forth keeps one timer entry, not one per reply, while an idle
    session closes first (its entry is the heap's first: nothing behind it is looked at)."""
    policy = {"preset": "douyin", "agents": [{"id": "a1"}], "session": {"close_after": "10m"}}
    engine = Engine(load_policy_dict(policy, "shop"), start=0.0)
    engine.apply(SetStatus(agent="a1", status=Status.ONLINE), 0.0)
    engine.apply(Arrive(buyer="idle"), 0.0)
    engine.apply(HolderReply(buyer="idle"), 1.0)  # then silent: closes at 601
    engine.apply(Arrive(buyer="b1"), 1.0)
    for k in range(1, 200):
        engine.apply(BuyerSay(buyer="b1", text="在吗"), 1.0 + 2 * k)
        engine.apply(HolderReply(buyer="b1"), 2.0 + 2 * k)
        if k % 50 == 0:
            check_wake(engine)
    assert len(engine._timers) <= 3
    assert engine.next_wake() == 601.0
    assert [(d.buyer, d.event) for d in engine.advance(1000.0)] == [("idle", "closed"), ("b1", "closed")]
    assert engine._timers == [] and engine._timer_of == {}


def test_event_log_round_trip_rebuilds_state() -> None:
    """The server's recovery: events encoded, decoded and applied again give the same decisions."""
    from console.routing.events import event_decoder, event_encoder

    policy = {"preset": "douyin", "seed": 3, "agents": [{"id": "a1", "cap": 1}, {"id": "a2", "cap": 1}]}
    steps: list[tuple[float, AnyEvent]] = [
        (0, SetStatus(agent="a1", status=Status.ONLINE)), (1, Arrive(buyer="b1", crowd=("vip",))),
        (1, Arrive(buyer="b2")), (1, Arrive(buyer="b3")), (5, BuyerSay(buyer="b2", text="hi")),
        (30, SetStatus(agent="a2", status=Status.ONLINE)), (700, Close(buyer="b1")),
    ]
    _, expected = run(policy, steps)
    log = [(gap, event_encoder.encode(event)) for gap, event in steps]
    _, again = run(policy, [(gap, event_decoder.decode(raw)) for gap, raw in log])
    assert again == expected


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["push", "pop", "remove"]), st.integers(0, 50)), max_size=400))
def test_pool_positions_match_a_plain_list(ops: list[tuple[str, int]]) -> None:
    """The pool's counted positions equal a plain list's, through pushes, pops, removals, rebuilds."""
    from console.routing.state import Pool, QueueEntry

    pool, plain = Pool("g", "g"), []
    for serial, (op, pick_at) in enumerate(ops):
        if op == "push":
            entry = QueueEntry(f"b{serial}", float(serial), serial)
            assert pool.push(entry) == len(plain) + 1
            plain.append(entry)
        elif plain and op == "pop":
            assert pool.pop() is plain.pop(0)
        elif plain:
            pool.remove(plain.pop(pick_at % len(plain)))
        assert pool.length == len(plain)
        for index, entry in enumerate(plain):
            assert pool.position(entry) == index + 1
