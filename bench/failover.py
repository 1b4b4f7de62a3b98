"""Takeover on PostgreSQL: kill -9 the owner of a random shop, again and again (issue 15).

    .venv/bin/python bench/failover.py --json                    # 20 shops, 100 kills (the issue's run)
    .venv/bin/python bench/failover.py --json --kills 10         # a shorter run

Two ``fenliu server --store URL --standby`` processes share one PostgreSQL (a throwaway cluster,
tests/postgres.py, fsync on, unless ``--store URL``) holding ``--shops`` shops (one schema and one
advisory lock each). The first server starts with ``--max-shops`` half the shops, the second with
no bound, so the shops spread over both; each keeps trying the shops the other owns.

Steady traffic, per shop: ``--buyers`` buyers (3) and one agent (cap 1, queue mode ``shop``,
``offline.mode = "queue"``, repeat entry off: so one buyer is in the agent's session and the
others wait in the queue). Each buyer says a numbered message every ``--interval`` seconds
(``client_id``), on the server that serves the shop, knocking first on its own server (buyer k on
server k mod 2, so a shop's buyers reach both); a buyer whose server is gone (refused, closed,
``not_found``) tries the other, says ``hello`` + ``arrive`` there and sends again the message it
had no ``say_ack`` for (same ``client_id``: idempotent); told ``session_closed`` it arrives again
(R10.2: at the back of the queue). The agent signs in where the shop is served (its token, else
its password), goes online and every ``--close-every`` seconds closes its session, which dequeues
the next buyer (R9.3, R10.3). Then ``--kills`` times: pick a random shop, kill -9 the server that
acknowledged its last message, time until one of that shop's buyers has a ``say_ack`` again
(takeover: kill -> the shop routing again), restart the killed server as a standby on its port,
wait until every shop is served again and the restarted server is standing by, let the traffic
settle, repeat.

Checked, over the whole run, from the database:

- ``lost``: a ``client_id`` acknowledged (``say_ack``) but not in the shop's ``messages`` table;
- ``duplicated``: a ``client_id`` stored more than once;
- ``double_assignments``: routing decisions made by a server after another had begun to route the
  shop (``decisions.owner`` names the server incarnation, pgstore.py; each owns one stretch of
  ``decisions.id``, a stretch never resumes): a buyer routed by two processes;
- ``order_violations``: queue order (each dequeued buyer the one who waited longest, R10.3; each
  buyer joining at the back of its pool, R10.2), plus each buyer's messages stored out of the
  order they were acknowledged in.

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
[offline]
mode = "queue"

[recent]
respect_cap = true

[queue]
mode = "shop"
repeat_window = 0

[[groups]]
id = "presale"
name = "售前"
cap = 1

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
    """One shop's buyers and agent: what each buyer sent, what was acknowledged, on which server."""

    shop: str
    buyers: list[str] = field(default_factory=list)
    acked: dict[str, dict[str, int]] = field(default_factory=dict)  # buyer -> client_id -> message_id
    order: dict[str, list[str]] = field(default_factory=dict)  # buyer -> client_ids in the order acknowledged
    last_server: ServerProc | None = None
    last_ack: float = 0.0
    closes: int = 0  # sessions the agent closed (each dequeues the next buyer, R9.3 / R10.3)
    errors: dict[str, int] = field(default_factory=dict)

    def error(self, code: Any) -> None:
        self.errors[str(code)] = self.errors.get(str(code), 0) + 1


async def _request(conn: Any, body: dict[str, Any], timeout: float = 10.0,
                   pushes: list[str] | None = None) -> dict[str, Any]:
    """Send ``body``, return the answer with its ``rid``; the types of the pushes read meanwhile
    go to ``pushes``."""
    await conn.send(json.dumps(body, ensure_ascii=False))
    while True:
        frame = json.loads(await asyncio.wait_for(conn.recv(), timeout))
        if frame.get("rid") == body["rid"]:
            return dict(frame)
        if pushes is not None:
            pushes.append(str(frame.get("type")))


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


async def _arrive(conn: Any) -> bool:
    routed = await _request(conn, {"type": "arrive", "rid": "a", "entry": "product_detail"})
    return routed.get("type") == "routed"


