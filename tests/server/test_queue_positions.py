"""Which queued buyers are told after a leave: the candidates cover every change (R10.4, R10.5)."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from console.server.queue_positions import _candidates


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
