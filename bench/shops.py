"""Many shops in one process against one shop of the same size (issue 15).

    .venv/bin/python bench/shops.py --json                      # the recorded run
    .venv/bin/python bench/shops.py --json --window 5 --rounds 1   # a quick look

Two ``fenliu server`` processes on loopback, each on its own temporary data folder, SQLite as a
shop runs it (WAL, ``synchronous=FULL``):

- the baseline: one shop (the data folder itself) with ``--shops x --agents`` agents;
- the deployment: ``--shops`` shops (``fenliu shops add``), ``--agents`` agents each.

Both hold the same number of agents and buyers (``--buyers`` a shop: every buyer in a session
with an agent) and get the same traffic, open loop: ``--rate`` buyer ``say`` messages a second in
total, round robin over every buyer (so spread evenly over the shops), each delivered to the owning
agent's console as a ``message`` event (bench/push.py's load generator: its ``Load`` and
``open_loop``, the buyers' ``hello`` and the consoles' ``resume`` naming their shop). The
windows interleave, baseline then deployment, ``--rounds`` times; only one server is loaded at a
time. Set-up is not timed: accounts share one Argon2 hash and connect with tokens.

Measured: ``say`` written -> the ``message`` event decoded by the owning console (p50, p99, max),
the server's CPU time per delivered message (``/proc``, user + system), its resident memory once
every console and buyer is connected, and the start time of each process (spawn -> "listening").
One JSON line per window, then the last line, exactly::

    {"shops": N, "p99_ms_one_shop": x, "p99_ms_shops": x, "us_per_msg_one_shop": x, "us_per_msg_shops": x,
     "rss_mb_one_shop": x, "rss_mb_shops": x, "start_s_one_shop": x, "start_s_shops": x, "lost": N}

(p99 and CPU: the median over the rounds; ``lost``: messages never delivered, both sides.)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from push import (  # noqa: E402  (bench/push.py's load generator, one of them)
    HOST,
    PASSWORD,
    Child,
    Load,
    _bounded,
    _request,
    _start_readers,
    open_loop,
)


def agent_id(i: int) -> str:
    return f"a{i:03d}"


def policy_text(agents: range) -> str:
    lines = ['preset = "taobao"', 'timezone = "Asia/Shanghai"', "seed = 3", 'pick = "least_saturated"',
             'disconnect_grace = "1h"', "", "[[groups]]", 'id = "all"', "cap = 50", ""]
    for i in agents:
        lines += ["[[agents]]", f'id = "{agent_id(i)}"', f'name = "{agent_id(i)}"', 'groups = ["all"]', ""]
    return "\n".join(lines)


def seed(folder: Path, policy: str) -> list[str]:
    """The policy's accounts in ``folder``'s store (one shared Argon2 hash) and a token each."""
    from console.routing.policy import load_policy_toml
    from console.server import accounts as accounts_module
    from console.server.app import ensure_demo_accounts
    from console.server.store import Store

    parsed = load_policy_toml(policy)
    one_hash = accounts_module.hash_password(PASSWORD)
    slow = accounts_module.hash_password
    accounts_module.hash_password = lambda password: one_hash  # type: ignore[assignment]
    store = Store.open(folder)
    try:
        ensure_demo_accounts(store, parsed, PASSWORD)
        accounts = accounts_module.Accounts(store)
        tokens = [accounts.issue_token(spec.id, time.time())[0] for spec in parsed.agents]
        store.flush()
    finally:
        accounts_module.hash_password = slow  # type: ignore[assignment]
        store.close()
    return tokens


def prepare(folder: Path, shops: int, agents: int) -> list[tuple[str | None, list[str]]]:
    """The data folder: one shop of ``shops x agents`` agents (``shops`` 1) or ``shops`` shops.
    Returns, per shop, its name (None: the only one) and its agents' tokens."""
    from console.server.deployment import Deployment

    data = folder / "data"
    if shops == 1:
        text = policy_text(range(agents))
        (folder / "policy.toml").write_text(text, encoding="utf-8")
        return [(None, seed(data, text))]
    deployment = Deployment(data)
    out: list[tuple[str | None, list[str]]] = []
    for s in range(shops):
        name = f"shop{s:02d}"
        text = policy_text(range(agents))
        deployment.add(name, text)
        out.append((name, seed(deployment.folder(name), text)))
    return out


