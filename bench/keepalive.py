"""The server's keepalive at a peak's connection count: one sweep against websockets' task per
connection (issue 9, console/server/keepalive.py).

    .venv/bin/python bench/keepalive.py --baseline /work/wt/base9            # 2,500 connections, 20 s
    .venv/bin/python bench/keepalive.py --baseline /work/wt/base9 --ping 2   # the same, pings 10x as often

Two server processes run at once, this checkout's and ``--baseline``'s (another checkout's code, run
with this Python), each a real ``Server`` on a temporary data folder with ``ping_interval=--ping``.
This process opens ``--connections`` (2,500: the peak bench's 500 consoles and 2,000 buyers) to
each: every one says ``hello`` as a buyer, then nothing more; ``--chatty`` of them (500, the
consoles) send a websocket ping every ``--ping / 2`` seconds, as the console's client does
(console/client: every 10 s against the server's 20), and all answer the server's pings (websockets
does it by itself). That is a peak's connections as the keepalive sees them: the queued buyers send
nothing for minutes. Both servers are measured over the same windows (``--rounds`` of 2 x
``--ping`` seconds each), so what the machine does meanwhile falls on both:

- ``cpu_ms_per_s``: the server process's CPU (user + system, /proc) per second of the window;
- ``timers``: the loop's timer heap (``len(loop._scheduled)``), the median of a sample a second;
- ``visit_ms``: this side only, the longest visit of one slot of the sweep (``Keepalive.longest_visit``)
  in the window, with ``per_visit`` connections in a slot; ``--one-slot`` sweeps all at once.

One JSON line per window and side, then the last line::

    {"connections": N, "ping_s": x, "cpu_ms_per_s": x, "cpu_ms_per_s_base": x, "cpu_ratio": x,
     "timers": N, "timers_base": N, "visit_ms": x, "per_visit": N}
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


# -- a server (child process) -----------------------------------------------------------------------------


def serve_main(root: Path, data: Path, policy: Path, ping: float, stats: Path, one_slot: bool) -> None:
    """``--serve``: a server from ``root``'s code; a line of figures a second to ``stats``."""
    sys.path.insert(0, str(root))
    from console.server.app import Server, ServerConfig

    if one_slot:
        import console.server.keepalive as keepalive_module

        keepalive_module.SLOTS = 1

    async def main() -> None:
        server = Server(ServerConfig(port=0, data_dir=data, policy_file=policy, ping_interval=ping))
        await server.start()
        print(f"PORT {server.port}", flush=True)
        loop = asyncio.get_running_loop()
        sweep = getattr(server, "keepalive", None)  # None: websockets' keepalive (the baseline)
        with stats.open("a", encoding="utf-8") as out:
            while True:
                await asyncio.sleep(1.0)
                line: dict[str, Any] = {"t": time.time(), "timers": len(loop._scheduled)}  # type: ignore[attr-defined]
                if sweep is not None:
                    line.update(visit_ms=sweep.longest_visit * 1000, pings=sweep.pings, dropped=sweep.dropped,
                                kept=len(sweep), slots=len(sweep._slots))  # noqa: SLF001
                    sweep.longest_visit = 0.0
                out.write(json.dumps(line) + "\n")
                out.flush()

    asyncio.run(main())


# -- the load (this process) -----------------------------------------------------------------------------


async def open_all(port: int, count: int, chatty: int, ping: float) -> list[Any]:
    from websockets.asyncio.client import connect

    url = f"ws://127.0.0.1:{port}/buyer"
    sem = asyncio.Semaphore(32)

    async def one(i: int) -> Any:
        async with sem:
            conn = await connect(url, compression=None, max_size=None,
                                 ping_interval=ping / 2 if i < chatty else None, ping_timeout=None)
            await conn.send(json.dumps({"type": "hello", "rid": "h", "buyer": f"k{i:05d}", "name": f"买家{i}"}))
            while json.loads(await conn.recv()).get("rid") != "h":
                pass
            return conn

    return await asyncio.gather(*(one(i) for i in range(count)))


async def drain(conns: list[Any]) -> None:
    """Read whatever the servers send (nothing but pings is expected) so each pong goes out."""
    async def one(conn: Any) -> None:
        try:
            async for _ in conn:
                pass
        except Exception:  # noqa: BLE001  (a closed connection: counted by the server's figures)
            pass
    await asyncio.gather(*(one(c) for c in conns))


