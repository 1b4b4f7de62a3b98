"""Takeover on PostgreSQL: kill -9 the owner of a random shop, again and again (issue 15).

    .venv/bin/python bench/failover.py --json                    # 20 shops, 100 kills (the issue's run)
    .venv/bin/python bench/failover.py --json --kills 10         # a shorter run

Two ``fenliu server --store URL --standby`` processes share one PostgreSQL (a throwaway cluster,
tests/postgres.py, fsync on, unless ``--store URL``) holding ``--shops`` shops (one schema and one
advisory lock each). The first server starts with ``--max-shops`` half the shops, the second with
no bound, so the shops spread over both; each keeps trying the shops the other owns.

Steady traffic: one buyer per shop, a ``say`` every ``--interval`` seconds (``client_id``
numbered), on whichever server serves the shop: a buyer whose server is gone (refused, closed,
``not_found`` for the shop) tries the other, says ``hello`` + ``arrive`` there and sends again the
message it had no ``say_ack`` for (same ``client_id``: idempotent). Then ``--kills`` times: pick a
random shop, kill -9 the server that acknowledged its last message, time until that shop's buyer
has a ``say_ack`` again (takeover: kill -> the shop routing again), restart the killed server as a
standby on its port, let the traffic settle, repeat.

Checked, over the whole run:

- ``lost``: a ``client_id`` acknowledged (``say_ack``) but not in the shop's ``messages`` table;
- ``duplicated``: a ``client_id`` stored more than once;
- ``double_assignments``: times a buyer was accepted by two processes for one shop at once (each
  buyer, after each ack, says ``hello`` for its shop to the *other* server every ``--probe``
  seconds; that server must refuse it: it does not own the shop);
- ``order_violations``: a buyer's messages stored out of the order they were acknowledged in
  (message ids not increasing with the ``client_id`` number).

Last line, exactly::

    {"kills": N, "takeover_p50_s": x, "takeover_p99_s": x, "takeover_max_s": x, "acked": N,
     "lost": N, "duplicated": N, "double_assignments": N, "order_violations": N}
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

HOST = "127.0.0.1"
PASSWORD = "bench-failover"
POLICY = """\
[[groups]]
id = "presale"
name = "售前"

[[agents]]
id = "a1"
name = "小美"
groups = ["presale"]
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


@dataclass
class ServerProc:
    """One ``fenliu server`` slot: its port and data folder stay, the process is restarted."""

    name: str
    port: int
    folder: Path
    url: str
    max_shops: int | None
    proc: subprocess.Popen[bytes] | None = None
    incarnation: int = 0
    log: Any = None

    def start(self, policy: Path, shops: list[str], standby: bool = True) -> None:
        self.incarnation += 1
        if self.log is not None:
            self.log.close()
        self.log = open(self.folder / f"server-{self.incarnation}.log", "wb")  # noqa: SIM115 - closed in stop
        bound = ["--max-shops", str(self.max_shops)] if self.max_shops is not None and self.incarnation == 1 else []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "console", "server", "--port", str(self.port), "--data", str(self.folder),
             "--store", self.url, "--policy", str(policy), *bound,
             *(["--standby"] if standby else []),
             *(arg for shop in shops for arg in ("--shop", shop))],  # these only: the database may hold others
            stdout=self.log, stderr=subprocess.STDOUT, cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1"})

    def ready(self) -> bool:
        """Whether this incarnation is up: standing by, or serving (its log says so)."""
        assert self.log is not None
        text = (self.folder / f"server-{self.incarnation}.log").read_bytes()
        return b"standing by" in text or b"listening on" in text

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.log is not None:
            self.log.close()
            self.log = None


@dataclass
class ShopTraffic:
    """One shop's buyer: what it sent, what was acknowledged, by which server incarnation."""

    shop: str
    acked: dict[str, int] = field(default_factory=dict)  # client_id -> message_id
    order: list[str] = field(default_factory=list)  # client_ids in the order acknowledged
    last_server: ServerProc | None = None
    last_ack: float = 0.0
    doubles: int = 0
    errors: dict[str, int] = field(default_factory=dict)


async def _request(conn: Any, body: dict[str, Any], timeout: float = 10.0) -> dict[str, Any]:
    await conn.send(json.dumps(body, ensure_ascii=False))
    while True:
        frame = json.loads(await asyncio.wait_for(conn.recv(), timeout))
        if frame.get("rid") == body["rid"]:
            return dict(frame)


