"""Shift timelines from the audit log's status changes (issue 14)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from console.reception.shifts import OFFLINE, ONLINE, SUSPENDED, Change, shifts

H = 3600.0


def test_a_day_with_two_breaks_and_a_late_start() -> None:
    changes = [Change(9 * H, "a1", ONLINE), Change(11 * H, "a1", SUSPENDED), Change(11.5 * H, "a1", ONLINE),
               Change(15 * H, "a1", SUSPENDED), Change(15.25 * H, "a1", ONLINE), Change(18 * H, "a1", OFFLINE),
               Change(10 * H, "a2", ONLINE)]
    a1, a2, a3 = shifts(["a1", "a2", "a3"], 0.0, 24 * H, 20 * H, {"a2": SUSPENDED}, changes)
    assert [(s.start / H, s.end / H, s.status) for s in a1.spans] == [
        (0, 9, OFFLINE), (9, 11, ONLINE), (11, 11.5, SUSPENDED), (11.5, 15, ONLINE), (15, 15.25, SUSPENDED),
        (15.25, 18, ONLINE), (18, 20, OFFLINE)]
    assert a1.seconds(ONLINE) == 8.25 * H and a1.seconds(SUSPENDED) == 0.75 * H and a1.breaks == 2
    assert a1.first_online == 9 * H
    assert [(s.start / H, s.end / H, s.status) for s in a2.spans] == [(0, 10, SUSPENDED), (10, 20, ONLINE)]
    assert a2.breaks == 1  # began the day suspended
    assert [(s.status, s.seconds) for s in a3.spans] == [(OFFLINE, 20 * H)] and a3.first_online is None


def test_a_past_day_ends_at_midnight_and_changes_outside_it_are_ignored() -> None:
    changes = [Change(-1.0, "a1", ONLINE), Change(2 * H, "a1", SUSPENDED), Change(25 * H, "a1", OFFLINE)]
    [a1] = shifts(["a1"], 0.0, 24 * H, 99 * H, {"a1": ONLINE}, changes)
    assert [(s.start / H, s.end / H, s.status) for s in a1.spans] == [(0, 2, ONLINE), (2, 24, SUSPENDED)]


@given(st.lists(st.tuples(st.floats(0, 100), st.sampled_from([ONLINE, SUSPENDED, OFFLINE])), max_size=30),
       st.floats(0, 120))
def test_spans_tile_the_day_without_gaps_and_never_repeat_a_status(raw: list[tuple[float, str]], now: float) -> None:
    changes = [Change(at, "a", status) for at, status in sorted(raw)]
    [shift] = shifts(["a"], 0.0, 100.0, now, {}, changes)
    stop = min(100.0, now)
    if stop <= 0:
        assert shift.spans == []
        return
    assert shift.spans[0].start == 0.0 and shift.spans[-1].end == stop
    for before, after in zip(shift.spans, shift.spans[1:], strict=False):
        assert before.end == after.start and before.status != after.status and after.seconds > 0
    assert abs(sum(shift.seconds(s) for s in (ONLINE, SUSPENDED, OFFLINE)) - stop) < 1e-9
