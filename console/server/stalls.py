"""Stalls of the event loop, logged with what the garbage collector did meanwhile (issue 9).

At an 11.11 peak a message waits whenever the loop is held: the peak's goal is a p99 of 50 ms
from a buyer's ``say`` to the agent's console, so a single hold of that length shows in it.
Session 5 found the holds by hand (ad-hoc logging, py-spy); this watch keeps looking while the
server runs. A task sleeps ``INTERVAL`` and measures how late it wakes; a wake later than
``STALL`` is logged at WARNING, with the collections that ran in that time (``gc.callbacks``:
generation and milliseconds of each pass) so a stall the collector caused is told from one the
server's own work caused. At most one line a second (``QUIET``), counting those left out.

The rest of a hold is attributed to the loop's callbacks (session 7): while the watch runs, every
``asyncio`` handle (a task's step, a transport's read, a timer) is timed, and the line says how
many ran since the watch last looked and how long they took together, and names the longest ones
(``LONG`` or more): the task's coroutine and where it stopped after that step, or the callback's
name, with the collection time inside it. One long request and a burst of many short callbacks
(throughput) are told apart that way; what no callback explains is the loop's own machinery
(polling, its timer heap) or the machine. asyncio's own ``slow_callback_duration`` does this only
in debug mode, which also records a traceback at every ``call_soon`` and checks every coroutine:
far too dear for a server at a peak.

Each line also gives the CPU time the loop's thread and the whole process used in the hold
(``time.thread_time``/``process_time``, read at each look): a hold the loop's thread did not
spend on the CPU was spent waiting, for the core (other processes: the machine) or for the GIL
(the server's other threads, e.g. the WAL syncer's copy).

Cost: 100 wakes a second, a few microseconds each, and a clock read around each collection; two
clock reads and two Python calls around each callback (about 0.2 µs; see docs/BENCHMARKS.md).
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
LONG = 0.005  # a callback this long is named in a stall's line
NAMED = 3  # the longest callbacks named in a line, at most


@dataclass(frozen=True, slots=True)
class Pass:
    """One garbage collection: its generation, when it ended and how long it took (seconds)."""

    generation: int
    ended: float
    took: float


@dataclass(frozen=True, slots=True)
class Run:
    """One callback that ran ``LONG`` or more: when it ended, how long it ran and the collections'
    share of that (seconds), and what it was."""

    ended: float
    took: float
    collected: float
    what: str


def _suspended_at(coro: Any) -> str:
    """Where a coroutine is suspended: the file and line of the innermost awaited coroutine outside
    asyncio itself (``asyncio.sleep`` says nothing), or ''."""
    where, depth = "", 0
    while coro is not None and depth < 32:
        frame = getattr(coro, "cr_frame", None) or getattr(coro, "gi_frame", None)
        if frame is None:
            break
        if "/asyncio/" not in frame.f_code.co_filename:
            where = f"{frame.f_code.co_filename.rsplit('/', 1)[-1]}:{frame.f_lineno}"
        coro, depth = getattr(coro, "cr_await", None) or getattr(coro, "gi_yieldfrom", None), depth + 1
    return where


def describe(callback: object) -> str:
    """What a handle's callback was: a task's step (its coroutine, and where it stopped after this
    step), or the callback's qualified name."""
    owner = getattr(callback, "__self__", None)
    if isinstance(owner, asyncio.Task):
        coro = owner.get_coro()
        name = getattr(coro, "__qualname__", type(coro).__name__)
        where = _suspended_at(coro)
        return f"task {name}" + (f" (then at {where})" if where else " (then done)")
    name = getattr(callback, "__qualname__", None)
    return name if isinstance(name, str) else repr(callback)[:80]


