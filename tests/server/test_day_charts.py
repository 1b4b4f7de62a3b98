"""The day in pictures over a real server with live traffic (issue 14); supervisors only."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from console.protocol.messages import Arrive, DayChartsAnswer, Error, ErrorCode, GetDayCharts
from console.server.kpis import local_day

from .helpers import Client, run, running_server, where_of
from .test_reception import buyer, online
from .test_room import ROOM


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
    # the worker reads only the decisions and waits: the same series as from the report's full read
    from console.reception.day_charts import day_charts
    from console.server.repository.reports import open_read_only, policy_in_force, read_day, read_routing_day

    db = open_read_only(where_of(tmp_path / "data"))
    try:
        policy = policy_in_force(db)
        assert policy is not None
        span = local_day(date.fromisoformat(answer.day), policy.timezone)
        now = span.start + len(charts.arrivals) * charts.bucket_s - 1
        slim, full = read_routing_day(db, span, policy), read_day(db, span, policy)
    finally:
        db.close()
    assert not slim.messages and slim.decisions == full.decisions and slim.waits == full.waits
    assert day_charts(slim, now) == day_charts(full, now) == charts


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


def test_a_stopped_server_leaves_no_charts_worker_behind(tmp_path: Path) -> None:
    """The worker process the charts started goes with the server's stop (every shop's, issue 15).
    Planted once: with the stop reaching no shop (the one-shop attribute it looked for is gone),
    the worker outlived the server and this failed."""
    import multiprocessing

    before = {p.pid for p in multiprocessing.active_children()}
    started: list[multiprocessing.process.BaseProcess] = []

    async def scenario() -> None:
        async with running_server(tmp_path, policy=ROOM) as server:
            sup = await Client.agent(server)
            await sup.login("sup")
            assert isinstance(await sup.request(GetDayCharts()), DayChartsAnswer)
            started.extend(p for p in multiprocessing.active_children() if p.pid not in before)
            assert started  # the worker is up

    run(scenario())
    assert [p.pid for p in started if p.is_alive()] == []
