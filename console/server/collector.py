"""Python's cyclic garbage collector in the server: the full pass when the server is quiet (issue 9).

CPython 3.11 collects its oldest generation when enough objects have survived the younger ones,
whatever the server is doing. At an 11.11 peak that pass walks every object made since the start
(``gc.freeze()`` keeps the start's own state out of it): the 500 consoles' and thousands of
buyers' connections, their rows and routing state. Measured on ``bench/peak.py`` at 1,000
answered messages/s: a full pass every 5-7 s, 150-330 ms each, with the loop stopped; every
message in flight waits, and the step's p99 goes from about 30 ms to 300 ms. The young
generations' passes took 5-25 ms.

So the automatic full pass is switched off while ``fenliu server`` runs (its threshold set out
of reach; the young generations keep theirs and still run by themselves), and this pacer runs it
from the loop, at a tick where the process used less than ``QUIET_SHARE`` of a core: once it is
due by the usual count (``FULL_DUE`` passes of the middle generation), or ``QUIET_GAP`` seconds
after the last one if anything at all was collected since (so a lull before the next rush is
used). Under load it waits, but never more than ``FULL_AT_MOST`` seconds after the last one, so
that garbage in cycles stays bounded through a peak of hours: one pause every two minutes
instead of every few seconds (before the freeze below; now every ``FULL_AT_MOST`` seconds).

A full pass walks every object not frozen; with 5,000 buyers queued and 500 consoles that is
600,000-800,000 objects, and the pass took 0.5-1.4 s (session 6, the stall watch). What survives
such a pass almost never turns into cyclic garbage later (the passes found 0-1,855 objects in a
gen2 of 633,000-777,000): so after each pass its survivors are frozen (``gc.freeze()``) and the
next full pass walks only what came since. The frozen objects are walked again by a *sweep*
(unfreeze, full pass, freeze), at a quiet tick ``SWEEP_GAP`` seconds after the last sweep (or
up to ``SWEEP_GAP_MOST`` after sweeps that found next to nothing): a cycle that dies after it was
frozen is reclaimed then. Under load a sweep waits for a quiet tick
unless the frozen objects grew to ``SWEEP_GROWTH`` times as many as the last sweep left (then it
runs at a due full pass ``SWEEP_AT_MOST`` after the last sweep), so garbage that waits for it stays
bounded by the population. Session 9 measured why: a sweep at a peak (1,000 answered messages/s,
5,000 queued) holds the loop 0.6-0.8 s (every frozen object walked), and once each closed
connection's transport is freed by its reference count (frames.py ``ServedConnection``; before,
CPython 3.11's transport cycle left some 500 objects a second for it) it finds nothing at all.

Since the freeze a full pass walks only what survived the young generations since the last one,
so its length follows the gap between two (session 7): with ``FULL_AT_MOST`` at 120 s a pass under
load still took 39-253 ms of CPU, and young passes 15-190 ms (the stall watch, 3,400 queued; mostly
each connection's waiter for its next frame, a few objects made per frame received that live until
the next). So under load a full pass now runs ``FULL_AT_MOST`` (2 s) after the last one, as soon as
it is due by the count, and every tick that runs no full pass freezes too: what survived the young
generations is frozen each half second, the young passes walk only what was made since the last
tick and a full pass at most that half second's survivors (figures in docs/BENCHMARKS.md, "Session
7"). ``gc.freeze()`` costs nothing per object (it moves lists). Frozen objects are still freed by
their reference counts the moment they die; only garbage in cycles that was alive at a tick waits
for the next sweep (the full passes found 0-1,855 such objects per two minutes of peak).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

TICK = 0.5  # seconds between two looks
QUIET_SHARE = 0.25  # CPU seconds per second below which the server is quiet
FULL_DUE = 10  # middle-generation passes since the last full one before a full one is due (CPython's default)
QUIET_GAP = 10.0  # seconds after the last full pass when a quiet tick runs one if anything is pending
FULL_AT_MOST = 2.0  # seconds after the last full pass when the next runs even under load (see the docstring)
SWEEP_GAP = 600.0  # seconds after the last sweep (a pass over the frozen objects too) when a quiet tick runs one
SWEEP_AT_MOST = 1800.0  # seconds after the last sweep when the next may run under load (if the frozen objects grew)
SWEEP_GROWTH = 1.5  # under load, a sweep once the frozen objects are this many times as many as after the last
SWEEP_WORTH = 1000  # objects a sweep must find for the next quiet one to come SWEEP_GAP later again
SWEEP_GAP_MOST = 7200.0  # seconds: the longest the quiet gap grows to, doubled after each sweep that found less
"""A quiet sweep holds the loop as long as one at a peak (every frozen object is walked: 0.6-0.8 s
with 5,000 queued and 500 consoles), and "quiet" is under a quarter of a core, a working day's
traffic. Since each closed connection's transport is freed by its reference count, sweeps find
nothing (0 objects in each of five, at 300 answered messages/s; docs/BENCHMARKS.md, session 11;
the count includes what the pass found among the objects not frozen): so after a sweep that found fewer than ``SWEEP_WORTH`` objects the next quiet one waits
twice as long (10, 20, 40, 80 minutes, then every 2 hours: 12 holds a day instead of 144), and
after one that found more, ``SWEEP_GAP`` again. A quiet tick still sweeps ``SWEEP_GAP`` after the
last sweep if the frozen objects grew ``SWEEP_GROWTH``-fold since, as under load."""
_OUT_OF_REACH = 2**30


class PacedCollector:
    """Runs the full collection when the server is quiet; ``tick`` decides, ``run`` ticks."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic,
                 cpu: Callable[[], float] = time.process_time,
                 collect: Callable[[int], int] = gc.collect,
                 pending: Callable[[], int] = lambda: gc.get_count()[2],
                 freeze: Callable[[], None] = gc.freeze, unfreeze: Callable[[], None] = gc.unfreeze,
                 frozen: Callable[[], int] = gc.get_freeze_count) -> None:
        self._clock, self._cpu, self._collect, self._pending = clock, cpu, collect, pending
        self._freeze, self._unfreeze, self._frozen = freeze, unfreeze, frozen
        self._swept = frozen()  # the frozen objects the last sweep left (at first: the start's own, app.py)
        self._last_full = clock()
        self._last_sweep = self._last_full
        self._sweep_gap = SWEEP_GAP  # the quiet gap after the last sweep (SWEEP_GAP_MOST)
        self._last_tick = (self._last_full, cpu())
        self.full_passes = 0
        self.sweeps = 0

    def tick(self) -> bool:
        """Look once: run the full pass if it is due and the server quiet (or it is overdue).
        Whether it ran."""
        now, cpu = self._clock(), self._cpu()
        then, cpu_then = self._last_tick
        self._last_tick = (now, cpu)
        pending, since = self._pending(), now - self._last_full
        quiet = now > then and (cpu - cpu_then) / (now - then) < QUIET_SHARE
        if quiet:
            due = pending >= FULL_DUE or (pending > 0 and since >= QUIET_GAP)
        else:
            due = pending >= FULL_DUE and since >= FULL_AT_MOST
        if not due:
            self._freeze()  # what survived the young passes since the last tick: no pass walks it again but a sweep
            return False
        since_sweep = now - self._last_sweep
        grown = self._frozen() >= SWEEP_GROWTH * max(1, self._swept)
        sweep = (quiet and (since_sweep >= self._sweep_gap or (grown and since_sweep >= SWEEP_GAP))) or (
            since_sweep >= SWEEP_AT_MOST and grown)
        started = self._clock()
        if sweep:
            self._unfreeze()  # the frozen objects are walked too: cycles that died since are reclaimed
        found = self._collect(2)
        self._freeze()  # what survived is walked again only by the next sweep
        self._last_full = self._clock()
        if sweep:
            self._last_sweep = self._last_full
            self._swept = self._frozen()
            self._sweep_gap = SWEEP_GAP if found >= SWEEP_WORTH else min(2 * self._sweep_gap, SWEEP_GAP_MOST)
            self.sweeps += 1
        self._last_tick = (self._last_full, self._cpu())  # the pass's own CPU is not the server's load
        self.full_passes += 1
        log.debug("full collection%s: %d objects in %.0f ms (%s)", " with the frozen objects" if sweep else "", found,
                  1000 * (self._last_full - started), "quiet" if quiet else "overdue")
        return True

    async def run(self) -> None:
        """Tick until cancelled, with the automatic full pass off; as it was, after."""
        thresholds = gc.get_threshold()
        gc.set_threshold(thresholds[0], thresholds[1], _OUT_OF_REACH)
        try:
            while True:
                await asyncio.sleep(TICK)
                self.tick()
        finally:
            gc.set_threshold(*thresholds)
