"""The queue pool's order statistics: ``Pool.at`` agrees with a plain list (R10.4 positions)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from console.routing.state import Pool, QueueEntry


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 10_000)), max_size=400))
def test_at_finds_the_entry_at_each_position(steps: list[tuple[bool, int]]) -> None:
    pool = Pool("shop", None)
    live: list[QueueEntry] = []
    n = 0
    for join, pick in steps:
        if join or not live:
            n += 1
            entry = QueueEntry(f"b{n}", float(n), n)
            pool.push(entry)
            live.append(entry)
        elif pick % 3 == 0:
            assert pool.pop() is live.pop(0)
        else:
            pool.remove(live.pop(pick % len(live)))  # leaving from the middle
        for position in {1, len(live), (pick % max(len(live), 1)) + 1}:
            if 1 <= position <= len(live):
                assert pool.at(position) is live[position - 1]
    assert pool.at(0) is None and pool.at(len(live) + 1) is None
    assert [pool.at(i) for i in range(1, len(live) + 1)] == live
