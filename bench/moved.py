"""What a client pays for reaching a process that does not own its shop (issue 15, ``moved``).

    .venv/bin/python bench/moved.py --json                 # 300 gateway hellos, 30 console logins each way
    .venv/bin/python bench/moved.py --json --hellos 100 --logins 10

Two ``fenliu server --store URL`` processes share one PostgreSQL (a throwaway cluster,
tests/postgres.py, fsync on, unless ``--store URL``): one owns the shop ``north``, the other
``south``. The baseline is a client given the owner's address; the measured case, a client given
the other process's address, answered ``moved`` and following it. Interleaved, one of each per
round (the order alternating), so both see the same load:

- a gateway's buyer connection (``BuyerClient.connect``: handshake, ``hello``, ``ok``), a buyer id
  per round, closed at once;
- a console's start (``AgentClient.start``: handshake, ``login`` with a password, whose Argon2id
  hash is most of it, ``login_ok``, the snapshot), closed at once.

Last line, exactly::

    {"hellos": N, "hello_direct_p50_ms": x, "hello_direct_p99_ms": x, "hello_moved_p50_ms": x,
     "hello_moved_p99_ms": x, "logins": N, "login_direct_p50_ms": x, "login_moved_p50_ms": x,
     "load": x}
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import failover  # noqa: E402  (bench/failover.py: the server processes and the shops' accounts)

LISTENING = re.compile(r"listening on (ws://\S+)")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2)


async def _listening(server: failover.ServerProc, timeout: float = 60) -> None:
    log = server.folder / f"server-{server.incarnation}.log"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log.exists() and LISTENING.search(log.read_text(encoding="utf-8", errors="replace")):
            return
        assert server.proc is not None
        if server.proc.poll() is not None:
            raise RuntimeError(f"server {server.name} exited: {log.read_text(encoding='utf-8', errors='replace')}")
        await asyncio.sleep(0.1)
    raise TimeoutError(f"server {server.name} did not listen within {timeout:.0f} s")


async def bench(args: argparse.Namespace, url: str, folder: Path) -> dict[str, Any]:
    from console.client import AgentClient, BuyerClient

    failover.prepare(url, ["north", "south"], folder)
    policy = folder / "policy.toml"
    policy.write_text(failover.POLICY, encoding="utf-8")
    servers = []
    for shop in ("north", "south"):
        server = failover.ServerProc(shop, failover.free_port(), folder / shop, url, None)
        server.folder.mkdir()
        server.start(policy, [shop], standby=False)
        servers.append(server)
    try:
        for server in servers:
            await _listening(server)
        owner, other = (f"ws://{failover.HOST}:{s.port}" for s in servers)
        times: dict[str, list[float]] = {"hello_direct": [], "hello_moved": [], "login_direct": [], "login_moved": []}

        async def hello(kind: str, where: str, i: int) -> None:
            buyer = BuyerClient(where, f"mb{i}", shop="north")
            began = time.perf_counter()
            await buyer.connect()
            times[kind].append(time.perf_counter() - began)
            assert buyer.moves.current == owner + "/buyer", buyer.moves.current
            await buyer.close()

        async def login(kind: str, where: str) -> None:
            console = AgentClient(where, "a1", failover.PASSWORD, state_dir=folder / "state", shop="north")
            began = time.perf_counter()
            await asyncio.wait_for(console.start(), 60)
            times[kind].append(time.perf_counter() - began)
            assert console.moves.current == owner + "/agent", console.moves.current
            await console.close()

        for i in range(args.hellos):
            pair = [("hello_direct", owner), ("hello_moved", other)]
            for kind, where in pair if i % 2 == 0 else pair[::-1]:
                await hello(kind, where, i)
        for i in range(args.logins):
            pair = [("login_direct", owner), ("login_moved", other)]
            for kind, where in pair if i % 2 == 0 else pair[::-1]:
                await login(kind, where)
    finally:
        for server in servers:
            server.stop()
    return {
        "hellos": args.hellos,
        "hello_direct_p50_ms": pct(times["hello_direct"], 0.5), "hello_direct_p99_ms": pct(times["hello_direct"], 0.99),
        "hello_moved_p50_ms": pct(times["hello_moved"], 0.5), "hello_moved_p99_ms": pct(times["hello_moved"], 0.99),
        "logins": args.logins,
        "login_direct_p50_ms": pct(times["login_direct"], 0.5), "login_moved_p50_ms": pct(times["login_moved"], 0.5),
        "load": round(os.getloadavg()[0], 1),
    }


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hellos", type=int, default=300, help="gateway connections each way")
    parser.add_argument("--logins", type=int, default=30, help="console starts each way")
    parser.add_argument("--store", default="local", help="postgresql://… or 'local' (a throwaway cluster)")
    parser.add_argument("--json", action="store_true", help="print only the JSON line")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    from tests import postgres

    with tempfile.TemporaryDirectory(prefix="fenliu-moved-") as tmp, postgres.database(args.store) as url:
        result = asyncio.run(bench(args, url, Path(tmp)))
    if not args.json:
        print(f"gateway hello, p50 / p99: given the owner {result['hello_direct_p50_ms']} / "
              f"{result['hello_direct_p99_ms']} ms; given the other process (moved) {result['hello_moved_p50_ms']} / "
              f"{result['hello_moved_p99_ms']} ms")
        print(f"console start, p50: given the owner {result['login_direct_p50_ms']} ms; moved "
              f"{result['login_moved_p50_ms']} ms (load {result['load']})")
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