async def traffic(shop: ShopTraffic, buyer: str, servers: list[ServerProc], stop: asyncio.Event,
                  interval: float, prefer: int) -> None:
    """One buyer: ``hello`` + ``arrive`` on whichever server serves the shop, trying
    ``servers[prefer]`` first (a shop's buyers knock on both servers, so a server that routed
    without owning the shop would show in the decisions), then a numbered ``say`` every
    ``interval`` s; told ``session_closed`` (the agent closed it), it arrives again (R10.2: at the
    back of the queue)."""
    acked, order = shop.acked.setdefault(buyer, {}), shop.order.setdefault(buyer, [])
    n = 0
    pending: str | None = None
    conn: Any = None
    current: ServerProc | None = None
    pushes: list[str] = []
    while not stop.is_set():
        if conn is None:
            for server in servers[prefer:] + servers[:prefer]:
                conn = await _hello(server, shop.shop, buyer)
                if conn is None:
                    continue
                try:
                    if await _arrive(conn):
                        current = server
                        break
                    shop.error("arrive")
                except Exception:  # noqa: BLE001 - the server went away
                    pass
                await conn.close()
                conn = None
            if conn is None:
                await asyncio.sleep(0.05)
                continue
        if pending is None:
            n += 1
            pending = f"{buyer}-{n:06d}"
        try:
            ack = await _request(conn, {"type": "say", "rid": pending, "text": f"消息 {pending}", "client_id": pending},
                                 pushes=pushes)
            if ack.get("type") == "say_ack" and "session_closed" in pushes:
                pushes.clear()
                if not await _arrive(conn):
                    shop.error("rearrive")
        except Exception:  # noqa: BLE001 - the server went away: try again elsewhere, same client_id
            conn = None
            continue
        if ack.get("type") != "say_ack":
            shop.error(ack.get("code"))
            await conn.close()
            conn = None
            continue
        if pending not in acked:
            order.append(pending)
        acked[pending] = int(ack["message_id"])
        shop.last_server, shop.last_ack = current, time.monotonic()
        pending = None
        await asyncio.sleep(interval)
    if conn is not None:
        await conn.close()


async def _agent(server: ServerProc, shop: ShopTraffic, token: str | None) -> tuple[Any, str] | None:
    """The shop's agent signed in on ``server`` (its token when it has one, else its password) and
    online; None when that server does not serve the shop."""
    from websockets.asyncio.client import connect

    try:
        conn = await asyncio.wait_for(connect(f"ws://{HOST}:{server.port}/agent", compression=None,
                                              ping_interval=None, open_timeout=2), 3)
    except (OSError, TimeoutError, Exception):  # noqa: BLE001
        return None
    try:
        answer: dict[str, Any] = {}
        if token is not None:
            answer = await _request(conn, {"type": "resume", "rid": "l", "token": token, "shop": shop.shop}, 5)
        if answer.get("type") != "login_ok":
            answer = await _request(conn, {"type": "login", "rid": "l", "user": "a1", "password": PASSWORD,
                                           "shop": shop.shop}, 5)
        if answer.get("type") != "login_ok":
            await conn.close()
            return None
        status = await _request(conn, {"type": "set_status", "rid": "s", "status": "online"}, 5)
        if status.get("type") == "error":
            shop.error(f"status {status.get('code')}")
            await conn.close()
            return None
    except Exception:  # noqa: BLE001
        await conn.close()
        return None
    return conn, str(answer["token"])


async def agent(shop: ShopTraffic, servers: list[ServerProc], stop: asyncio.Event, close_every: float) -> None:
    """The shop's one agent (cap 1): online on whichever server serves the shop; every
    ``close_every`` s it closes its session, which dequeues the buyer who waited longest (R9.3,
    R10.3). It does not know which buyer it holds: it tries to close each until one closes."""
    conn: Any = None
    token: str | None = None
    turn = 0
    while not stop.is_set():
        if conn is None:
            for server in sorted(servers, key=lambda s: s is not shop.last_server):
                signed = await _agent(server, shop, token)
                if signed is not None:
                    conn, token = signed
                    break
            if conn is None:
                await asyncio.sleep(0.05)
                continue
        await asyncio.sleep(close_every)
        try:
            for k in range(len(shop.buyers)):
                buyer = shop.buyers[(turn + k) % len(shop.buyers)]
                answer = await _request(conn, {"type": "close", "rid": f"c{turn}-{k}", "conversation": buyer})
                if answer.get("type") == "ok":
                    shop.closes += 1
                    break
            turn += 1
        except Exception:  # noqa: BLE001 - the server went away: sign in again where the shop is
            conn = None
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


def owner_violations(owners: list[str | None]) -> int:
    """Decisions made by a server after another server had begun to decide for the shop: each
    incarnation owns the shop for one stretch of ``decisions.id``, and a stretch never resumes
    once another began (its lock was gone, so was its right to route). Two processes routing one
    shop at once interleave, and every decision of the one that should have stopped counts."""
    current: str | None = None
    ended: set[str] = set()
    bad = 0
    for owner in owners:
        if owner is None or owner == current:
            continue
        if owner in ended:
            bad += 1
            continue
        if current is not None:
            ended.add(current)
        current = owner
    return bad


def queue_violations(decisions: list[tuple[str, str, str, str, int | None]]) -> int:
    """Queue order, from the routing decisions in the order they were made (``id``): the shop's
    one agent serves every pool, so each buyer it dequeues must be the one who has waited longest
    among them all (R10.3), and a buyer who joins a pool joins at its back (R10.2: its
    ``position`` is that pool's length). A buyer who re-arrives while queued keeps its place (R9.1, ``open_session``); any other
    decision about a queued buyer takes it out of the queue (a re-route, a transfer)."""
    waiting: dict[str, str] = {}  # buyer -> pool, in the order they joined (dicts keep it)
    bad = 0
    for buyer, event, to, why, position in decisions:
        if why == "open_session":
            continue
        if why == "dequeued":
            if next(iter(waiting), None) != buyer:
                bad += 1
            waiting.pop(buyer, None)
            continue
        waiting.pop(buyer, None)
        if event == "queued" and to.startswith("queue:"):
            waiting[buyer] = to
            if position is not None and position != sum(1 for pool in waiting.values() if pool == to):
                bad += 1  # a position counts in the buyer's own pool
    return bad


