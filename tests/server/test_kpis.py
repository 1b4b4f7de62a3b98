"""KPI tiles against hand-counted figures (CONSOLE.md §3), pushed live and on request."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from console.protocol.messages import (
    Arrive,
    BuyerList,
    BuyerTile,
    Entry,
    FilterBuyers,
    GetKpis,
    GetTeam,
    Kpis,
    KpisUpdated,
    OrderState,
    OrderUpdate,
    Team,
)

from .helpers import Client, open_store, run, running_server, seed_accounts, store_args, write_policy
from .test_reception import buyer, online


def yesterday_noon() -> float:
    zone = ZoneInfo("Asia/Shanghai")
    now = datetime.fromtimestamp(time.time(), zone)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return (midnight - timedelta(hours=12)).timestamp()


def seed_yesterday(folder: Path) -> None:
    """A plausible yesterday for a1: 3 ratings (5, 4, 2) and 3 waits (60 s, 200 s, unanswered)."""
    data = folder / "data"
    seed_accounts(data, write_policy(folder))
    noon = yesterday_noon()
    store = open_store(data)
    try:
        for name in ("y1", "y2", "y3"):
            store.execute("INSERT INTO buyers (id, name, kind, created_at) VALUES (?, ?, 'consumer', ?)", (name, name, noon))
        for i, score in enumerate((5, 4, 2)):
            store.execute("INSERT INTO ratings (buyer, agent, score, at) VALUES (?, 'a1', ?, ?)", (f"y{i + 1}", score, noon + i))
        for buyer_id, answered in (("y1", 60.0), ("y2", 200.0), ("y3", None)):
            store.execute(
                "INSERT INTO waits (agent, buyer, started, answered) VALUES ('a1', ?, ?, ?)",
                (buyer_id, noon, None if answered is None else noon + answered),
            )
        store.flush()
    finally:
        store.close()


def test_tiles_match_hand_counts(tmp_path: Path) -> None:
    seed_yesterday(tmp_path)

    async def scenario() -> None:
        async with running_server(tmp_path) as server:
            a1 = await online(server, "a1")
            empty = await a1.request(GetKpis())
            assert isinstance(empty, Kpis)
            assert empty.kpis.received_today is None and empty.kpis.conversion is None  # "-": no reception yet
            assert empty.kpis.satisfaction_yesterday == 2 / 3
            assert empty.kpis.response_3min_yesterday == 1 / 3
            assert empty.kpis.avg_response_yesterday == 130.0

            buyers = {}
            for name in ("b1", "b2", "b3"):
                buyers[name] = await buyer(server, name)
                await buyers[name].request(Arrive(entry=Entry.PRODUCT_DETAIL))
            await buyers["b1"].request(OrderUpdate(order="o1", state=OrderState.UNPAID))
            await buyers["b2"].request(OrderUpdate(order="o2", state=OrderState.UNPAID))
            await buyers["b2"].request(OrderUpdate(order="o2", state=OrderState.PAID))
            # b3 orders nothing; a re-arrive is not a new reception
            await buyers["b3"].request(Arrive(entry=Entry.PRODUCT_DETAIL))

            pushed = await a1.expect(KpisUpdated, lambda e: e.kpis.paid == 1 and e.kpis.not_paid == 1)
            tiles = pushed.kpis
            assert tiles.received_today == 3
            assert tiles.not_ordered == 1 and tiles.not_paid == 1 and tiles.paid == 1
            assert tiles.conversion == 1 / 3
            assert tiles.satisfaction_yesterday == 2 / 3

            asked = await a1.request(GetKpis())
            assert asked.kpis == tiles
            not_ordered = await a1.request(FilterBuyers(tile=BuyerTile.NOT_ORDERED))
            not_paid = await a1.request(FilterBuyers(tile=BuyerTile.NOT_PAID))
            assert isinstance(not_ordered, BuyerList) and not_ordered.buyers == ["b3"]
            assert not_paid.buyers == ["b1"]

            sup = await Client.agent(server)
            await sup.login("sup")
            team = await sup.request(GetTeam())
            assert isinstance(team, Team)
            assert team.team.kpis.received_today == 3 and team.team.kpis.paid == 1
            row = next(r for r in team.team.agents if r.id == "a1")
            assert row.load == 3 and row.status == "online" and row.kpis.received_today == 3

    run(scenario())


def test_staff_and_group_chats_are_not_counted(tmp_path: Path) -> None:
    """CONSOLE.md §1/§3: 今日接待, 未下单 and 未付款 count consumers and merchants only, live and
    after a restart (the rebuild from the stored receptions)."""
    from console.cli import main as fenliu
    from console.protocol.messages import Say

    data = tmp_path / "data"
    assert fenliu(["accounts", "buyer", "xiaoer-01", "--kind", "staff", "--data", str(data), *store_args(data)]) == 0
    assert fenliu(["accounts", "buyer", "grp-01", "--kind", "group", "--data", str(data), *store_args(data)]) == 0
    assert fenliu(["accounts", "buyer", "shop-m", "--kind", "merchant", "--data", str(data), *store_args(data)]) == 0

    async def live() -> None:
        async with running_server(tmp_path) as server:
            a1 = await online(server, "a1")
            for name in ("xiaoer-01", "grp-01", "b1", "shop-m"):
                client = await buyer(server, name)
                await client.request(Arrive(entry=Entry.PRODUCT_DETAIL))
                await client.request(Say(text="你好", client_id="m1"))
            asked = await a1.request(GetKpis())
            assert asked.kpis.received_today == 2 and asked.kpis.not_ordered == 2
            listed = await a1.request(FilterBuyers(tile=BuyerTile.NOT_ORDERED))
            assert sorted(listed.buyers) == ["b1", "shop-m"]

    async def restarted() -> None:
        async with running_server(tmp_path) as server:
            a1 = await online(server, "a1")
            asked = await a1.request(GetKpis())
            assert asked.kpis.received_today == 2 and asked.kpis.not_ordered == 2

    run(live())
    run(restarted())
