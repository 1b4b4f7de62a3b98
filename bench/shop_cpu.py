"""CPU per answered buyer message through the shop alone (no sockets), against another checkout (issue 9).

    .venv/bin/python bench/shop_cpu.py --json --baseline /work/main          # 3 rounds, about 2 minutes

What a buyer message and its answer cost the server's own code: ``Shop.buyer_says`` then
``Shop.holder_says`` for the agent, each inside ``Shop.atomic()`` and followed by
``await Shop.committed()``, as the endpoints run them, on a real ``Store`` (SQLite WAL,
``synchronous=FULL``: the fsync thread included) in a temporary folder. The shop of
``bench/peak.py``: 500 agents online, one group capped at 4, 2,000 buyers in a session;
``--concurrency`` (40) buyers at a time, each writing and being answered in turn, so commits
group as they do under load. Figure: the process's CPU time (every thread) per answered
message, the websocket layer left out (``bench/peak.py`` measures the whole server).

The baseline is the same measurement on the code of another checkout (``--baseline DIR``: its
``console`` package imported in a child process of the same Python), the two alternated round by
round in one run, so both see the same machine. One JSON line per round and side, then::

    {"cpu_us_per_message": x, "baseline_cpu_us_per_message": x, "ratio": x,
     "agent_events_per_message": x, "baseline_agent_events_per_message": x,
     "event_bytes_per_message": x, "baseline_event_bytes_per_message": x, "load": x}

(CPU: medians over the rounds; agent events and their bytes, as stored in ``agent_events`` and
framed to the consoles, per answered message, i.e. per buyer message and its reply; the 1-minute
load average at the end.)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def child(pairs: int, concurrency: int) -> dict[str, Any]:
    """Run in a process whose ``console`` is the checkout measured (the working directory)."""
    here = Path.cwd()
    sys.path.insert(0, str(here))
    sys.path.insert(0, str(here / "bench"))
    import peak  # the peak shop's policy, from the checkout measured (it puts its own root first)

    from console.reception.model import Author
    from console.routing.events import Status
    from console.routing.policy import load_policy_toml
    from console.server.bot import Bot
    from console.server.conversations import ArriveAttrs
    from console.server.driver import EngineDriver
    from console.server.hub import Hub
    from console.server.shop import Shop
    from console.server.store import Store

    async def run(folder: Path) -> dict[str, Any]:
        text = peak.write_policy(folder, 500, 4).read_text(encoding="utf-8")
        policy = load_policy_toml(text)
        store = Store.open(folder / "data", synchronous="FULL")
        shop = Shop(store, Hub(store), EngineDriver(store), Bot.from_file())
        shop.start(policy, text)
        for spec in policy.agents:
            with shop.atomic():
                shop.set_status(spec.id, Status.ONLINE)
        buyers = [f"b{k:05d}" for k in range(2000)]
        for buyer in buyers:
            with shop.atomic():
                account = shop.directory.greet(buyer, f"买家{buyer}")
                row = shop.rows.ensure(account.id, account.name, account.kind)
                row.arrive = ArriveAttrs(entry="product_detail", product="p1")
                shop.rows.save(row)
                shop.arrive(row, row.arrive, quiet=True)
        await shop.committed()
        turns = iter(range(pairs))

        async def buyer_side(i: int) -> None:
            for k in turns:
                buyer = buyers[(i * 37 + k) % len(buyers)]
                with shop.atomic():
                    row = shop.rows.get(buyer)
                    assert row is not None
                    shop.buyer_says(row, "双十一的优惠今天还能用吗？", f"s|{buyer}|{k}")
                await shop.committed()
                with shop.atomic():
                    row = shop.rows.get(buyer)
                    assert row is not None and row.holder_agent is not None
                    shop.holder_says(row, Author.AGENT, "可以的，今天下单都有优惠。", agent=row.holder_agent,
                                     client_id=f"r|{buyer}|{k}")
                await shop.committed()

        first = store.all("SELECT IFNULL(MAX(rowid), 0) AS n FROM agent_events")[0]["n"]
        wall, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(buyer_side(i) for i in range(concurrency)))
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        # what the consoles were sent: each agent event is stored as the frame pushed (Hub.push)
        sent = store.all("SELECT COUNT(*) AS n, IFNULL(SUM(LENGTH(body)), 0) AS bytes FROM agent_events"
                         " WHERE rowid > ?", (first,))[0]
        store.close()
        import console

        return {"cpu_us_per_message": round(cpu / pairs * 1e6, 1), "wall_us_per_message": round(wall / pairs * 1e6, 1),
                "agent_events_per_message": round(sent["n"] / pairs, 2),
                "event_bytes_per_message": round(sent["bytes"] / pairs, 1),
                "code": str(Path(console.__file__).parents[1])}

    folder = Path(tempfile.mkdtemp(prefix="fenliu-shop-cpu-"))
    try:
        return asyncio.run(run(folder))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def measure(root: Path, pairs: int, concurrency: int) -> dict[str, Any]:
    """One round on the code of ``root``: run by that checkout's own environment (its ``.venv``,
    whose editable install is that checkout), else by this Python with ``root`` first on the path."""
    python = root / ".venv" / "bin" / "python"
    command = [str(python) if python.exists() else sys.executable, str(Path(__file__).resolve()), "--child",
               "--pairs", str(pairs), "--concurrency", str(concurrency)]
    env = dict(os.environ, PYTHONPATH=str(root))
    out = subprocess.run(command, env=env, cwd=root, capture_output=True, text=True, check=True)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--baseline", type=Path, required=False, help="a checkout to compare with (its console package)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pairs", type=int, default=6000, help="answered messages per round (default 6,000)")
    parser.add_argument("--concurrency", type=int, default=40)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.pairs, args.concurrency)))
        return 0
    sides = [("this", ROOT)] + ([("baseline", args.baseline.resolve())] if args.baseline else [])
    figures: dict[str, list[float]] = {name: [] for name, _ in sides}
    events: dict[str, float] = {}  # the same every round: agent events (and their bytes) per answered message
    sizes: dict[str, float] = {}
    for round_no in range(1, args.rounds + 1):
        for name, root in (sides if round_no % 2 else sides[::-1]):
            line = {"round": round_no, "side": name, **measure(root, args.pairs, args.concurrency)}
            figures[name].append(line["cpu_us_per_message"])
            events[name], sizes[name] = line["agent_events_per_message"], line["event_bytes_per_message"]
            print(json.dumps(line) if args.json else "  ".join(f"{k}={v}" for k, v in line.items()), flush=True)
    this = statistics.median(figures["this"])
    base = statistics.median(figures["baseline"]) if args.baseline else None
    print(json.dumps({"cpu_us_per_message": this, "baseline_cpu_us_per_message": base,
                      "ratio": round(this / base, 3) if base else None,
                      "agent_events_per_message": events["this"], "baseline_agent_events_per_message": events.get("baseline"),
                      "event_bytes_per_message": sizes["this"], "baseline_event_bytes_per_message": sizes.get("baseline"),
                      "load": round(os.getloadavg()[0], 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