def verify(url: str, shops: list[ShopTraffic]) -> dict[str, int]:
    import psycopg

    from console.server.pgstore import schema_of

    lost = duplicated = disorder = doubles = queue = dequeued = 0
    kinds: dict[str, int] = {}
    with psycopg.connect(url, autocommit=True) as conn:
        for shop in shops:
            schema = schema_of(shop.shop)
            for buyer, acked in shop.acked.items():
                rows = conn.execute(f"SELECT client_id, id FROM {schema}.messages "
                                    "WHERE author = 'buyer' AND conversation = %s", (buyer,)).fetchall()
                stored: dict[str, list[int]] = {}
                for client_id, message_id in rows:
                    stored.setdefault(client_id, []).append(int(message_id))
                lost += sum(1 for client_id in acked if client_id not in stored)
                duplicated += sum(len(ids) - 1 for ids in stored.values() if len(ids) > 1)
                ids = [stored[c][0] for c in sorted(shop.order[buyer]) if c in stored]  # numbered in sending order
                disorder += sum(1 for a, b in zip(ids, ids[1:], strict=False) if b <= a)
                disorder += sum(1 for c in shop.order[buyer] if c in stored and stored[c][0] != acked[c])
            decisions = conn.execute(f"SELECT buyer, event, target, why, position, owner FROM {schema}.decisions"
                                     " ORDER BY id").fetchall()
            doubles += owner_violations([d[5] for d in decisions])
            queue += queue_violations([(d[0], d[1], d[2], d[3], d[4]) for d in decisions])
            dequeued += sum(1 for d in decisions if d[3] == "dequeued")
            for d in decisions:
                kinds[f"{d[1]}/{d[3]}"] = kinds.get(f"{d[1]}/{d[3]}", 0) + 1
    return {"lost": lost, "duplicated": duplicated, "message_order": disorder, "double_assignments": doubles,
            "queue_order": queue, "dequeued": dequeued, "decisions": kinds}


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
    shops = [ShopTraffic(name, [f"fb-{name}-{k}" for k in range(args.buyers)]) for name in names]
    stop = asyncio.Event()
    takeovers: list[float] = []
    tasks: list[asyncio.Task[None]] = []
    try:
        servers[0].start(policy, names)
        await _wait_serving(shops[:1], servers, 60)
        servers[1].start(policy, names)
        await _ready(servers[1], 60)  # both up before the buyers come: each knocks on its own first
        tasks = [asyncio.create_task(traffic(s, b, servers, stop, args.interval, k % len(servers)))
                 for s in shops for k, b in enumerate(s.buyers)]
        tasks += [asyncio.create_task(agent(s, servers, stop, args.close_every)) for s in shops]
        await _all_flowing(shops, 60)
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
    except RuntimeError as exc:  # a shop no longer served, a server that did not start: said, then checked
        print(f"failover: stopped early: {exc}", file=sys.stderr, flush=True)
    finally:
        stop.set()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        for server in servers:
            server.stop()
    checked = verify(url, shops)
    if args.verbose:
        print(json.dumps({"closes": sum(s.closes for s in shops), "decisions": checked["decisions"],
                          "message_order": checked["message_order"], "queue_order": checked["queue_order"],
                          "errors": {k: v for s in shops for k, v in s.errors.items()}}), file=sys.stderr)
    return {
        "kills": len(takeovers),
        "takeover_p50_s": round(statistics.median(takeovers), 3) if takeovers else None,
        "takeover_p99_s": round(pct(takeovers, 0.99), 3) if takeovers else None,
        "takeover_max_s": round(max(takeovers), 3) if takeovers else None,
        "acked": sum(len(acked) for s in shops for acked in s.acked.values()),
        "lost": checked["lost"],
        "duplicated": checked["duplicated"],
        "double_assignments": checked["double_assignments"],
        "order_violations": checked["queue_order"] + checked["message_order"],
    }


async def _wait_serving(shops: list[ShopTraffic], servers: list[ServerProc], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for server in servers:
            conn = await _hello(server, shops[0].shop, "ready")
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
    parser.add_argument("--buyers", type=int, default=3, help="buyers per shop (one in the session, the others queued)")
    parser.add_argument("--close-every", type=float, default=1.0, help="seconds between the agent's closes (dequeues)")
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
    from tests import postgres

    with tempfile.TemporaryDirectory(prefix="fenliu-failover-") as tmp, postgres.database(args.store) as url:
        result = asyncio.run(bench(args, url, Path(tmp)))
    if not args.json:
        print(f"{result['kills']} kills of the owner of a random shop ({args.shops} shops, 2 servers)")
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
