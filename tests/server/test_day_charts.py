"""The day in pictures over a real server with live traffic (issue 14); supervisors only."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.protocol.messages import Arrive, DayChartsAnswer, Error, ErrorCode, GetDayCharts

from .helpers import Client, run, running_server
from .test_reception import buyer, online
from .test_room import ROOM


@pytest.mark.sqlite_only  # the day in pictures reads the SQLite file (report.py): not on PostgreSQL yet
def test_live_arrivals_queue_and_reasons(tmp_path: Path) -> None:
    async def scenario() -> DayChartsAnswer:
        async with running_server(tmp_path, policy=ROOM) as server:
            await online(server, "a1")
            for i in (1, 2):  # presale cap 1 with a1 alone online: one held, one queued
                client = await buyer(server, f"b{i}", f"买家{i}")
                await client.request(Arrive())
            sup = await Client.agent(server)
            await sup.login("sup")
            answer = await sup.request(GetDayCharts())
            assert isinstance(answer, DayChartsAnswer), answer
            return answer

    answer = run(scenario())
    charts = answer.charts
    assert sum(charts.arrivals) == 2 and max(charts.queue) == 1
    assert len(charts.arrivals) == len(charts.queue) >= 1
    assert {a.agent: max(a.load) for a in charts.load} == {"a1": 1, "a2": 0, "sup": 0}
    assert sorted((r.reason, r.count) for r in charts.reasons) == [("group", 1), ("queued", 1)]


def test_an_agent_is_refused_the_day_in_pictures(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path, policy=ROOM) as server:
            a1 = await online(server, "a1")
            answer = await a1.request(GetDayCharts())
            assert isinstance(answer, Error) and answer.code is ErrorCode.FORBIDDEN, answer
            sup = await Client.agent(server)
            await sup.login("sup")
            bad = await sup.request(GetDayCharts(day="2026-13-01"))
            assert isinstance(bad, Error) and bad.code is ErrorCode.INVALID and bad.field == "day"

    run(scenario())
