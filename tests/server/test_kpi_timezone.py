"""A policy with another timezone moves the KPI tiles' day and midnight, applied live or given
at a start (the book was built with the timezone it started with and kept it)."""

from __future__ import annotations

from pathlib import Path

from console.protocol.messages import ApplyPolicy, Ok
from console.server.app import Server
from console.server.kpis import day_of

from .helpers import POLICY, Client, run, running_server

ELSEWHERE = POLICY.replace('timezone = "Asia/Shanghai"', 'timezone = "America/Los_Angeles"')


def _book_zone(server: Server) -> tuple[str, float, float]:
    shop = server.shop
    assert shop is not None and shop.kpis is not None
    return shop.kpis.timezone, shop.kpis.today.start, shop.kpis.today.end


def test_a_policy_applied_live_moves_the_kpi_day(tmp_path: Path) -> None:
    assert ELSEWHERE != POLICY

    async def scenario() -> None:
        async with running_server(tmp_path) as server:
            assert server.shop is not None
            zone, start, _ = _book_zone(server)
            assert zone == "Asia/Shanghai"
            sup = await Client.agent(server)
            await sup.login("sup")
            assert isinstance(await sup.request(ApplyPolicy(toml=ELSEWHERE)), Ok)
            now = server.shop.driver.now()
            expected = day_of(now, "America/Los_Angeles")
            assert _book_zone(server) == ("America/Los_Angeles", expected.start, expected.end)
            assert expected.start != start  # 16 hours apart: the day really moved
            await sup.close()

    run(scenario())


def test_a_start_with_another_timezone_builds_the_kpi_day_in_it(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path):
            pass
        async with running_server(tmp_path, policy=ELSEWHERE, seed=False) as server:
            assert server.shop is not None
            expected = day_of(server.shop.driver.now(), "America/Los_Angeles")
            assert _book_zone(server) == ("America/Los_Angeles", expected.start, expected.end)

    run(scenario())
