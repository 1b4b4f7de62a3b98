"""How long the room's export (``get_report``) holds the server's event loop, on a whole shop day (issue 14).

    .venv/bin/python bench/report_hold.py --json

The day is bench/whatif.py's recorded 8-hour day (``recorded_day``, cached). The report's rows
(``console.server.room.day_report``: the day's conversations and agents, its audit log) are
computed two ways, alternated ``--rounds`` times in one process, while a ticker on the event loop
(a 1 ms sleep in a loop) records the longest time the loop could not run it:

- ``loop``: as the server does since session 11, in the room's worker process
  (``DayChartsCache.report``), awaited; what is left on the loop is taking the answer back;
- ``baseline``: on the loop, as the server did before (the same function on a connection in this
  process: a synchronous call, so the loop is held for all of it).

Both answers must be equal. One JSON line: ``{"conversations": N, "loop_hold_ms": x,
"baseline_loop_hold_ms": x, "worker_wall_ms": x}`` (medians).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from whatif import DAY, recorded_day  # noqa: E402

from console.routing.policy import Policy  # noqa: E402
from console.server.day_charts import DayChartsCache  # noqa: E402
from console.server.repository.reports import open_read_only, policy_in_force  # noqa: E402
from console.server.room import day_report  # noqa: E402


class Ticker:
    """The longest the loop went without running a 1 ms tick, since ``reset``."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        last = time.perf_counter()
        while True:
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            self.worst = max(self.worst, now - last)
            last = now

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._run())

    async def stop(self) -> float:
        await asyncio.sleep(0.01)  # one more tick after the measured work
        assert self._task is not None
        self._task.cancel()
        return self.worst


async def measure(data: Path, policy: Policy, policy_text: str, rounds: int) -> dict[str, object]:
    names = {spec.id: spec.name for spec in policy.agents}
    worker = DayChartsCache(data)
    await worker.report(None, DAY, policy_text, names)  # the worker process starts (not timed)
    holds, baseline_holds, walls = [], [], []
    conversations = 0
    db = open_read_only(data)
    try:
        for _ in range(rounds):
            ticker = Ticker()
            ticker.start()
            started = time.perf_counter()
            got = await worker.report(None, DAY, policy_text, names)
            walls.append(time.perf_counter() - started)
            holds.append(await ticker.stop())
            ticker = Ticker()
            ticker.start()
            await asyncio.sleep(0.005)  # the ticker runs before the call
            expected = day_report(db, None, DAY, policy, names)
            baseline_holds.append(await ticker.stop())
            if got != expected:
                raise SystemExit("the worker's report differs from the one computed here")
            conversations = len(got.conversations)
    finally:
        db.close()
        worker.stop()
    return {"conversations": conversations, "loop_hold_ms": round(1000 * statistics.median(holds), 1),
            "baseline_loop_hold_ms": round(1000 * statistics.median(baseline_holds), 1),
            "worker_wall_ms": round(1000 * statistics.median(walls), 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    data, _info = recorded_day()
    db = open_read_only(data)
    try:
        policy = policy_in_force(db)
        text = db.execute("SELECT body FROM engine_log WHERE kind = 'policy' ORDER BY seq DESC LIMIT 1").fetchone()[0]
    finally:
        db.close()
    assert policy is not None
    row = asyncio.run(measure(data, policy, str(text), args.rounds))
    print(json.dumps(row) if args.json else "  ".join(f"{k}={v}" for k, v in row.items()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