def start(root: Path, folder: Path, name: str, policy: Path, ping: float, one_slot: bool) -> tuple[Any, int, Path]:
    stats = folder / f"{name}.stats"
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(root), str(folder / name), str(policy), str(ping), str(stats),
         *(["--one-slot"] if one_slot else [])],
        stdout=subprocess.PIPE, stderr=(folder / f"{name}.log").open("wb"), stdin=subprocess.DEVNULL, cwd=root)
    assert proc.stdout is not None
    line = proc.stdout.readline().decode()
    if not line.startswith("PORT "):
        proc.kill()
        raise RuntimeError(f"{name} did not start: {(folder / f'{name}.log').read_text(errors='replace')}")
    return proc, int(line.split()[1]), stats


def window_figures(stats: Path, t0: float, t1: float) -> list[dict[str, Any]]:
    lines = [json.loads(x) for x in stats.read_text(encoding="utf-8").splitlines() if x]
    return [x for x in lines if t0 < x["t"] <= t1]


async def bench(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "bench"))
    from peak import seed_accounts, write_policy
    from push import cpu_seconds

    policy = write_policy(folder, 2, 4)
    sides = {"keepalive": ROOT, "base": Path(args.baseline)}
    procs: dict[str, Any] = {}
    ports: dict[str, int] = {}
    stats: dict[str, Path] = {}
    try:
        for name, root in sides.items():
            seed_accounts(folder / name, policy)
            procs[name], ports[name], stats[name] = start(root, folder, name, policy, args.ping,
                                                          args.one_slot and name == "keepalive")
        conns: dict[str, list[Any]] = {}
        for name in procs:
            conns[name] = await open_all(ports[name], args.connections, args.chatty, args.ping)
            print(f"{name}: {args.connections} connections open", file=sys.stderr)
        readers = [asyncio.ensure_future(drain(c)) for c in conns.values()]
        await asyncio.sleep(args.ping)  # the first pings, of the connections' first interval
        windows: dict[str, list[dict[str, Any]]] = {name: [] for name in procs}
        for r in range(args.rounds):
            c0 = {name: cpu_seconds(p.pid) for name, p in procs.items()}
            t0 = time.time()
            await asyncio.sleep(2 * args.ping)
            t1 = time.time()
            for name, p in procs.items():
                samples = window_figures(stats[name], t0, t1)
                line: dict[str, Any] = {
                    "side": name, "round": r, "seconds": round(t1 - t0, 1),
                    "cpu_ms_per_s": round((cpu_seconds(p.pid) - c0[name]) * 1000 / (t1 - t0), 2),
                    "timers": statistics.median(x["timers"] for x in samples) if samples else None,
                    "open": sum(1 for c in conns[name] if c.close_code is None),
                }
                if samples and "visit_ms" in samples[0]:
                    line.update(visit_ms=round(max(x["visit_ms"] for x in samples), 3),
                                pings=samples[-1]["pings"], dropped=samples[-1]["dropped"],
                                per_visit=round(samples[-1]["kept"] / samples[-1]["slots"]))
                windows[name].append(line)
                print(json.dumps(line), flush=True)
        for r in readers:
            r.cancel()
        for c in [c for cs in conns.values() for c in cs]:
            c.transport.abort()
    finally:
        for p in procs.values():
            p.kill()
            p.wait()
    mine, base = windows["keepalive"], windows["base"]
    cpu = statistics.median(x["cpu_ms_per_s"] for x in mine)
    cpu_base = statistics.median(x["cpu_ms_per_s"] for x in base)
    return {"connections": args.connections, "ping_s": args.ping, "cpu_ms_per_s": cpu, "cpu_ms_per_s_base": cpu_base,
            "cpu_ratio": round(cpu / cpu_base, 3) if cpu_base else None,
            "timers": statistics.median(x["timers"] for x in mine),
            "timers_base": statistics.median(x["timers"] for x in base),
            "visit_ms": max(x["visit_ms"] for x in mine), "per_visit": mine[-1]["per_visit"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--serve", nargs=5, metavar=("ROOT", "DATA", "POLICY", "PING", "STATS"), help=argparse.SUPPRESS)
    parser.add_argument("--baseline", metavar="DIR", help="another checkout whose server is measured alongside")
    parser.add_argument("--connections", type=int, default=2500)
    parser.add_argument("--chatty", type=int, default=500, help="connections that ping the server themselves")
    parser.add_argument("--ping", type=float, default=20.0, help="the servers' keepalive interval (s)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--one-slot", action="store_true", help="this side sweeps every connection at once")
    args = parser.parse_args()
    if args.serve:
        root, data, policy, ping, stats = args.serve
        serve_main(Path(root), Path(data), Path(policy), float(ping), Path(stats), args.one_slot)
        return 0
    if args.baseline is None:
        parser.error("--baseline DIR is required")
    with tempfile.TemporaryDirectory(prefix="keepalive-bench-") as tmp:
        print(json.dumps(asyncio.run(bench(args, Path(tmp)))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
