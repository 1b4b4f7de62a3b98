"""The stall watch (console/server/stalls.py): a loop held past 50 ms is logged, with the
collector's passes of that time; at most one line a second."""

from __future__ import annotations

import asyncio
import gc
import logging
import time

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
    assert watch.stalls == 1 and watch.worst == pytest.approx(0.07)


def test_at_most_one_line_a_second_and_the_rest_counted() -> None:
    clock = Clock()
    watch = StallWatch(clock=clock)
    assert watch.woke(clock.now, 0.2) is not None
    clock.now += 0.5
    assert watch.woke(clock.now, 0.2) is None
    assert watch.woke(clock.now, 0.3) is None
    clock.now += 0.6
    line = watch.woke(clock.now, 0.1)
    assert line is not None and "2 shorter-spaced stall(s) not logged" in line
    assert watch.stalls == 4 and watch.worst == pytest.approx(0.3)


def test_the_running_watch_logs_a_held_loop_and_leaves_no_callback(caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> StallWatch:
        watch = StallWatch()
        task = asyncio.ensure_future(watch.run())
        await asyncio.sleep(0.05)
        time.sleep(0.3)  # the loop held far past the 50 ms of a stall
        await asyncio.sleep(0.05)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return watch

    with caplog.at_level(logging.WARNING, logger="console.server.stalls"):
        watch = asyncio.run(scenario())
    assert watch.stalls >= 1 and any("the event loop was held" in r.getMessage() for r in caplog.records)
    assert watch.on_gc not in gc.callbacks
