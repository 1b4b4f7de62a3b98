"""What-if on a whole simulated day, and what it costs a running server's pushes (issue 14).

    .venv/bin/python bench/whatif.py --json

1. **The day** (cached): the demo's traffic (``plan_traffic``, the demo's 40 arrivals a minute)
   for 8 hours, 09:00-17:00 of 2026-11-11 in the shop's zone, recorded by a real ``Server`` (in
   this process, its clock simulated: ``ServerConfig.clock``) with the demo's policy
   (resources/policy.example.toml) through real websocket connections: one per buyer visit
   (hello, arrive, its messages and orders), one per agent (the six agents online, each with
   two 15-minute breaks; a buyer's message is answered by whoever holds the buyer 20 s later, a
   visit is closed by its holder 60 s after its last step). Actions are sent tick by tick: the
   clock is set to the tick (2 s), the tick's actions go concurrently (one buyer's in order).
   Timers (R9.2 idle closes) fire as the server fires them when its clock jumps. The folder is
   cached in /tmp/fenliu-whatif-cache, keyed by this generator's version and the engine's
   fingerprint, so a re-run only measures.
2. **The what-if**: ``console.server.whatif.run_in_process`` (the server's way: a spawned
   process, progress back over a pipe) on that day with the demo's policy switched to
   ``queue.mode = "shop"`` (every group queues at its caps): ``whatif_s`` is its wall time,
   spawn, folder read, both replays and the comparison included.
3. **Push p99**: bench/push.py's server (``fenliu server`` as a process, 20 agents, 200
   buyers, the message push latency measured the same way) at 200 messages/s, in windows of
   the what-if's length, interleaved: without, during a what-if run, without, during (the
   what-if process is started by this process, as the server would start it). p99 over each
   condition's windows.

Last line: ``{"day_events": N, "whatif_s": x, "push_p99_ms_during": x, "push_p99_ms_without": x}``
(``day_events``: the engine inputs logged that day). Lines before it say more (the day, the
replay's figures, each window).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import itertools
import json
import shutil
import sqlite3
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import msgspec  # noqa: E402
from websockets.asyncio.client import ClientConnection, connect  # noqa: E402

from console.protocol.codec import decode_for_agent, decode_for_buyer, encode  # noqa: E402
from console.protocol.messages import (  # noqa: E402
    Arrive,
    BuyerHello,
    CloseSession,
    Login,
    OrderState,
    OrderUpdate,
    Rate,
    Reply,
    Response,
    Say,
    SetStatus,
)
from console.routing.engine import Engine  # noqa: E402
from console.routing.events import Status  # noqa: E402
from console.routing.policy import load_policy_toml  # noqa: E402
from console.server.app import Server, ServerConfig, ensure_demo_accounts  # noqa: E402
from console.server.driver import engine_fingerprint  # noqa: E402
from console.server.limits import Limits  # noqa: E402
from console.server.store import DB_NAME, Store  # noqa: E402
from console.server.whatif import run_in_process  # noqa: E402
from console.sim.traffic import Action, TrafficConfig, Visit, plan_traffic  # noqa: E402

GENERATOR = 1
DAY = date(2026, 11, 11)
ZONE = "Asia/Shanghai"
OPEN_HOUR = 9
HOURS = 8.0
RATE = 40.0  # the demo's arrivals per minute (fenliu demo --rate)
TICK = 2.0
REPLY_AFTER = 20.0
CLOSE_AFTER = 60.0
PASSWORD = "demo"
CACHE = Path(tempfile.gettempdir()) / "fenliu-whatif-cache"
POLICY_FILE = ROOT / "resources" / "policy.example.toml"
PUSH_RATE = 200.0


class SimClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Conn:
    """A websocket with requests matched to their responses by rid; pushes are read and dropped."""

    _rids = itertools.count(1)

    def __init__(self, ws: ClientConnection, decode: Callable[[bytes | str], Any]) -> None:
        self.ws = ws
        self.decode = decode
        self.pending: dict[str, asyncio.Future[Any]] = {}
        self.ended: BaseException | None = None
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                message = self.decode(raw)
                if isinstance(message, Response) and message.rid in self.pending:
                    self.pending.pop(message.rid).set_result(message)
        except Exception as exc:  # noqa: BLE001 - the connection ended: whoever waits is told below
            self.ended = exc
        for future in self.pending.values():
            if not future.done():
                future.set_exception(ConnectionError("closed"))

    async def request(self, message: msgspec.Struct) -> Any:
        if self.ended is not None:
            raise ConnectionError(f"the connection ended: {self.ended!r}")
        rid = f"r{next(self._rids)}"
        message = msgspec.structs.replace(message, rid=rid)  # type: ignore[type-var]
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.pending[rid] = future
        await self.ws.send(encode(message).decode())  # type: ignore[arg-type]
        return await asyncio.wait_for(future, 30)

    async def close(self) -> None:
        await self.ws.close()
        self.reader.cancel()


def _start_of_day() -> float:
    return datetime(DAY.year, DAY.month, DAY.day, OPEN_HOUR, tzinfo=ZoneInfo(ZONE)).timestamp()


def _plan(start: float, agents: list[str]) -> tuple[list[tuple[float, int, str, Any]], int]:
    """Every action of the day, in time order: (time, order, kind, what)."""
    end = start + HOURS * 3600
    visits = plan_traffic(TrafficConfig(server="ws://127.0.0.1:1", rate=RATE, duration=HOURS * 3600,
                                        max_visits=1_000_000, seed=11))
    actions: list[tuple[float, int, str, Any]] = []
    order = itertools.count()
    busy_until: dict[str, float] = {}
    skipped = 0
    for visit in visits:
        at = start + visit.start
        if busy_until.get(visit.buyer, -1.0) >= at:
            skipped += 1  # a returning buyer whose previous visit is still open: one connection each
            continue
        actions.append((at, next(order), "arrive", visit))
        last = at
        for step in visit.steps:
            t = at + step.at
            if t >= end:
                break
            actions.append((t, next(order), "step", (visit, step)))
            if step.action is Action.SAY:
                actions.append((t + REPLY_AFTER, next(order), "reply", visit))
            last = t
        actions.append((last + CLOSE_AFTER, next(order), "close", visit))
        busy_until[visit.buyer] = last + CLOSE_AFTER
    for i, agent in enumerate(agents):
        actions.append((start, next(order), "status", (agent, Status.ONLINE)))
        for hour in (1.5, 4.5):
            pause = start + hour * 3600 + i * 600
            actions.append((pause, next(order), "status", (agent, Status.SUSPENDED)))
            actions.append((pause + 900, next(order), "status", (agent, Status.ONLINE)))
    actions.sort(key=lambda a: (a[0], a[1]))
    return [a for a in actions if a[0] < end], skipped


async def _record(folder: Path) -> dict[str, Any]:
    data = folder / "data"
    policy_file = folder / "policy.toml"
    shutil.copy(POLICY_FILE, policy_file)
    policy = load_policy_toml(policy_file.read_text(encoding="utf-8"))
    store = Store.open(data)
    try:
        ensure_demo_accounts(store, policy, PASSWORD)
        store.flush()
    finally:
        store.close()
    start = _start_of_day()
    clock = SimClock(start - 60)
    # hours pass in seconds here: the per-connection frame rates (real time) are raised to match
    limits = Limits(agent_rate=1e6, agent_burst=1e6, buyer_rate=1e6, buyer_burst=1e6)
    server = Server(ServerConfig(port=0, data_dir=data, policy_file=policy_file, clock=clock, synchronous="NORMAL",
                                 limits=limits))
    await server.start()
    working = [a.id for a in policy.agents if a.role.value == "agent"]
    actions, skipped = _plan(start, working)
    errors: Counter[str] = Counter()
    counts: Counter[str] = Counter()
    try:
        agents: dict[str, Conn] = {}
        for spec in policy.agents:
            conn = Conn(await connect(server.url + "/agent", max_size=None), decode_for_agent)
            await conn.request(Login(user=spec.id, password=PASSWORD))
            agents[spec.id] = conn
        buyers: dict[str, Conn] = {}
        shop = server.shop
        assert shop is not None

        def holder(buyer: str) -> str | None:
            engine: Engine | None = shop.driver.engine
            view = engine.session(buyer) if engine is not None else None
            return view.holder.removeprefix("agent:") if view and view.holder.startswith("agent:") else None

        async def check(what: str, answer: Any) -> None:
            counts[what] += 1
            if type(answer).__name__ == "Error":
                errors[f"{what}:{answer.code.value}"] += 1

        async def act(kind: str, what: Any, serial: int) -> None:
            if kind == "status":
                agent, status = what
                await check("status", await agents[agent].request(SetStatus(status=status)))
            elif kind == "arrive":
                visit: Visit = what
                conn = Conn(await connect(server.url + "/buyer", max_size=None), decode_for_buyer)
                buyers[visit.buyer] = conn
                await check("hello", await conn.request(BuyerHello(buyer=visit.buyer, name=visit.name)))
                await check("arrive", await conn.request(Arrive(entry=visit.entry, product=visit.product,
                                                                crowd=visit.crowd)))
            elif kind == "step":
                visit, step = what
                conn = buyers[visit.buyer]
                if step.action is Action.SAY:
                    await check("say", await conn.request(Say(text=step.text, client_id=f"s{serial}")))
                elif step.action is Action.ORDER:
                    await check("order", await conn.request(OrderUpdate(order=step.order, state=OrderState.UNPAID)))
                elif step.action is Action.PAY:
                    await check("pay", await conn.request(OrderUpdate(order=step.order, state=OrderState.PAID)))
                elif step.action is Action.RATE:
                    await check("rate", await conn.request(Rate(score=step.score)))
            elif kind == "reply":
                agent = holder(what.buyer)
                if agent is None:
                    counts["reply_nobody"] += 1
                    return
                await check("reply", await agents[agent].request(
                    Reply(conversation=what.buyer, text="您好,马上为您查看", client_id=f"r{serial}")))
            elif kind == "close":
                agent = holder(what.buyer)
                if agent is not None:
                    await check("close", await agents[agent].request(CloseSession(conversation=what.buyer)))
                else:
                    counts["close_nobody"] += 1
                conn = buyers.pop(what.buyer)
                await conn.close()

        async def in_order(items: list[tuple[str, Any, int]]) -> None:
            for kind, what, serial in items:
                await act(kind, what, serial)

        by_tick: dict[int, list[tuple[float, int, str, Any]]] = defaultdict(list)
        for action in actions:
            by_tick[int((action[0] - start) // TICK)].append(action)
        t0 = time.perf_counter()
        for tick in sorted(by_tick):
            clock.now = max(clock.now, start + tick * TICK)
            groups: dict[str, list[tuple[str, Any, int]]] = defaultdict(list)
            for _, serial, kind, what in by_tick[tick]:
                key = what[0] if kind == "status" else (what[0].buyer if kind == "step" else what.buyer)
                groups[key].append((kind, what, serial))
            await asyncio.gather(*(in_order(items) for items in groups.values()))
        clock.now = start + HOURS * 3600
        shop.act(shop.driver.advance())  # the day's last timers
        record_s = time.perf_counter() - t0
        for conn in [*buyers.values(), *agents.values()]:
            await conn.close()
    finally:
        await server.stop()
    return {"record_s": round(record_s, 1), "actions": len(actions), "visits_skipped": skipped,
            "requests": dict(counts), "errors": dict(errors)}


def _cache_key() -> str:
    engine = Engine(load_policy_toml(POLICY_FILE.read_text(encoding="utf-8")), start=0.0)
    text = f"{GENERATOR};{engine_fingerprint(engine)};{POLICY_FILE.read_text(encoding='utf-8')};{RATE};{HOURS}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def recorded_day() -> tuple[Path, dict[str, Any]]:
    folder = CACHE / _cache_key()
    info_file = folder / "recorded.json"
    if info_file.is_file():
        return folder / "data", json.loads(info_file.read_text(encoding="utf-8"))
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    info = asyncio.run(_record(folder))
    info_file.write_text(json.dumps(info), encoding="utf-8")
    return folder / "data", info


def day_events(data: Path) -> int:
    from console.server.kpis import local_day

    span = local_day(DAY, ZONE)
    db = sqlite3.connect(f"{(data / DB_NAME).resolve().as_uri()}?mode=ro", uri=True)
    try:
        return int(db.execute("SELECT COUNT(*) FROM engine_log WHERE at >= ? AND at < ?",
                              (span.start, span.end)).fetchone()[0])
    finally:
        db.close()


def whatif_policy() -> str:
    text = POLICY_FILE.read_text(encoding="utf-8")
    changed = text.replace('mode = "off"                 # off, shop', 'mode = "shop"                # off, shop', 1)
    assert changed != text, "the example policy's queue line moved: update bench/whatif.py"
    return changed


async def timed_whatif(data: Path, policy: str) -> tuple[float, dict[str, Any], int]:
    reports: list[float] = []
    t0 = time.perf_counter()
    result = await run_in_process(data, DAY, policy, progress=reports.append)
    return time.perf_counter() - t0, result, len(reports)


async def push_interleaved(data: Path, policy: str, window: float, rounds: int) -> dict[str, Any]:
    import push as push_bench

    folder = Path(tempfile.mkdtemp(prefix="fenliu-whatif-push-"))
    server = None
    try:
        policy_file = push_bench.write_policy(folder, 20)
        tokens = push_bench.seed_accounts(folder / "data", policy_file)
        server = push_bench.start_server(folder, policy_file)
        load = await push_bench.connect_fenliu(server.port, 20, 200, tokens)
        latencies: dict[str, list[float]] = {"without": [], "during": []}
        windows = []
        for _ in range(rounds):
            for condition in ("without", "during"):
                task = asyncio.create_task(run_in_process(data, DAY, policy)) if condition == "during" else None
                if task is not None:
                    await asyncio.sleep(1.0)  # the child's start (spawn, imports) is not the replay
                measure = await push_bench.open_loop(load, server, PUSH_RATE, 0.5, window)
                latencies[condition] += load.phase.latencies
                if task is not None:
                    await task
                windows.append({"condition": condition, "p99_ms": measure.p99_ms, "p50_ms": measure.p50_ms,
                                "measured": measure.measured, "lost": measure.lost})
        await load.close()
        return {"windows": windows,
                **{f"p99_ms_{k}": round(push_bench._percentile(v, 0.99) * 1000, 2) for k, v in latencies.items()}}
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(folder, ignore_errors=True)


def main() -> int:
    global HOURS
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print JSON lines (the last one is the summary)")
    parser.add_argument("--rounds", type=int, default=2, help="without/during pairs for the push p99 (2)")
    parser.add_argument("--hours", type=float, default=8.0, help="hours of traffic (8; less only to try the bench)")
    args = parser.parse_args()
    HOURS = args.hours
    t0 = time.perf_counter()
    data, info = recorded_day()
    events = day_events(data)
    policy = whatif_policy()
    print(json.dumps({"day": DAY.isoformat(), "day_events": events, "recorded": info,
                      "setup_s": round(time.perf_counter() - t0, 1)}, ensure_ascii=False), flush=True)
    whatif_s, result, progress_reports = asyncio.run(timed_whatif(data, policy))
    pools = {p["pool"]: p for p in result["pools"]}
    print(json.dumps({"whatif_s": round(whatif_s, 2), "progress_reports": progress_reports,
                      "baseline_matches_record": result["baseline_matches_record"],
                      "recorded_decisions": result["recorded_decisions"], "mismatch": result["mismatch"],
                      "pools": pools, "adjusted": result["adjusted"]}, ensure_ascii=False), flush=True)
    window = max(2.0, whatif_s - 1.5)
    push = asyncio.run(push_interleaved(data, policy, window, args.rounds))
    for line in push["windows"]:
        print(json.dumps(line), flush=True)
    print(json.dumps({"day_events": events, "whatif_s": round(whatif_s, 2),
                      "push_p99_ms_during": push["p99_ms_during"], "push_p99_ms_without": push["p99_ms_without"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