def start(folder: Path, one_shop: bool) -> tuple[Child, float]:
    log_path = folder / "server.log"
    command = [sys.executable, "-m", "console"]  # from ROOT: this checkout's code (peak.py start_server)
    policy = ["--policy", str(folder / "policy.toml")] if one_shop else []
    began = time.perf_counter()
    with log_path.open("wb") as log:
        proc = subprocess.Popen([*command, "server", "--port", "0", "--data", str(folder / "data"), *policy],
                                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=ROOT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        match = re.search(r"listening on ws://[^:]+:(\d+)", log_path.read_text(errors="replace"))
        if match:
            return Child(proc, int(match.group(1))), time.perf_counter() - began
        if proc.poll() is not None:
            break
        time.sleep(0.01)
    proc.kill()
    raise RuntimeError(f"the server did not start:\n{log_path.read_text(errors='replace')}")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


async def connect_shops(name: str, port: int, shops: list[tuple[str | None, list[str]]], buyers: int) -> Load:
    """Every shop's consoles (resume with a token, online) and buyers (hello, arrive), as one
    ``Load``: agent and buyer indexes run over all shops."""
    per_shop = len(shops[0][1])
    load = Load(name, per_shop * len(shops), buyers * len(shops))
    url = f"ws://{HOST}:{port}"

    async def agent(i: int) -> Any:
        from websockets.asyncio.client import connect

        shop, tokens = shops[i // per_shop]
        conn = await connect(url + "/agent", max_size=None, compression=None, ping_interval=None)
        resume: dict[str, Any] = {"type": "resume", "rid": "l", "token": tokens[i % per_shop]}
        if shop is not None:
            resume["shop"] = shop
        await _request(conn, resume, lambda f: f.type == "snapshot")
        await _request(conn, {"type": "set_status", "rid": "s", "status": "online"}, lambda f: f.rid == "s")
        return conn

    load.agent_conns = await _bounded([agent(i) for i in range(load.n_agents)], 16)

    async def buyer(b: int) -> Any:
        from websockets.asyncio.client import connect

        s = b % len(shops)  # round robin over buyers is round robin over shops
        shop = shops[s][0]
        conn = await connect(url + "/buyer", max_size=None, compression=None, ping_interval=None)
        hello: dict[str, Any] = {"type": "hello", "rid": "h", "buyer": f"b{b:05d}", "name": f"买家{b}"}
        if shop is not None:
            hello["shop"] = shop
        await _request(conn, hello, lambda f: f.rid == "h")
        routed = await _request(conn, {"type": "arrive", "rid": "a"}, lambda f: f.rid == "a")
        if routed.to != "agent" or routed.name is None:
            raise RuntimeError(f"buyer {b} was not routed to an agent: {routed}")
        load.owner[b] = s * per_shop + int(routed.name[1:]) if shop is not None else int(routed.name[1:])
        return conn

    load.buyer_conns = await _bounded([buyer(b) for b in range(load.n_buyers)], 64)
    _start_readers(load)
    return load


async def bench(args: argparse.Namespace, folder: Path) -> list[dict[str, Any]]:
    sides: dict[str, tuple[Child, Load, float, float]] = {}
    lines: list[dict[str, Any]] = []
    try:
        for side, shops in (("one_shop", 1), ("shops", args.shops)):
            where = folder / side
            where.mkdir()
            agents = args.agents * args.shops if shops == 1 else args.agents
            made = prepare(where, shops, agents)
            child, started = start(where, shops == 1)
            load = await connect_shops(side, child.port, made, args.buyers * args.shops // len(made))
            sides[side] = (child, load, started, rss_mb(child.proc.pid))
        for round_ in range(args.rounds):
            for side, (child, load, _, _) in sides.items():
                measure = await open_loop(load, child, args.rate, args.warmup, args.window)
                line = {"round": round_ + 1, "side": side, **vars(measure), "misrouted": load.misrouted,
                        "errors": dict(load.errors)}
                lines.append(line)
                print(json.dumps(line), flush=True)
    finally:
        for child, load, _, _ in sides.values():
            await load.close()
            child.stop()
    summary: dict[str, Any] = {"shops": args.shops}
    for side in ("one_shop", "shops"):
        mine = [line for line in lines if line["side"] == side]
        summary[f"p99_ms_{side}"] = round(statistics.median(line["p99_ms"] for line in mine), 2)
        summary[f"us_per_msg_{side}"] = round(statistics.median(line["server_us_per_msg"] for line in mine), 1)
    for side, (_, _, started, rss) in sides.items():
        summary[f"rss_mb_{side}"] = rss
        summary[f"start_s_{side}"] = round(started, 2)
    summary["lost"] = sum(line["lost"] for line in lines) + sum(line["misrouted"] for line in lines)
    lines.append(summary)
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shops", type=int, default=20)
    parser.add_argument("--agents", type=int, default=5, help="agents a shop (the baseline: shops x agents)")
    parser.add_argument("--buyers", type=int, default=20, help="buyers in a session, a shop")
    parser.add_argument("--rate", type=float, default=200.0, help="buyer messages a second, in total")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--window", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--json", action="store_true", help="(the last line is JSON either way)")
    args = parser.parse_args()
    os.environ.setdefault("PYTHONHASHSEED", "0")
    with tempfile.TemporaryDirectory(prefix="fenliu-bench-shops-") as tmp:
        lines = asyncio.run(bench(args, Path(tmp)))
    print(json.dumps(lines[-1]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
