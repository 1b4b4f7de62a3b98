"""The day in pictures for the room (issue 14): computed off the loop, at most every few seconds.

``get_day_charts`` reads a whole day's decisions and waits (``console.server.report.read_day``)
and runs ``console.reception.day_charts`` over them: tens of milliseconds on a busy day, which
the event loop must not wait for. So the reading and the arithmetic run in a worker thread on a
read-only connection of their own (WAL: it never blocks the server's writer; it sees what is
committed), and the answer is kept for ``REFRESH_S`` seconds: however many supervisors look,
a day's series are computed at most once per interval, and concurrent asks share one run.
"""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

from console.reception.day_charts import DayCharts, day_charts
from console.routing.policy import Policy
from console.server.kpis import local_day
from console.server.report import open_read_only, read_day

REFRESH_S = 5.0
"""Seconds an answer is kept: the room's pictures are at most this old."""


def compute(data_dir: Path, day: date, policy: Policy, now: float) -> DayCharts:
    """One day's series from the folder's database (any thread: its own connection)."""
    db = open_read_only(data_dir)
    try:
        records = read_day(db, local_day(day, policy.timezone), policy)
    finally:
        db.close()
    return day_charts(records, now)


class DayChartsCache:
    def __init__(self, data_dir: Path, refresh_s: float = REFRESH_S) -> None:
        self.data_dir = data_dir
        self.refresh_s = refresh_s
        self._kept: dict[date, tuple[float, asyncio.Future[DayCharts]]] = {}

    async def get(self, day: date, policy: Policy, now: float) -> DayCharts:
        kept = self._kept.get(day)
        if kept is not None and now - kept[0] < self.refresh_s and not (kept[1].done() and kept[1].exception()):
            return await asyncio.shield(kept[1])
        future: asyncio.Future[DayCharts] = asyncio.ensure_future(
            asyncio.to_thread(compute, self.data_dir, day, policy, now))
        self._kept = {d: k for d, k in self._kept.items() if now - k[0] < self.refresh_s}  # old days go
        self._kept[day] = (now, future)
        return await asyncio.shield(future)
