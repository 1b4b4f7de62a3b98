"""The room's day in pictures on a whole shop day: the server's cost and the console's redraw (issue 14).

    .venv/bin/python bench/room_day.py --json

The day is bench/whatif.py's recorded 8-hour day (the demo's traffic at the demo's 40 arrivals a
minute, 09:00-17:00 of 2026-11-11; built and cached by ``recorded_day``, minutes the first time).

1. **Server**: ``console.server.day_charts.compute`` (what a ``get_day_charts`` runs in its worker
   thread: open read-only, ``read_day``, ``day_charts``) on that day, against a baseline measured
   interleaved in the same run: the same read and ``fenliu report``'s rows (``conversation_rows``
   + ``agent_rows``: what ``get_report`` runs on the loop). Median of ``ROUNDS`` each. (The server
   runs the compute in a worker process: this is the CPU it costs there, not a loop stall.)
2. **Console**: ``DayView.show_charts`` with that day's series (alternately as of 17:00 and of
   16:55, so every redraw has new data), then the repaint (the offscreen platform), ``REDRAWS``
   times, against a baseline interleaved: the room's agent table given a new team
   (``AgentTableModel.set_rows``, what every team update does) and repainted. p50/p99/max.

Last line: ``{"day_events": N, "charts_ms": x, "report_ms": x, "redraw_p99_ms": x, "team_redraw_p99_ms": x}``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from whatif import DAY, ZONE, day_events, recorded_day  # noqa: E402

from console.reception.report import agent_rows, conversation_rows  # noqa: E402
from console.server.day_charts import compute  # noqa: E402
from console.server.kpis import local_day  # noqa: E402
from console.server.repository.reports import open_read_only, policy_in_force, read_day  # noqa: E402

ROUNDS = 5
REDRAWS = 60


def _report(data: Path) -> None:
    db = open_read_only(data)
    try:
        policy = policy_in_force(db)
        assert policy is not None
        records = read_day(db, local_day(DAY, ZONE), policy)
    finally:
        db.close()
    agent_rows(records, conversation_rows(records))


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="last line: one JSON object")
    args = parser.parse_args()
    data, _info = recorded_day()
    db = open_read_only(data)
    policy = policy_in_force(db)
    db.close()
    assert policy is not None
    end_of_day = local_day(DAY, ZONE).end

    charts_ms, report_ms = [], []
    charts = None
    for _ in range(ROUNDS):  # interleaved: the charts, then the report's rows
        t0 = time.perf_counter()
        charts = compute(data, DAY, policy, end_of_day)
        charts_ms.append(1000 * (time.perf_counter() - t0))
        t0 = time.perf_counter()
        _report(data)
        report_ms.append(1000 * (time.perf_counter() - t0))
    assert charts is not None
    print(f"server: get_day_charts' compute {statistics.median(charts_ms):.0f} ms (median of {ROUNDS}; "
          f"the server runs it in a worker process), get_report's rows {statistics.median(report_ms):.0f} ms; "
          f"{sum(charts.arrivals)} arrivals, {len(charts.arrivals)} buckets, {len(charts.load)} agents")

    from PySide6.QtWidgets import QApplication

    from console.ui.day_view import DayView
    from console.ui.fake_backend import TEAM
    from console.ui.supervisor import _table
    from console.ui.team_models import AgentTableModel

    app = QApplication.instance() or QApplication([])
    view = DayView()
    view.resize(1400, 700)
    view.show()
    model = AgentTableModel(None, time.time)
    table = _table(model, None)  # type: ignore[arg-type]
    table.resize(1400, 400)
    table.show()
    app.processEvents()
    redraw, team = [], []
    earlier = compute(data, DAY, policy, end_of_day - 7 * 3600 - 300)  # 16:55 (the day ends 24:00)
    for i in range(REDRAWS):
        t0 = time.perf_counter()
        view.show_charts(DAY.isoformat(), charts if i % 2 else earlier)
        view.graphs.repaint()
        app.processEvents()
        redraw.append(1000 * (time.perf_counter() - t0))
        t0 = time.perf_counter()
        model.set_rows(TEAM.agents if i % 2 else list(reversed(TEAM.agents)))
        table.viewport().repaint()
        app.processEvents()
        team.append(1000 * (time.perf_counter() - t0))
    redraw, team = redraw[1:], team[1:]  # the first builds the plot items
    print(f"console: day view redraw p50 {statistics.median(redraw):.1f} ms, p99 {_percentile(redraw, 0.99):.1f} ms, "
          f"max {max(redraw):.1f} ms, {sum(r > 50 for r in redraw)} over 50 ms; baseline team table update p50 {statistics.median(team):.1f} ms, "
          f"p99 {_percentile(team, 0.99):.1f} ms, max {max(team):.1f} ms ({REDRAWS - 1} each, interleaved)")
    result = {"day_events": day_events(data), "charts_ms": round(statistics.median(charts_ms), 1),
              "report_ms": round(statistics.median(report_ms), 1), "redraw_p99_ms": round(_percentile(redraw, 0.99), 1),
              "team_redraw_p99_ms": round(_percentile(team, 0.99), 1)}
    if args.json:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
