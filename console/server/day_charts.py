"""The day in pictures and the day's report for the room (issue 14): computed off the loop.

``get_day_charts`` reads a whole day's decisions and waits (``console.server.repository.reports.
read_routing_day``: not the messages, ratings and orders the report reads too) and runs
``console.reception.day_charts`` over them: about half a second of CPU for a busy 8-hour day
(bench/room_day.py), which the event loop must not wait for, nor share the GIL with. So the
reading and the arithmetic run in a worker process of their own (spawned once, at a lower
priority, reused), on a read-only connection of its own (SQLite's file in WAL mode, or the shop's
schema on PostgreSQL: it never blocks the server's writer; it sees what is committed), and the answer is kept for ``REFRESH_S`` seconds: however many supervisors
look, a day's series are computed at most once per interval, and concurrent asks share one run.
The room's export (``get_report``: the day's rows per conversation and per agent, and its audit
log) is computed by the same worker, fresh each time: on the loop it held every request of the
shop 1-3 s for a busy day.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import date
from typing import Any, TypeVar

from console.protocol.messages import DayReport
from console.reception.day_charts import DayCharts, day_charts
from console.routing.policy import Policy, load_policy_toml
from console.server.kpis import local_day
from console.server.repository.reports import Where, open_read_only, read_routing_day
from console.server.room import day_report

T = TypeVar("T")

REFRESH_S = 5.0
"""Seconds an answer is kept: the room's pictures are at most this old."""
CHILD_NICE = 10
PARENT_CHECK_S = 1.0


def compute(where: Where, day: date, policy: Policy, now: float) -> DayCharts:
    """One day's series from the shop's database (any thread or process: its own connection)."""
    db = open_read_only(where)
    try:
        records = read_routing_day(db, local_day(day, policy.timezone), policy)  # not the messages: see there
    finally:
        db.close()
    return day_charts(records, now)


def _compute_in_child(where: Where, day: date, policy_text: str, now: float) -> DayCharts:
    return compute(where, day, load_policy_toml(policy_text), now)


def _report_in_child(where: Where, rid: str | None, day: date, policy_text: str,
                     agent_names: dict[str, str]) -> DayReport:
    db = open_read_only(where)
    try:
        return day_report(db, rid, day, load_policy_toml(policy_text), agent_names)
    finally:
        db.close()


def _worker_start() -> None:
    """The worker runs at a lower priority and goes when the server does, even a killed one (a
    pool worker otherwise waits on its queue for ever once its parent is gone)."""
    if hasattr(os, "nice"):
        os.nice(CHILD_NICE)  # the server's live pushes first when the cores are busy
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_S)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


class DayChartsCache:
    def __init__(self, where: Where, refresh_s: float = REFRESH_S) -> None:
        self.where = where
        self.refresh_s = refresh_s
        self._kept: dict[date, tuple[float, asyncio.Future[DayCharts]]] = {}
        self._pool: ProcessPoolExecutor | None = None

    async def get(self, day: date, policy_text: str, now: float) -> DayCharts:
        kept = self._kept.get(day)
        if kept is not None and now - kept[0] < self.refresh_s and not (kept[1].done() and kept[1].exception()):
            return await asyncio.shield(kept[1])
        future: asyncio.Future[DayCharts] = asyncio.ensure_future(
            self._run(_compute_in_child, self.where, day, policy_text, now))
        self._kept = {d: k for d, k in self._kept.items() if now - k[0] < self.refresh_s}  # old days go
        self._kept[day] = (now, future)
        return await asyncio.shield(future)

    async def report(self, rid: str | None, day: date, policy_text: str, agent_names: dict[str, str]) -> DayReport:
        """A day's report rows (the room's export), read and computed in the worker: what is
        committed (the caller waits for its own writes first). Not kept: each export is fresh."""
        return await self._run(_report_in_child, self.where, rid, day, policy_text, agent_names)

    async def _run(self, work: Callable[..., T], *args: Any) -> T:
        """``work(*args)`` in the worker process. A worker that died (killed, out of memory) leaves
        its pool broken for good: a new one is started and the work tried once more, so the room
        does not lose its pictures and export until the server restarts."""
        loop = asyncio.get_running_loop()
        pool = self._worker()
        try:
            return await loop.run_in_executor(pool, work, *args)
        except BrokenProcessPool:
            if self._pool is pool:  # not replaced meanwhile by another request's retry
                self._pool = None
                pool.shutdown(wait=False, cancel_futures=True)
            return await loop.run_in_executor(self._worker(), work, *args)

    def _worker(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=_worker_start)
        return self._pool

    def stop(self) -> None:
        """Server shutdown: the worker process goes (a computation under way is dropped)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
