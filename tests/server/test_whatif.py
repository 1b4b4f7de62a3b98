"""What-if (issue 14): a day a real server recorded, replayed as it was and under another policy."""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
import threading
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from console.cli import main
from console.protocol.messages import (
    Arrive,
    BuyerHello,
    CloseSession,
    Entry,
    Ok,
    Reply,
    ReplyAck,
    Routed,
    Say,
    SayAck,
    SessionClosed,
    SetStatus,
    StatusChanged,
)
from console.routing.events import Status
from console.routing.policy import load_policy_toml
from console.server.pgstore import PgStore
from console.server.repository import pg
from console.server.store import Store
from console.server.whatif import load_day, run_in_process, whatif_json
from console.sim import whatif
from console.sim.whatif import Cancelled, WhatIfError, compare

from .helpers import AGENTS, Client, open_store, pg_store_url, run, running_server, where_of

ZONE = ZoneInfo("Asia/Shanghai")

POLICY = """
preset = "taobao"
timezone = "Asia/Shanghai"
seed = 3
disconnect_grace = "1h"

[session]
close_after = "3s"

[queue]
mode = "shop"
repeat_window = 0

[[groups]]
id = "presale"
entries = ["product_detail"]
cap = 2

""" + AGENTS

TIGHTER = POLICY.replace("cap = 2", "cap = 1")


@pytest.fixture(scope="module")  # for the tests marked sqlite_only
def recorded_day(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, date]:
    """Two agents (cap 2), six buyers: four routed, two queued; a reply that idles out (a timer,
    an ``advance`` row), an agent's close, a dequeue each, a status change, a late arrival, and
    last another reply that idles out (the day's last input is a timer)."""
    folder = tmp_path_factory.mktemp("whatif")

    async def scenario() -> None:
        async with running_server(folder, policy=POLICY) as server:
            agents = {}
            for name in ("a1", "a2"):
                client = await Client.agent(server)
                await client.login(name)
                assert isinstance(await client.request(SetStatus(status=Status.ONLINE)), Ok)
                await client.expect(StatusChanged, lambda e: e.status is Status.ONLINE)
                agents[name] = client
            names = {"小美": "a1", "阿杰": "a2"}
            buyers, holders = {}, {}
            for i in range(1, 7):
                b = await Client.buyer(server)
                assert isinstance(await b.request(BuyerHello(buyer=f"b{i}", name=f"买家{i}")), Ok)
                routed = await b.request(Arrive(entry=Entry.PRODUCT_DETAIL, product="p1"))
                assert isinstance(routed, Routed)
                # the buyer writes at once: a session where the buyer wrote last never idles out
                assert isinstance(await b.request(Say(text="在吗", client_id="m0")), SayAck)
                buyers[f"b{i}"] = b
                if routed.name:
                    holders[f"b{i}"] = names[routed.name]
            assert len(holders) == 4  # two queued
            first, second = sorted(holders)[:2]
            replier = agents[holders[first]]
            assert isinstance(await replier.request(Reply(conversation=first, text="有的亲", client_id="r1")), ReplyAck)
            await buyers[first].expect(SessionClosed)  # the idle close (R9.2), a logged timer
            closer = agents[holders[second]]
            assert isinstance(await closer.request(CloseSession(conversation=second)), Ok)
            await buyers[second].expect(SessionClosed)
            assert isinstance(await agents["a2"].request(SetStatus(status=Status.SUSPENDED)), Ok)
            late = await Client.buyer(server)
            assert isinstance(await late.request(BuyerHello(buyer="b7", name="买家7")), Ok)
            assert isinstance(await late.request(Arrive(entry=Entry.PRODUCT_DETAIL, product="p1")), Routed)

            # the day ends on a timer: the last logged input is an ``advance`` row
            third = sorted(holders)[2]
            replier = agents[holders[third]]
            assert isinstance(await replier.request(Reply(conversation=third, text="好的", client_id="r2")), ReplyAck)
            await buyers[third].expect(SessionClosed)
            for client in [*agents.values(), *buyers.values(), late]:
                await client.close()

    run(scenario())
    db = sqlite3.connect(folder / "data" / "fenliu.db")
    first_at = db.execute("SELECT MIN(at) FROM decisions").fetchone()[0]
    db.close()
    return folder / "data", datetime.fromtimestamp(first_at, ZONE).date()