async def _hello(server: ServerProc, shop: str, buyer: str) -> Any:
    """A buyer connection to ``server`` for ``shop``, hello answered ``ok``; None when that
    server is down or does not serve the shop."""
    from websockets.asyncio.client import connect

    try:
        conn = await asyncio.wait_for(connect(f"ws://{HOST}:{server.port}/buyer", compression=None,
                                              ping_interval=None, open_timeout=2), 3)
    except (OSError, TimeoutError, Exception):  # noqa: BLE001 - refused, reset, handshake cut: not serving
        return None
    try:
        answer = await _request(conn, {"type": "hello", "rid": "h", "buyer": buyer, "name": buyer, "shop": shop}, 3)
    except Exception:  # noqa: BLE001
        await conn.close()
        return None
    if answer.get("type") != "ok":
        await conn.close()
        return None
    return conn


async def traffic(shop: ShopTraffic, servers: list[ServerProc], stop: asyncio.Event, interval: float,
                  probe_every: float) -> None:
    buyer = f"fb-{shop.shop}"
    n = 0
    pending: str | None = None
    conn: Any = None
    last_probe = 0.0
    while not stop.is_set():
        if conn is None:
            order = sorted(servers, key=lambda s: s is not shop.last_server)  # the last one first
            for server in order:
                conn = await _hello(server, shop.shop, buyer)
                if conn is not None:
                    try:
                        routed = await _request(conn, {"type": "arrive", "rid": "a", "entry": "product_detail"})
                    except Exception:  # noqa: BLE001
                        conn = None
                        continue
                    if routed.get("type") != "routed":
                        shop.errors[str(routed.get("code"))] = shop.errors.get(str(routed.get("code")), 0) + 1
                        await conn.close()
                        conn = None
                        continue
                    current = server
                    break
            if conn is None:
                await asyncio.sleep(0.05)
                continue
        if pending is None:
            n += 1
            pending = f"{shop.shop}-{n:06d}"
        try:
            ack = await _request(conn, {"type": "say", "rid": pending, "text": f"消息 {pending}", "client_id": pending})
        except Exception:  # noqa: BLE001 - the server went away: try again elsewhere, same client_id
            conn = None
            continue
        if ack.get("type") != "say_ack":
            shop.errors[str(ack.get("code"))] = shop.errors.get(str(ack.get("code")), 0) + 1
            await conn.close()
            conn = None
            continue
        if pending not in shop.acked:
            shop.order.append(pending)
        shop.acked[pending] = int(ack["message_id"])
        shop.last_server, shop.last_ack = current, time.monotonic()
        pending = None
        if time.monotonic() - last_probe >= probe_every:  # nobody else may accept this shop now
            last_probe = time.monotonic()
            for other in servers:
                if other is not current:
                    extra = await _hello(other, shop.shop, f"probe-{shop.shop}")
                    if extra is not None:
                        shop.doubles += 1
                        await extra.close()
        await asyncio.sleep(interval)
    if conn is not None:
        await conn.close()


def prepare(url: str, shops: list[str], folder: Path) -> None:
    """Each shop's schema and accounts (one agent, never online: buyers queue and keep talking)."""
    from console.routing.policy import load_policy_toml
    from console.server.app import ensure_demo_accounts
    from console.server.pgstore import PgStore

    for shop in shops:
        store = PgStore(url, shop=shop, own=False, local_dir=folder)
        try:
            ensure_demo_accounts(store, load_policy_toml(POLICY), PASSWORD)
        finally:
            store.close()