class StallWatch:
    """Measures the loop's lateness and remembers the collector's recent passes."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._passes: deque[Pass] = deque(maxlen=64)
        self._gc_started = 0.0
        self._collected = 0.0  # seconds of collection since the start
        self._runs: deque[Run] = deque(maxlen=64)
        self.callbacks = 0  # callbacks run since the watch last looked (``run`` resets it)
        self.callback_time = 0.0  # their time together, seconds
        self._last_logged = float("-inf")
        self.stalls = 0  # stalls seen (tests, benchmarks)
        self.unlogged = 0  # stalls seen since the last logged one and not logged
        self.unlogged_worst = 0.0  # the longest of those, seconds
        self.worst = 0.0  # the longest stall seen, seconds

    def on_gc(self, phase: str, info: dict[str, Any]) -> None:
        """``gc.callbacks`` entry: time each pass."""
        now = self._clock()
        if phase == "start":
            self._gc_started = now
        else:
            took = now - self._gc_started
            self._collected += took
            self._passes.append(Pass(int(info.get("generation", -1)), now, took))

    def timed(self, handle: asyncio.Handle, run: Callable[[asyncio.Handle], None]) -> None:
        """Run one loop callback (``run(handle)``), timed: counted, and remembered if long."""
        clock = self._clock
        callback = handle._callback  # type: ignore[attr-defined]  # (a handle that cancels itself drops it)
        started, collected = clock(), self._collected
        run(handle)
        ended = clock()
        took = ended - started
        self.callbacks += 1
        self.callback_time += took
        if took >= LONG:
            self._runs.append(Run(ended, took, self._collected - collected, describe(callback)))

    def woke(self, asleep_at: float, lateness: float, cpu: tuple[float, float] | None = None) -> str | None:
        """The loop woke ``lateness`` seconds late from a sleep begun at ``asleep_at``: the line
        to log, or None (not a stall, or one logged less than ``QUIET`` ago). ``cpu``: the CPU
        seconds the loop's thread and the whole process used since ``asleep_at``."""
        if lateness <= STALL:
            return None
        self.stalls += 1
        self.worst = max(self.worst, lateness)
        now = self._clock()
        if now - self._last_logged < QUIET:
            self.unlogged += 1
            self.unlogged_worst = max(self.unlogged_worst, lateness)
            return None
        passes = [p for p in self._passes if p.ended >= asleep_at]
        collected = sum(p.took for p in passes)
        if len(passes) <= 4:
            held = ", ".join(f"gen{p.generation} {1000 * p.took:.0f} ms" for p in passes) or "none"
        else:  # a long hold: one summary per generation
            held = ", ".join(
                f"gen{g} {len(of)} passes {1000 * sum(of):.0f} ms (longest {1000 * max(of):.0f})"
                for g in sorted({p.generation for p in passes})
                for of in [[p.took for p in passes if p.generation == g]])
        line = (f"the event loop was held {1000 * lateness:.0f} ms; garbage collection in that time: {held}"
                f" ({1000 * collected:.0f} ms); the rest ({1000 * max(0.0, lateness - collected):.0f} ms) was the"
                f" server's own work or the machine")
        if cpu is not None:  # own work is CPU; a hold the thread did not spend on the CPU was the machine's or the GIL's
            line += (f"; CPU meanwhile: the loop's thread {1000 * cpu[0]:.0f} ms, the whole process"
                     f" {1000 * cpu[1]:.0f} ms")
        line += f"; callbacks run meanwhile: {self.callbacks} ({1000 * self.callback_time:.0f} ms)"
        runs = sorted((r for r in self._runs if r.ended - r.took >= asleep_at), key=lambda r: r.took, reverse=True)
        if runs:
            line += ", the longest: " + ", ".join(
                f"{r.what} {1000 * r.took:.0f} ms" + (f" (collection {1000 * r.collected:.0f} ms)" if r.collected else "")
                for r in runs[:NAMED])
        if self.unlogged:
            line += (f"; {self.unlogged} shorter-spaced stall(s) not logged since the last line"
                     f" (the longest {1000 * self.unlogged_worst:.0f} ms)")
        self._last_logged, self.unlogged, self.unlogged_worst = now, 0, 0.0
        return line

    async def run(self) -> None:
        """Watch until cancelled (the collection callback and the callbacks' timing are removed then)."""
        gc.callbacks.append(self.on_gc)
        handle_class = asyncio.events.Handle  # TimerHandle inherits its ``_run``
        original = handle_class._run
        timed, watched = self.timed, asyncio.get_running_loop()

        def run_timed(handle: asyncio.Handle) -> None:
            if handle._loop is watched:  # type: ignore[attr-defined]  # (another thread's loop: not ours to time)
                timed(handle, original)
            else:
                original(handle)

        # One watch times the callbacks at a time (a process that runs several, e.g. tests, keeps
        # the first's): a second wrapper would be left installed by the first's restore.
        timing = not getattr(original, "stall_watch", False)
        if timing:
            run_timed.stall_watch = True  # type: ignore[attr-defined]
            handle_class._run = run_timed  # type: ignore[method-assign,assignment]
        try:
            while True:
                asleep_at, thread_cpu, process_cpu = self._clock(), time.thread_time(), time.process_time()
                self.callbacks, self.callback_time = 0, 0.0
                await asyncio.sleep(INTERVAL)
                line = self.woke(asleep_at, self._clock() - asleep_at - INTERVAL,
                                 (time.thread_time() - thread_cpu, time.process_time() - process_cpu))
                if line is not None:
                    log.warning("%s", line)
        finally:
            if timing:
                handle_class._run = original  # type: ignore[method-assign]
            gc.callbacks.remove(self.on_gc)