@pytest.mark.sqlite_only  # the recorded day's SQLite file, copied and changed by hand
def test_the_baseline_reproduces_the_recorded_decisions(recorded_day: tuple[Path, date]) -> None:
    data, day = recorded_day
    loaded = load_day(data, day)
    assert loaded.recorded is not None and len(loaded.recorded) >= 10
    assert loaded.rows[-1].kind == "advance" and sum(r.kind == "advance" for r in loaded.rows) == 2
    result = compare(loaded, load_policy_toml(POLICY))
    assert result.mismatch is None
    assert [whatif.recorded_of(d) for d in result.baseline.decisions] == loaded.recorded
    # the same policy tried: the what-if fires its own timers and gives the same figures
    assert result.whatif_figures.as_json()["agents"] == result.baseline_figures.as_json()["agents"]


@pytest.mark.sqlite_only  # the recorded day's SQLite file, copied and changed by hand
def test_a_lower_cap_shows_in_the_comparison(recorded_day: tuple[Path, date], tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    data, day = recorded_day
    policy = tmp_path / "tighter.toml"
    policy.write_text(TIGHTER, encoding="utf-8")
    assert main(["replay", "--from-data", str(data), "--day", day.isoformat(), "--policy", str(policy),
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["baseline_matches_record"] is True
    pool = {p["pool"]: p for p in out["pools"]}["queue:presale"]
    assert pool["baseline"]["queued"] == 3 and pool["baseline"]["peak"] == 2  # b5, b6; b7 later
    assert pool["whatif"]["queued"] > pool["baseline"]["queued"]
    assert pool["whatif"]["peak"] > pool["baseline"]["peak"]
    assert out["reasons"]["whatif"]["queued"] > out["reasons"]["baseline"]["queued"]
    agents = {a["id"]: a for a in out["agents"]}
    assert sum(a["whatif"]["received"] for a in agents.values()) <= sum(a["baseline"]["received"]
                                                                         for a in agents.values())
    # and the table, by default
    assert main(["replay", "--from-data", str(data), "--day", day.isoformat(), "--policy", str(policy)]) == 0
    table = capsys.readouterr().out
    assert "小美 (a1)" in table and "queue:presale" in table and "baseline reproduces the record" in table


@pytest.mark.sqlite_only  # the recorded day's SQLite file, copied and changed by hand
def test_cancel_stops_the_replay(recorded_day: tuple[Path, date], monkeypatch: pytest.MonkeyPatch) -> None:
    data, day = recorded_day
    monkeypatch.setattr(whatif, "PROGRESS_EVERY", 1)
    seen: list[float] = []
    stop = threading.Event()

    def progress(fraction: float) -> None:
        seen.append(fraction)
        if len(seen) == 3:
            stop.set()

    with pytest.raises(Cancelled):
        whatif_json(data, day, TIGHTER, progress=progress, cancelled=stop.is_set)
    assert len(seen) == 3 and seen[-1] < 1.0
    finished: list[float] = []
    whatif_json(data, day, TIGHTER, progress=finished.append)
    assert finished[-1] == 1.0 and finished == sorted(finished)


@pytest.mark.sqlite_only  # the recorded day's SQLite file, copied and changed by hand
def test_in_a_process_of_its_own_with_progress_and_cancel(recorded_day: tuple[Path, date]) -> None:
    data, day = recorded_day

    async def both() -> None:
        fractions: list[float] = []
        result = await run_in_process(data, day, TIGHTER, progress=fractions.append)
        assert result["baseline_matches_record"] is True and fractions[-1] == 1.0
        cancel = asyncio.Event()
        cancel.set()
        with pytest.raises(Cancelled):
            await run_in_process(data, day, TIGHTER, cancel=cancel)
        with pytest.raises(WhatIfError, match="invalid policy"):
            await run_in_process(data, day, "preset = 'nope'")

    run(both())


@pytest.mark.sqlite_only  # the recorded day's SQLite file, copied and changed by hand
def test_bad_inputs_exit_2(recorded_day: tuple[Path, date], tmp_path: Path,
                           capsys: pytest.CaptureFixture[str]) -> None:
    data, day = recorded_day
    good = tmp_path / "good.toml"
    good.write_text(TIGHTER, encoding="utf-8")
    bad = tmp_path / "bad.toml"
    bad.write_text("preset = 'taobao'\n[[agents]]\nid = 'a1'\ngroups = ['nowhere']\n", encoding="utf-8")
    cases = [
        (["--from-data", str(data), "--day", (day - timedelta(days=3)).isoformat(), "--policy", str(good)],
         "no traffic was recorded"),
        (["--from-data", str(data), "--day", "2026-13-01", "--policy", str(good)], "not a date"),
        (["--from-data", str(data), "--day", day.isoformat(), "--policy", str(bad)], "invalid policy"),
        (["--from-data", str(data), "--day", day.isoformat(), "--policy", str(tmp_path / "missing.toml")],
         "cannot read"),
        (["--from-data", str(tmp_path), "--day", day.isoformat(), "--policy", str(good)], "no database"),
        (["--from-data", str(data), "--policy", str(good)], "--day"),
    ]
    for args, said in cases:
        assert main(["replay", *args]) == 2, args
        assert said in capsys.readouterr().err, args
    not_a_db = tmp_path / "junk"
    not_a_db.mkdir()
    (not_a_db / "fenliu.db").write_bytes(b"this is no database" * 100)
    assert main(["replay", "--from-data", str(not_a_db), "--day", day.isoformat(), "--policy", str(good)]) == 2
    assert "cannot read" in capsys.readouterr().err


@pytest.mark.sqlite_only  # the recorded day's SQLite file, copied and changed by hand
def test_a_pruned_day_is_said_so(recorded_day: tuple[Path, date], tmp_path: Path) -> None:
    data, day = recorded_day
    copy = tmp_path / "data"
    copy.mkdir()
    source = sqlite3.connect(data / "fenliu.db")
    target = sqlite3.connect(copy / "fenliu.db")
    source.backup(target)
    source.close()
    last = target.execute("SELECT MAX(seq) FROM engine_log").fetchone()[0]
    target.execute("DELETE FROM engine_log WHERE seq <= ? AND kind != 'policy'", (last - 3,))
    target.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('engine_log_pruned', ?)", (str(last - 3),))
    target.commit()
    target.close()
    with pytest.raises(WhatIfError, match="not fully in the engine log"):
        load_day(copy, day)


class _ShiftedClock:
    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


def test_a_day_after_a_pruned_log_starts_from_a_snapshot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Day 1 leaves buyers queued and held; a snapshot; the next day (the clock moved a day) closes
    and adds some. With the log before the snapshot pruned, day 2 is rebuilt from the snapshot and
    its baseline equals the record; day 1 is said to be no longer fully in the log."""
    clock = _ShiftedClock()

    async def scenario() -> None:
        async with running_server(tmp_path, policy=POLICY, clock=clock) as server:
            agents = {}
            for name in ("a1", "a2"):
                client = await Client.agent(server)
                await client.login(name)
                assert isinstance(await client.request(SetStatus(status=Status.ONLINE)), Ok)
                agents[name] = client
            names = {"小美": "a1", "阿杰": "a2"}
            holders, buyers = {}, {}
            for i in range(1, 7):
                b = await Client.buyer(server)
                assert isinstance(await b.request(BuyerHello(buyer=f"b{i}", name=f"买家{i}")), Ok)
                routed = await b.request(Arrive(entry=Entry.PRODUCT_DETAIL, product="p1"))
                assert isinstance(await b.request(Say(text="在吗", client_id="m0")), SayAck)
                buyers[f"b{i}"] = b
                if routed.name:
                    holders[f"b{i}"] = names[routed.name]
                if i == 4:  # as the periodic one would (written here, not forked); day 1 goes on
                    assert server.shop is not None
                    server.shop.driver.snapshot()
            clock.offset = 86400.0  # the next day
            first, second = sorted(holders)[:2]
            assert isinstance(await agents[holders[first]].request(CloseSession(conversation=first)), Ok)
            await buyers[first].expect(SessionClosed)
            b7 = await Client.buyer(server)
            assert isinstance(await b7.request(BuyerHello(buyer="b7", name="买家7")), Ok)
            assert isinstance(await b7.request(Arrive(entry=Entry.PRODUCT_DETAIL, product="p1")), Routed)
            replier = agents[holders[second]]
            assert isinstance(await replier.request(Reply(conversation=second, text="好的", client_id="r1")), ReplyAck)
            await buyers[second].expect(SessionClosed)  # idles out: a timer, the day's last input
            for client in [*agents.values(), *buyers.values(), b7]:
                await client.close()

    run(scenario())
    data = where_of(tmp_path / "data")  # the SQLite folder, or the shop on PostgreSQL (issue 15)
    on_pg = pg_store_url() is not None  # PostgreSQL: the shop is pruned in place, its snapshots are rows
    store = open_store(tmp_path / "data")
    first_at = store.one("SELECT MIN(at) FROM decisions")[0]
    store.close()
    day1 = datetime.fromtimestamp(first_at, ZONE).date()
    day2 = day1 + timedelta(days=1)
    before = load_day(data, day2)  # the whole log: from its beginning
    assert before.recorded and compare(before, load_policy_toml(TIGHTER)).mismatch is None
    # progress covers rebuilding the start state too, and cancel works there
    monkeypatch.setattr(whatif, "PROGRESS_EVERY", 1)
    share = before.prefix_inputs / (before.prefix_inputs + 2 * len(before.rows))
    assert before.prefix_inputs > 10
    fractions: list[float] = []
    whatif_json(data, day2, TIGHTER, progress=fractions.append)
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert 0 < fractions[0] < share and sum(f < share for f in fractions) >= before.prefix_inputs - 1
    fractions.clear()
    with pytest.raises(Cancelled):  # asked to stop while the start state is being rebuilt
        whatif_json(data, day2, TIGHTER, progress=fractions.append, cancelled=lambda: len(fractions) >= 3)
    assert len(fractions) == 3 and fractions[-1] < share
    monkeypatch.undo()

    copy = data if on_pg else tmp_path / "pruned"
    if not on_pg:
        shutil.copytree(data, copy)
    target = PgStore(data.url, shop=data.shop, local_dir=tmp_path) if on_pg else Store.open(copy)
    kept = pg.snapshot_ids(target) if on_pg else [int(f.stem.split("-")[1]) for f in (copy / "snapshots").glob("*")]
    taken = min(kept)  # the day-1 one (the clean stop wrote a later one)
    target.execute("DELETE FROM engine_log WHERE seq < ? AND kind != 'policy'", (taken,))
    target.set_meta("engine_log_pruned", str(taken - 1))
    target.flush()
    loaded = load_day(copy, day2)  # the snapshot, then the rest of day 1's log (b5, b6), then day 2
    assert [r.seq for r in loaded.rows] == [r.seq for r in before.rows]
    result = compare(loaded, load_policy_toml(TIGHTER))
    assert result.mismatch is None and result.recorded == len(before.recorded or [])
    with pytest.raises(WhatIfError, match="not fully in the engine log"):
        load_day(copy, day1)
    if on_pg:
        target.execute("DELETE FROM snapshots")
        target.flush()
    else:
        for file in (copy / "snapshots").glob("engine-*.pickle"):
            file.unlink()
    target.close()
    with pytest.raises(WhatIfError, match="cannot be rebuilt"):
        load_day(copy, day2)


@pytest.mark.sqlite_only  # the recorded day's SQLite file, copied and changed by hand
def test_today_beside_a_live_server(tmp_path: Path) -> None:
    """Read while the server goes on taking buyers: one read snapshot, the baseline still equals
    the record."""

    async def scenario() -> None:
        async with running_server(tmp_path, policy=POLICY) as server:
            a1 = await Client.agent(server)
            await a1.login("a1")
            assert isinstance(await a1.request(SetStatus(status=Status.ONLINE)), Ok)
            day = datetime.fromtimestamp(time.time(), ZONE).date()
            clients = []

            async def buyer(i: int) -> None:
                b = await Client.buyer(server)
                clients.append(b)
                assert isinstance(await b.request(BuyerHello(buyer=f"b{i}", name=f"买家{i}")), Ok)
                assert isinstance(await b.request(Arrive(entry=Entry.PRODUCT_DETAIL, product="p1")), Routed)

            for i in range(5):
                await buyer(i)
            replay = asyncio.create_task(asyncio.to_thread(whatif_json, tmp_path / "data", day, TIGHTER))
            i = 5
            while not replay.done():
                await buyer(i)
                i += 1
            result = await replay
            assert result["baseline_matches_record"] is True, result["mismatch"]
            assert i > 5 and result["recorded_decisions"] >= 5
            for client in [a1, *clients]:
                await client.close()

    run(scenario())