def verify(url: str, shops: list[ShopTraffic]) -> dict[str, int]:
    import psycopg

    from console.server.pgstore import schema_of

    lost = duplicated = disorder = 0
    with psycopg.connect(url, autocommit=True) as conn:
        for shop in shops:
            rows = conn.execute(f"SELECT client_id, id FROM {schema_of(shop.shop)}.messages "
                                "WHERE author = 'buyer' AND conversation = %s", (f"fb-{shop.shop}",)).fetchall()
            stored: dict[str, list[int]] = {}
            for client_id, message_id in rows:
                stored.setdefault(client_id, []).append(int(message_id))
            lost += sum(1 for client_id in shop.acked if client_id not in stored)
            duplicated += sum(len(ids) - 1 for ids in stored.values() if len(ids) > 1)
            ids = [stored[c][0] for c in sorted(shop.order) if c in stored]  # numbered in sending order
            disorder += sum(1 for a, b in zip(ids, ids[1:], strict=False) if b <= a)
            disorder += sum(1 for c in shop.order if c in stored and stored[c][0] != shop.acked[c])
    return {"lost": lost, "duplicated": duplicated, "order_violations": disorder}


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def bench(args: argparse.Namespace, url: str, folder: Path) -> dict[str, Any]:
    rng = random.Random(args.seed)
    names = [f"{args.prefix}{i:02d}" for i in range(args.shops)]
    prepare(url, names, folder)
    policy = folder / "policy.toml"
    policy.write_text(POLICY, encoding="utf-8")
    servers = [ServerProc("A", free_port(), folder / "A", url, max(1, args.shops // 2)),
               ServerProc("B", free_port(), folder / "B", url, None)]
    for server in servers:
        server.folder.mkdir()
    shops = [ShopTraffic(name) for name in names]
    stop = asyncio.Event()
    takeovers: list[float] = []
    tasks: list[asyncio.Task[None]] = []
    try:
        servers[0].start(policy, names)
        await _wait_serving(shops[:1], servers, 60)
        servers[1].start(policy, names)
        tasks = [asyncio.create_task(traffic(s, servers, stop, args.interval, args.probe)) for s in shops]
        await _all_flowing(shops, 60)
        await _ready(servers[1], 60)
        for kill in range(args.kills):
            shop = rng.choice(shops)
            victim = shop.last_server
            assert victim is not None
            killed_at, killed_wall = time.monotonic(), time.time()
            victim.kill()
            deadline = killed_at + args.timeout
            while shop.last_ack <= killed_at and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            took = (shop.last_ack - killed_at) if shop.last_ack > killed_at else float("inf")
            takeovers.append(took)
            victim.start(policy, names)  # the next standby
            await _all_flowing(shops, args.timeout)  # every shop served again before the next kill
            await _ready(victim, args.timeout)  # and the standby up: a takeover is not a process start
            if args.verbose:
                print(json.dumps({"kill": kill + 1, "shop": shop.shop, "server": victim.name,
                                  "at": time.strftime("%H:%M:%S", time.localtime(killed_wall))
                                  + f".{int(killed_wall * 1000) % 1000:03d}",
                                  "takeover_s": round(took, 3)}), file=sys.stderr, flush=True)
            await asyncio.sleep(args.settle)
    finally:
        stop.set()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        for server in servers:
            server.stop()
    checked = verify(url, shops)
    return {
        "kills": len(takeovers),
        "takeover_p50_s": round(statistics.median(takeovers), 3) if takeovers else None,
        "takeover_p99_s": round(pct(takeovers, 0.99), 3) if takeovers else None,
        "takeover_max_s": round(max(takeovers), 3) if takeovers else None,
        "acked": sum(len(s.acked) for s in shops),
        "lost": checked["lost"],
        "duplicated": checked["duplicated"],
        "double_assignments": sum(s.doubles for s in shops),
        "order_violations": checked["order_violations"],
    }


async def _wait_serving(shops: list[ShopTraffic], servers: list[ServerProc], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for server in servers:
            conn = await _hello(server, shops[0].shop, "fb-ready")
            if conn is not None:
                await conn.close()
                return
        await asyncio.sleep(0.1)
    raise RuntimeError("no server started serving (see the server logs)")


async def _ready(server: ServerProc, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not server.ready():
        if time.monotonic() > deadline or (server.proc is not None and server.proc.poll() is not None):
            raise RuntimeError(f"server {server.name} did not start (see {server.folder})")
        await asyncio.sleep(0.05)


async def _all_flowing(shops: list[ShopTraffic], timeout: float) -> None:
    """Every shop's buyer acknowledged after now (each shop is served again)."""
    since = time.monotonic()
    deadline = since + timeout
    while any(s.last_ack <= since for s in shops):
        if time.monotonic() > deadline:
            stuck = [s.shop for s in shops if s.last_ack <= since]
            raise RuntimeError(f"shops not served after {timeout} s: {stuck}")
        await asyncio.sleep(0.02)


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shops", type=int, default=20)
    parser.add_argument("--kills", type=int, default=100)
    parser.add_argument("--interval", type=float, default=0.2, help="seconds between a buyer's messages")
    parser.add_argument("--probe", type=float, default=1.0, help="seconds between double-ownership probes per shop")
    parser.add_argument("--settle", type=float, default=0.5, help="seconds of steady traffic between kills")
    parser.add_argument("--timeout", type=float, default=60.0, help="give up on a takeover after this long")
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--prefix", default="s", help="shop names: PREFIX00, PREFIX01, ...")
    parser.add_argument("--store", default="local", help="postgresql://… or 'local' (a throwaway cluster)")
    parser.add_argument("--json", action="store_true", help="print only the JSON line (progress on stderr)")
    parser.add_argument("--verbose", action="store_true", help="one line per kill on stderr")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    cluster = None
    with tempfile.TemporaryDirectory(prefix="fenliu-failover-") as tmp:
        if args.store == "local":
            from tests import postgres

            cluster = postgres.start(fsync=True)
            url = cluster.url
        else:
            url = args.store
        try:
            result = asyncio.run(bench(args, url, Path(tmp)))
        finally:
            if cluster is not None:
                cluster.stop()
    if not args.json:
        print(f"{result['kills']} kills of the owner of a random shop ({args.shops} shops, 2 servers)")
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
