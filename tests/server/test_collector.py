"""The server's full garbage collection waits for a quiet moment, and under load never longer than FULL_AT_MOST
once it is due."""

from __future__ import annotations

import asyncio
import gc

import pytest

from console.server import collector as collector_module
from console.server.collector import (
    FULL_AT_MOST,
    FULL_DUE,
    QUIET_GAP,
    SWEEP_AT_MOST,
    SWEEP_GAP,
    SWEEP_GAP_MOST,
    SWEEP_GROWTH,
    SWEEP_WORTH,
    TICK,
    PacedCollector,
)

pytestmark = pytest.mark.sqlite_only  # no store at all


class _Process:
    """A clock, a CPU clock and a collector the test drives."""

    def __init__(self) -> None:
        self.now = 0.0
        self.cpu = 0.0
        self.pending = 0
        self.passes: list[float] = []
        self.sweeps: list[float] = []  # full passes that walked the frozen objects too
        self.frozen = False
        self.freezes = 0  # gc.freeze() calls
        self.young_survivors = 0  # objects the young passes would still walk (not frozen)
        self.frozen_count = 1000  # gc.get_freeze_count()
        self.garbage = 0  # what a sweep finds

    def collect(self, generation: int) -> int:
        assert generation == 2
        self.passes.append(self.now)
        self.pending = 0
        if not self.frozen:
            self.sweeps.append(self.now)
            return self.garbage
        return 0

    def freeze(self) -> None:
        self.frozen = True
        self.freezes += 1
        self.young_survivors = 0

    def unfreeze(self) -> None:
        self.frozen = False

    def second(self, busy: float) -> None:
        """One second of which the process spent ``busy`` on the CPU."""
        self.now += 1.0
        self.cpu += busy

    def pacer(self) -> PacedCollector:
        return PacedCollector(clock=lambda: self.now, cpu=lambda: self.cpu, collect=self.collect,
                              pending=lambda: self.pending, freeze=self.freeze, unfreeze=self.unfreeze,
                              frozen=lambda: self.frozen_count)


def test_a_due_full_pass_waits_for_a_quiet_tick() -> None:
    p = _Process()
    pacer = p.pacer()
    p.pending = FULL_DUE
    for _ in range(3):
        p.now += FULL_AT_MOST / 4
        p.cpu += 0.9 * FULL_AT_MOST / 4  # a peak
        assert not pacer.tick()
    p.now += FULL_AT_MOST / 8
    p.cpu += 0.1 * FULL_AT_MOST / 8
    assert pacer.tick()  # quiet: before FULL_AT_MOST
    assert p.passes == [7 * FULL_AT_MOST / 8]


def test_nothing_pending_nothing_runs() -> None:
    p = _Process()
    pacer = p.pacer()
    for busy in (0.0, 0.95):
        for _ in range(int(FULL_AT_MOST) + 10):
            p.second(busy=busy)
            assert not pacer.tick()


def test_a_lull_is_used_for_what_is_pending() -> None:
    """Less than the usual count pending: a quiet tick runs the pass once QUIET_GAP has passed
    (before the next rush), a busy one does not."""
    p = _Process()
    pacer = p.pacer()
    p.pending = 1
    for _ in range(int(QUIET_GAP) - 1):
        p.second(busy=0.0)
        assert not pacer.tick()
    p.second(busy=0.9)
    p.second(busy=0.9)
    assert not pacer.tick()
    p.second(busy=0.0)
    assert pacer.tick()


def test_under_a_long_peak_it_runs_every_full_at_most_seconds() -> None:
    """Once due by the count: FULL_AT_MOST after the last pass (short: each walks only what came
    since the last freeze); not before it is due."""
    p = _Process()
    pacer = p.pacer()
    for _ in range(int(3 * FULL_AT_MOST)):
        p.pending += FULL_DUE  # the young generations collect busily
        p.second(busy=0.95)
        pacer.tick()
    assert p.passes == [FULL_AT_MOST, 2 * FULL_AT_MOST, 3 * FULL_AT_MOST]
    for _ in range(FULL_DUE - 1):
        p.pending += 1
        p.second(busy=0.95)
        assert not pacer.tick()  # overdue by the clock, not due by the count
    p.pending += 1
    p.second(busy=0.95)
    assert pacer.tick()


def test_survivors_are_frozen_and_walked_again_by_a_quiet_sweep() -> None:
    """Each full pass freezes what survived it; the frozen objects are walked again only by a
    sweep, at a quiet tick SWEEP_GAP after the last one."""
    p = _Process()
    p.garbage = SWEEP_WORTH  # each sweep finds enough for the next to come as soon
    pacer = p.pacer()
    p.freeze()  # what the start loaded (app.py freezes it)
    for _ in range(int(2 * SWEEP_GAP)):
        p.pending += 1
        p.second(busy=0.0)
        pacer.tick()
    assert len(p.passes) > 50  # every QUIET_GAP
    assert p.frozen and p.sweeps == [SWEEP_GAP, 2 * SWEEP_GAP]
    assert pacer.sweeps == 2


def _quiet_sweeps(p: _Process, pacer: PacedCollector, seconds: float) -> None:
    for _ in range(int(seconds)):
        p.pending += 1
        p.second(busy=0.0)
        pacer.tick()


