"""Which queued buyers are told after a leave: the candidates cover every change (R10.4, R10.5)."""

from __future__ import annotations

import math
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.reception.changes import queue_left
from console.routing.engine import Engine
from console.routing.events import Arrive, Close, SetStatus, Status
from console.routing.policy import load_policy_dict
from console.server.queue_positions import QueueTeller, _candidates

pytestmark = pytest.mark.sqlite_only  # no store in these tests


def _seen(position: int, slots: int, threshold: int) -> tuple[int, str]:
    """What a buyer at ``position`` sees: its estimate in avg_handle units, and its tip."""
    tip = f"ahead {position - 1}" if position <= threshold else "busy"
    return math.ceil(position / slots), tip


@settings(max_examples=500, deadline=None)
@given(st.integers(1, 300), st.integers(1, 60), st.integers(0, 30), st.lists(st.integers(1, 400), min_size=1,
                                                                              max_size=80))
def test_every_buyer_whose_view_changed_is_a_candidate(length: int, slots: int, threshold: int,
                                                       leaves: list[int]) -> None:
    """Random leaves from a queue of ``length`` + leaves: each buyer still queued whose estimate or
    tip changed must be among the candidates, and no more than needed when few left."""
    queue = list(range(length + len(leaves)))
    before = {b: _seen(i + 1, slots, threshold) for i, b in enumerate(queue)}
    for leave in leaves:
        queue.pop((leave - 1) % len(queue))
    changed = {i + 1 for i, b in enumerate(queue) if _seen(i + 1, slots, threshold) != before[b]}
    candidates = set(_candidates(len(queue), slots, threshold, len(leaves)))
    assert changed <= candidates
    assert candidates <= set(range(1, len(queue) + 1))
    if len(leaves) < slots:  # only about length x leaves / slots are looked at
        assert len(candidates) <= min(threshold, len(queue)) + len(queue) * len(leaves) // slots + len(leaves)


def _engine_and_teller(slots: int) -> tuple[Engine, QueueTeller, dict[str, str | None], list[str]]:
    policy = load_policy_dict({
        "preset": "douyin", "seed": 1,
        "queue": {"mode": "shop", "repeat_window": 0, "tip_threshold": 3, "avg_handle": "2m"},
        "session": {"close_after": "2h"},
        "groups": [{"id": "g", "cap": slots}],
        "agents": [{"id": "a1", "groups": ["g"]}],
    }, "shop")
    engine = Engine(policy, start=1_000.0)
    teller = QueueTeller(lambda buyer, update: None)
    holders: dict[str, str | None] = {}
    engine.apply(SetStatus(agent="a1", status=Status.ONLINE), 1_000.0)
    return engine, teller, holders, []


def _apply(engine: Engine, teller: QueueTeller, holders: dict[str, str | None], event: Any, now: float) -> None:
    for d in engine.apply(event, now):
        teller.decided(d, queue_left(holders.get(d.buyer), d))
        holders[d.buyer] = None if d.event == "closed" else d.to
    teller.check_basis(engine)


@pytest.mark.parametrize("seed", range(8))
def test_a_flush_cut_into_chunks_and_interrupted_by_leaves_tells_everyone(seed: int) -> None:
    """Whatever leaves happen between the chunks of a flush, once the flushes are done every queued
    buyer was last told its current estimate and tip (R10.4, R10.5)."""
    rng = random.Random(seed)
    engine, teller, holders, _ = _engine_and_teller(slots=rng.randint(1, 6))
    now = 1_000.0
    for i in range(rng.randint(20, 120)):
        now += 1
        _apply(engine, teller, holders, Arrive(buyer=f"b{i}"), now)
    for _ in range(30):
        now += 1
        held = [b for b, h in holders.items() if h == "agent:a1"]
        queued = [b for b, h in holders.items() if h is not None and h.startswith("queue:")]
        for _ in range(rng.randint(0, 4)):  # closes that dequeue, and queued buyers who give up
            pool = held if held and rng.random() < 0.7 else queued
            if pool:
                _apply(engine, teller, holders, Close(buyer=pool.pop(rng.randrange(len(pool)))), now)
        if rng.random() < 0.5:  # a flush starts (or goes on) and does one chunk
            if not teller._work:
                teller._work = teller._plan(engine)
            teller._step(engine, rng.randint(1, 15))
    teller.flush(engine)  # the flushes that follow, until nothing is marked
    while teller.pending or teller._work:
        teller.flush(engine)
    for view in engine.queues():
        for entry in engine.queue_entries(view.pool):
            told = teller.told.get(entry.buyer)
            assert told is not None and told[1:] == (entry.eta, entry.tip), (entry, told)
