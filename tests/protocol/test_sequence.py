"""The console's sequence tracking: each event applied once, in order; a gap is noticed."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from console.protocol import messages as m
from console.protocol.sequence import SeqTracker, Verdict


def _event(seq: int) -> m.StatusChanged:
    return m.StatusChanged(seq=seq, status=m.Status.ONLINE, load=seq % 5, cap=5)


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
