"""Stalls of the event loop, logged with what the garbage collector did meanwhile (issue 9).

At an 11.11 peak a message waits whenever the loop is held: the peak's goal is a p99 of 50 ms
from a buyer's ``say`` to the agent's console, so a single hold of that length shows in it.
Session 5 found the holds by hand (ad-hoc logging, py-spy); this watch keeps looking while the
server runs. A task sleeps ``INTERVAL`` and measures how late it wakes; a wake later than
``STALL`` is logged at WARNING, with the collections that ran in that time (``gc.callbacks``:
generation and milliseconds of each pass) so a stall the collector caused is told from one the
server's own work caused. At most one line a second (``QUIET``), counting those left out.

Cost: 100 wakes a second, a few microseconds each, and a clock read around each collection.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

INTERVAL = 0.01  # seconds between two looks
STALL = 0.05  # a wake this late is a stall (the peak's p99 goal)
QUIET = 1.0  # seconds at least between two logged stalls


@dataclass(frozen=True, slots=True)
class Pass:
    """One garbage collection: its generation, when it ended and how long it took (seconds)."""

    generation: int
    ended: float
    took: float


class StallWatch:
    """Measures the loop's lateness and remembers the collector's recent passes."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._passes: deque[Pass] = deque(maxlen=64)
        self._gc_started = 0.0
        self._last_logged = float("-inf")
        self.stalls = 0  # stalls seen (tests, benchmarks)
        self.unlogged = 0  # stalls seen since the last logged one and not logged
        self.worst = 0.0  # the longest stall seen, seconds

    def on_gc(self, phase: str, info: dict[str, Any]) -> None:
        """``gc.callbacks`` entry: time each pass."""
        now = self._clock()
        if phase == "start":
            self._gc_started = now
        else:
            self._passes.append(Pass(int(info.get("generation", -1)), now, now - self._gc_started))

    def woke(self, asleep_at: float, lateness: float) -> str | None:
        """The loop woke ``lateness`` seconds late from a sleep begun at ``asleep_at``: the line
        to log, or None (not a stall, or one logged less than ``QUIET`` ago)."""
        if lateness <= STALL:
            return None
        self.stalls += 1
        self.worst = max(self.worst, lateness)
        now = self._clock()
        if now - self._last_logged < QUIET:
            self.unlogged += 1
            return None
        passes = [p for p in self._passes if p.ended >= asleep_at]
        collected = sum(p.took for p in passes)
        held = ", ".join(f"gen{p.generation} {1000 * p.took:.0f} ms" for p in passes) or "none"
        line = (f"the event loop was held {1000 * lateness:.0f} ms; garbage collection in that time: {held}"
                f" ({1000 * collected:.0f} ms); the rest ({1000 * max(0.0, lateness - collected):.0f} ms) was the"
                f" server's own work or the machine")
        if self.unlogged:
            line += f"; {self.unlogged} shorter-spaced stall(s) not logged since the last line"
        self._last_logged, self.unlogged = now, 0
        return line

    async def run(self) -> None:
        """Watch until cancelled (the collection callback is removed then)."""
        gc.callbacks.append(self.on_gc)
        try:
            while True:
                asleep_at = self._clock()
                await asyncio.sleep(INTERVAL)
                line = self.woke(asleep_at, self._clock() - asleep_at - INTERVAL)
                if line is not None:
                    log.warning("%s", line)
        finally:
            gc.callbacks.remove(self.on_gc)
