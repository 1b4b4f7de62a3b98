"""The stall watch (console/server/stalls.py): a loop held past 50 ms is logged, with the
collector's passes of that time; at most one line a second."""

from __future__ import annotations

import asyncio
import gc
import logging
import re
import sys
import time
from pathlib import Path

import pytest

from console.server.stalls import STALL, StallWatch

pytestmark = pytest.mark.sqlite_only  # no store involved: once is enough


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_late_wake_is_a_stall_with_the_collections_of_its_time() -> None:
    clock = Clock()
    watch = StallWatch(clock=clock)
    watch.on_gc("start", {"generation": 1})
    clock.now += 0.004
    watch.on_gc("stop", {"generation": 1})  # before the sleep: not this stall's
    asleep = clock.now = 101.0
    clock.now += 0.01
    watch.on_gc("start", {"generation": 2})
    clock.now += 0.04
    watch.on_gc("stop", {"generation": 2})
    clock.now += 0.03
    line = watch.woke(asleep, 0.07)
    assert line is not None and "held 70 ms" in line and "gen2 40 ms" in line and "gen1" not in line
    assert "the rest (30 ms)" in line
    assert watch.woke(asleep, STALL) is None  # at the goal is not a stall
    assert "CPU meanwhile" not in line  # none given
    assert watch.stalls == 1 and watch.worst == pytest.approx(0.07)


def test_a_long_hold_sums_its_collections_by_generation() -> None:
    clock = Clock()
    watch = StallWatch(clock=clock)
    asleep = clock.now
    for generation, took in [(0, 0.001)] * 5 + [(1, 0.02), (1, 0.03)]:
        watch.on_gc("start", {"generation": generation})
        clock.now += took
        watch.on_gc("stop", {"generation": generation})
    line = watch.woke(asleep, 0.2)
    assert line is not None and "gen0 5 passes 5 ms (longest 1), gen1 2 passes 50 ms (longest 30) (55 ms)" in line


def test_at_most_one_line_a_second_and_the_rest_counted() -> None:
    clock = Clock()
    watch = StallWatch(clock=clock)
    assert watch.woke(clock.now, 0.2) is not None
    clock.now += 0.5
    assert watch.woke(clock.now, 0.2) is None
    assert watch.woke(clock.now, 0.3) is None
    clock.now += 0.6
    line = watch.woke(clock.now, 0.1)
    assert line is not None and "2 shorter-spaced stall(s) not logged since the last line (the longest 300 ms)" in line
    assert watch.stalls == 4 and watch.worst == pytest.approx(0.3)


def test_a_stall_names_its_longest_callbacks_and_counts_them_all() -> None:
    clock = Clock()
    watch = StallWatch(clock=clock)
    loop = asyncio.new_event_loop()
    try:
        def work(took: float, collected: float = 0.0) -> None:
            if collected:
                watch.on_gc("start", {"generation": 1})
                clock.now += collected
                watch.on_gc("stop", {"generation": 1})
            clock.now += took - collected

        def handle(took: float, collected: float = 0.0) -> asyncio.Handle:
            return asyncio.Handle(work, (took, collected), loop)

        def run(h: asyncio.Handle) -> None:
            h._run()  # type: ignore[attr-defined]

        watch.timed(handle(0.02), run)  # before the sleep: counted by its own turn, not named now
        asleep = clock.now
        watch.callbacks, watch.callback_time = 0, 0.0
        for _ in range(10):
            watch.timed(handle(0.001), run)  # short ones: counted, not named
        watch.timed(handle(0.06, collected=0.015), run)
        watch.timed(handle(0.008), run)
        line = watch.woke(asleep, clock.now - asleep - 0.01, (0.075, 0.09))
    finally:
        loop.close()
    assert line is not None and "callbacks run meanwhile: 12 (78 ms)" in line
    assert "the longest: test_a_stall_names_its_longest_callbacks_and_counts_them_all.<locals>.work 60 ms (collection 15 ms)" in line
    assert "the loop's thread 75 ms, the whole process 90 ms" in line
    assert line.count(".work ") == 2 and "work 20 ms" not in line and "work 1 ms" not in line


def test_the_running_watch_logs_a_held_loop_and_leaves_no_callback(caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> StallWatch:
        watch = StallWatch()
        task = asyncio.ensure_future(watch.run())
        await asyncio.sleep(0.05)
        time.sleep(0.3)  # the loop held far past the 50 ms of a stall, by this task's step (no CPU)
        await asyncio.sleep(0.05)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return watch

    handle_run = asyncio.events.Handle._run
    with caplog.at_level(logging.WARNING, logger="console.server.stalls"):
        watch = asyncio.run(scenario())
    lines = [r.getMessage() for r in caplog.records if "the event loop was held" in r.getMessage()]
    assert watch.stalls >= 1 and lines
    assert "the longest: task test_the_running_watch_logs_a_held_loop_and_leaves_no_callback.<locals>.scenario" \
        " (then at test_stalls.py:" in lines[0]
    thread_ms = int(re.search(r"CPU meanwhile: the loop's thread (\d+) ms", lines[0]).group(1))  # type: ignore[union-attr]
    assert thread_ms < 150  # asleep: most of the 300 ms hold used no CPU
    assert watch.on_gc not in gc.callbacks
    assert asyncio.events.Handle._run is handle_run  # the callbacks' timing is removed


def test_the_peak_bench_reads_the_watch_s_lines() -> None:
    """bench/peak.py counts a step's stalls from the log: the lines' format is its contract."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
    from peak import stalls_logged

    clock = Clock()
    watch = StallWatch(clock=clock)
    first = watch.woke(clock.now, 0.08)
    clock.now += 0.3
    watch.woke(clock.now, 0.4)  # not logged: counted in the next line
    clock.now += 1.0
    second = watch.woke(clock.now, 0.06)
    assert first is not None and second is not None
    log = f"INFO something else\n2026 WARNING console.server.stalls: {first}\n2026 WARNING x: {second}\n"
    assert stalls_logged(log) == (3, 400)
    assert stalls_logged("held 90 ms; 2 shorter-spaced stall(s) not logged since the last line") == (0, 0)
    assert stalls_logged("the event loop was held 90 ms; 2 shorter-spaced stall(s) not logged since the last line") == (3, 90)


def test_two_watches_at_once_time_callbacks_once_and_leave_none_installed() -> None:
    handle_run = asyncio.events.Handle._run

    async def scenario() -> None:
        first = asyncio.ensure_future(StallWatch().run())
        await asyncio.sleep(0.02)
        second = asyncio.ensure_future(StallWatch().run())
        await asyncio.sleep(0.02)
        wrapped = asyncio.events.Handle._run
        assert wrapped is not handle_run
        first.cancel()  # the first stops while the second still runs
        await asyncio.gather(first, return_exceptions=True)
        assert asyncio.events.Handle._run is handle_run
        second.cancel()
        await asyncio.gather(second, return_exceptions=True)

    asyncio.run(scenario())
    assert asyncio.events.Handle._run is handle_run