def test_quiet_sweeps_that_find_nothing_come_ever_less_often() -> None:
    """A quiet sweep holds the loop as long as one at a peak, and quiet is a working day's traffic:
    after a sweep that found fewer than SWEEP_WORTH objects the next waits twice as long, up to
    SWEEP_GAP_MOST; one that finds more brings the gap back to SWEEP_GAP."""
    p = _Process()
    pacer = p.pacer()
    p.freeze()
    _quiet_sweeps(p, pacer, 6 * 3600)
    gaps = [b - a for a, b in zip([0.0, *p.sweeps], p.sweeps, strict=False)]
    assert gaps[:4] == [SWEEP_GAP, 2 * SWEEP_GAP, 4 * SWEEP_GAP, 8 * SWEEP_GAP]
    assert max(gaps) == SWEEP_GAP_MOST and gaps[-1] == SWEEP_GAP_MOST
    assert len(p.sweeps) < 6 * 3600 / SWEEP_GAP / 2  # against one every SWEEP_GAP
    p.garbage = SWEEP_WORTH  # the next finds something: the one after comes SWEEP_GAP later
    _quiet_sweeps(p, pacer, 2 * SWEEP_GAP_MOST)
    assert p.sweeps[-1] - p.sweeps[-2] == SWEEP_GAP


def test_a_quiet_sweep_comes_early_when_the_frozen_objects_grew() -> None:
    """With the quiet gap grown, a quiet tick still sweeps SWEEP_GAP after the last sweep once the
    frozen objects grew SWEEP_GROWTH-fold since it (what waits for a sweep stays bounded)."""
    p = _Process()
    pacer = p.pacer()
    p.freeze()
    _quiet_sweeps(p, pacer, 7 * SWEEP_GAP)  # sweeps at 1, 3 and 7 gaps: the next would be at 15
    assert p.sweeps == [SWEEP_GAP, 3 * SWEEP_GAP, 7 * SWEEP_GAP]
    p.frozen_count = int(SWEEP_GROWTH * 1000)
    _quiet_sweeps(p, pacer, SWEEP_GAP)
    assert p.sweeps[-1] == 8 * SWEEP_GAP


def test_under_a_long_peak_a_sweep_waits_until_the_frozen_objects_grew() -> None:
    """A sweep walks every object (0.6-0.8 s of held loop at a peak) and finds nothing once no
    cycle is left to it: under load it runs only when the frozen objects grew SWEEP_GROWTH-fold
    since the last sweep, at a due pass SWEEP_AT_MOST after it; a quiet tick still sweeps."""
    p = _Process()
    pacer = p.pacer()
    p.freeze()
    for _ in range(int(3 * SWEEP_AT_MOST)):  # hours of peak, the population flat
        p.pending += 1
        p.second(busy=0.95)
        pacer.tick()
    assert p.sweeps == [] and len(p.passes) > 100
    p.frozen_count = int(SWEEP_GROWTH * 1000) - 1
    p.pending += 1
    p.second(busy=0.95)
    pacer.tick()
    assert p.sweeps == []
    p.frozen_count += 1  # grown SWEEP_GROWTH-fold: the next due full pass sweeps
    passes = len(p.passes)
    while len(p.passes) == passes:
        p.pending += 1
        p.second(busy=0.95)
        pacer.tick()
    assert p.sweeps == [p.passes[-1]] and p.frozen
    p.frozen_count = int(SWEEP_GROWTH * SWEEP_GROWTH * 1000)  # the next needs growth over what that one left
    for _ in range(int(SWEEP_AT_MOST) - 1):
        p.pending += 1
        p.second(busy=0.95)
        pacer.tick()
    assert len(p.sweeps) == 1
    p.pending += 1
    p.second(busy=0.0)  # quiet: a sweep SWEEP_GAP after the last one, grown or not
    pacer.tick()
    assert len(p.sweeps) == 2


def test_between_full_passes_every_tick_freezes_what_survived() -> None:
    """Under load, while no full pass is due (fewer than FULL_DUE young passes since the last),
    each tick freezes what the young generations kept, so neither they nor the next full pass
    walk it again."""
    p = _Process()
    pacer = p.pacer()
    p.pending = FULL_DUE - 1
    for second in range(1, 100):
        p.young_survivors += 1000  # this second's survivors of the young passes
        p.second(busy=0.95)
        assert not pacer.tick()
        assert p.young_survivors == 0 and p.freezes == second
    assert p.passes == []


def test_the_pass_itself_is_not_taken_for_load() -> None:
    """A full pass burns CPU; the tick after it measures from after the pass."""
    p = _Process()
    pacer = p.pacer()
    p.pending = FULL_DUE
    p.second(busy=0.0)

    def slow_collect(generation: int) -> int:
        p.cpu += 0.4  # the pass's own CPU, no wall time passes in this fake
        return p.collect(generation)

    pacer._collect = slow_collect
    assert pacer.tick()
    p.pending = FULL_DUE
    p.second(busy=0.1)
    assert pacer.tick()  # quiet: 0.1 of a core, not 0.5


def test_run_switches_the_automatic_full_pass_off_and_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(collector_module, "TICK", 0.001)
    before = gc.get_threshold()

    async def scenario() -> None:
        task = asyncio.ensure_future(PacedCollector(freeze=lambda: None, unfreeze=lambda: None).run())
        await asyncio.sleep(0.01)
        assert gc.get_threshold()[:2] == before[:2] and gc.get_threshold()[2] > 10**6
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass

    asyncio.run(scenario())
    assert gc.get_threshold() == before
    assert TICK > 0
