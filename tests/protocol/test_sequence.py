"""Event numbering and resume: everything missed, in order, once; a snapshot when too far behind."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from console.protocol import examples
from console.protocol import messages as m
from console.protocol.sequence import Backlog, SeqTracker, Verdict


def _event(seq: int) -> m.StatusChanged:
    return m.StatusChanged(seq=seq, status=m.Status.ONLINE, load=seq % 5, cap=5)


def _filled(n: int, capacity: int = 100) -> Backlog:
    log = Backlog(capacity=capacity)
    for _ in range(n):
        log.push(_event(log.next_seq()))
    return log


def test_numbers_start_at_one_and_have_no_holes() -> None:
    log = Backlog()
    assert (log.last_seq, log.next_seq()) == (0, 1)
    log.push(_event(1))
    with pytest.raises(ValueError):
        log.push(_event(3))
    with pytest.raises(ValueError):
        log.push(_event(1))


def test_snapshots_are_not_part_of_the_backlog() -> None:
    snapshot = next(x for x in examples.AGENT_PUSHES if isinstance(x, m.Snapshot))
    with pytest.raises(ValueError):
        Backlog(last_seq=snapshot.seq - 1).push(snapshot)


def test_since_returns_missed_events_in_order() -> None:
    log = _filled(10)
    assert [e.seq for e in log.since(6) or []] == [7, 8, 9, 10]
    assert log.since(10) == []
    assert [e.seq for e in log.since(0) or []] == list(range(1, 11))


def test_too_far_behind_or_ahead_needs_a_snapshot() -> None:
    log = _filled(10, capacity=4)  # holds 7..10
    assert [e.seq for e in log.since(6) or []] == [7, 8, 9, 10]
    assert log.since(5) is None
    assert log.since(11) is None  # the console saw more than the server has: server was reset
    assert Backlog(last_seq=50).since(40) is None  # restarted with nothing held


@given(st.integers(1, 60), st.integers(1, 20), st.integers(0, 70))
def test_resume_is_exact_or_refused(n: int, capacity: int, last: int) -> None:
    log = _filled(n, capacity)
    missed = log.since(last)
    if missed is None:
        assert last > n or last < n - capacity
    else:
        assert [e.seq for e in missed] == list(range(last + 1, n + 1))


def test_tracker_drops_repeats_and_sees_gaps() -> None:
    t = SeqTracker()
    assert t.accept(_event(1)) is Verdict.GAP  # nothing known yet: needs a snapshot first
    snap = m.Snapshot(seq=4, conversations=[], status=m.Status.ONLINE, load=0, cap=5, kpis=m.KpiTiles())
    assert t.accept(snap) is Verdict.NEW
    assert t.accept(_event(4)) is Verdict.DUPLICATE
    assert t.accept(_event(5)) is Verdict.NEW
    assert t.accept(_event(5)) is Verdict.DUPLICATE
    assert t.accept(_event(7)) is Verdict.GAP
    assert t.last_seq == 5


@given(st.lists(st.integers(1, 30), max_size=60))
def test_tracker_applies_each_event_once_in_order(arrivals: list[int]) -> None:
    t = SeqTracker(last_seq=0)
    applied = [s for s in arrivals if t.accept(_event(s)) is Verdict.NEW]
    assert applied == list(range(1, len(applied) + 1))
