"""The buyer traffic simulator: a seeded plan, and a short real run against a real server.

The run uses the real ``fenliu sim`` command in a subprocess against a server started in this
process on port 0; its exit code and report, and the server's own database, say what happened.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest

from console.protocol.messages import Entry
from console.sim.backfill import plan_yesterday
from console.sim.traffic import Action, Persona, TrafficConfig, plan_traffic, require_loopback
from tests.client.support import prepare, run, serving

REPO = Path(__file__).resolve().parents[2]


def test_the_plan_is_a_function_of_the_seed() -> None:
    config = TrafficConfig(server="ws://127.0.0.1:1", rate=600, duration=120, seed=11)
    first, again = plan_traffic(config), plan_traffic(config)
    assert first == again
    assert first != plan_traffic(TrafficConfig(server="ws://127.0.0.1:1", rate=600, duration=120, seed=12))
    assert 0 < len(first) <= config.max_visits
    assert all(0 <= v.start < config.duration for v in first)
    assert [v.start for v in first] == sorted(v.start for v in first)
    assert {v.entry for v in first} >= {Entry.PRODUCT_DETAIL, Entry.ORDER_DETAIL, Entry.DM, Entry.LIVE,
                                        Entry.AFTER_SALE}
    personas = {v.persona for v in first}
    assert {Persona.CONSUMER, Persona.STAFF, Persona.GROUP} <= personas
    assert any(v.returning for v in first)
    steps = [s for v in first for s in v.steps]
    assert {Action.SAY, Action.ORDER, Action.PAY, Action.RATE, Action.PICTURE} <= {s.action for s in steps}
    pictures = [s for s in steps if s.action is Action.PICTURE]  # issue 13: some buyers send photos
    assert 0.05 < len(pictures) / len(first) < 0.4
    assert all(1 <= s.score <= 5 for s in steps if s.action is Action.RATE)
    assert all(s.items and s.amount for s in steps if s.action is Action.ORDER)  # issue 12: the panel shows them
    # staff and group visits use only the ids the operator declares
    assert {v.buyer for v in first if v.persona is Persona.STAFF} <= set(config.staff_ids)
    assert {v.buyer for v in first if v.persona is Persona.GROUP} <= set(config.group_ids)


def test_bounds_and_loopback_are_enforced() -> None:
    assert len(plan_traffic(TrafficConfig(server="ws://localhost:1", rate=60_000, duration=600, max_visits=7))) == 7
    for url in ("ws://example.com:8765", "ws://10.0.0.2:8765", "http://127.0.0.1:8765"):
        with pytest.raises(ValueError):
            require_loopback(url)
    require_loopback("ws://[::1]:8765")
    with pytest.raises(ValueError):
        TrafficConfig(server="ws://127.0.0.1:1", duration=0)


def test_yesterday_is_plausible_and_seeded() -> None:
    day = plan_yesterday(["a1", "a2"], 1_000_000.0, 1_086_400.0, seed=5)
    assert day == plan_yesterday(["a1", "a2"], 1_000_000.0, 1_086_400.0, seed=5)
    assert {agent for agent, _, _ in day.receptions} == {"a1", "a2"}
    assert all(1_000_000.0 <= m.at < 1_086_400.0 + 7200 for m in day.messages)
    answered = [w.answered - w.started for w in day.waits if w.answered is not None]
    assert answered and all(a >= 3.0 for a in answered)
    assert any(a > 180 for a in answered) and any(a < 180 for a in answered)  # both sides of the 3-minute line
    assert {r.score for r in day.ratings} <= {1, 2, 3, 4, 5} and day.ratings


def test_a_short_run_against_a_real_server_arrives_writes_and_exits_0(tmp_path: Path) -> None:
    async def main() -> None:
        config = prepare(tmp_path)
        async with serving(config) as server:
            env = {**os.environ, "FENLIU_SIM_PASSWORD": "client-test-pw"}
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "console", "sim", "--server", server.url, "--rate", "240", "--duration", "3",
                "--seed", "4", "--json", "--agents", "a1", "--data", str(config.data_dir),
                "--policy", str(config.policy_file),
                cwd=REPO, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            )
            out, err = await asyncio.wait_for(proc.communicate(), 45)
            assert proc.returncode == 0, err.decode()
            report = json.loads(out.decode().strip().splitlines()[-1])
            assert report["arrivals"] > 0 and report["messages"] > 0
            assert report["errors"] == {}
            assert server.store is not None
            stored = server.store.one("SELECT COUNT(*) AS n FROM messages WHERE author = 'buyer'")
            assert stored is not None and stored["n"] == report["messages"]
            images = server.store.one("SELECT COUNT(*) AS n FROM messages WHERE kind = 'image'")
            assert images is not None and images["n"] == report["pictures"]
            kinds = {str(r["id"]): str(r["kind"]) for r in server.store.all("SELECT id, kind FROM buyers")}
            assert kinds["xiaoer-001"] == "staff" and kinds["group-fans-01"] == "group"  # declared, not named
            assert all(kind == "consumer" for buyer, kind in kinds.items() if buyer.startswith("s4-"))

    run(main())


def test_simulated_orders_carry_items_and_amounts() -> None:
    """Issue 12: the demo's buyers send what an order holds, for the agent's buyer panel."""
    from console.sim.traffic import order_lines

    items, amount = order_lines("o1-7-0042", "p1001")
    assert items[0].title == "碎花连衣裙 M码" and items[0].price == 15900
    assert amount == sum(i.quantity * (i.price or 0) for i in items) > 0
    assert order_lines("o1-7-0042", "p1001") == (items, amount)  # drawn from the order id alone


def test_simulated_pictures_are_small_images_the_server_takes() -> None:
    """Issue 13: the demo's buyers send pictures drawn at run time; the server's check takes them."""
    from console.server.images import clean
    from console.sim.pictures import picture

    for seed in ("a", "b", "c", "d"):
        data = picture(seed)
        assert data == picture(seed) and len(data) < 60_000
        assert clean(data).ref.mime == "image/jpeg"
def test_buyers_arrive_from_the_demo_catalogue_and_some_share_a_product_card() -> None:
    """Issue 13: the demo's buyers come from products of resources/catalog.csv; with sharing on
    (the demo), some share that product as a card just before asking about it; without it, the
    same seed plans the same visits as before."""
    from console.sim.phrases import DEMO_CATALOG

    config = TrafficConfig(server="ws://127.0.0.1:1", rate=600, duration=300, seed=3, max_visits=400)
    sharing = TrafficConfig(server="ws://127.0.0.1:1", rate=600, duration=300, seed=3, max_visits=400,
                            share_products=True)
    plain, shared = plan_traffic(config), plan_traffic(sharing)
    catalogue = {p.id for p in DEMO_CATALOG}
    products = {v.product for v in plain if v.product is not None}
    assert products <= catalogue and len(products) > 10  # not only the policy's four
    assert not any(s.action is Action.SHARE for v in plain for s in v.steps)
    assert [(v.buyer, v.start, v.product) for v in plain] == [(v.buyer, v.start, v.product) for v in shared]
    with_cards = [v for v in shared if any(s.action is Action.SHARE for s in v.steps)]
    assert 0.1 < len(with_cards) / len(shared) < 0.4
    for visit in with_cards:
        [card] = [s for s in visit.steps if s.action is Action.SHARE]
        assert card.text == visit.product and visit.entry in (Entry.PRODUCT_DETAIL, Entry.DM)
        assert [s.at for s in visit.steps] == sorted(s.at for s in visit.steps)
