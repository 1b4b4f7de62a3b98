"""Cyclic garbage is collected on the GUI thread only while the console runs (console/ui/collector.py)."""

from __future__ import annotations

import gc
import threading
from typing import Any

from console.ui.collector import MainThreadCollector, collect_if_due


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def _collections_by_thread() -> tuple[list[str], Any]:
    seen: list[str] = []

    def record(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            seen.append(threading.current_thread().name)

    gc.callbacks.append(record)
    return seen, record


def test_a_worker_thread_that_allocates_cycles_never_runs_the_collector(qapp: object, qtbot: Any) -> None:
    before = gc.isenabled()
    collector = MainThreadCollector(interval_ms=10)
    collector.start()
    seen, record = _collections_by_thread()
    try:
        worker = threading.Thread(target=lambda: [_Cycle() for _ in range(200_000)], name="worker")
        worker.start()
        worker.join()
        assert "worker" not in seen
        # ... and the GUI thread's timer does collect what piled up
        qtbot.waitUntil(lambda: threading.main_thread().name in seen, timeout=5000)
    finally:
        gc.callbacks.remove(record)
        collector.stop()
    assert gc.isenabled() == before


def test_collect_if_due_follows_the_thresholds() -> None:
    was = gc.isenabled()
    gc.disable()
    try:
        gc.collect()
        assert collect_if_due() == 0  # nothing due right after a full collection
        for _ in range(gc.get_threshold()[0] + 10):
            _Cycle()
        assert collect_if_due() > 0
    finally:
        if was:
            gc.enable()
