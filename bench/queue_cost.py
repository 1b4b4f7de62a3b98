"""What an arrive and a close cost with a long queue, through the server (issue 9, R10.4/R10.5).

    .venv/bin/python bench/queue_cost.py                 # 0, 1,000 and 10,000 queued
    .venv/bin/python bench/queue_cost.py --queued 0 1000 # a quicker run

A real server on port 0 (in this process, SQLite in WAL mode with ``synchronous=FULL``) and real
websocket clients: ``--agents`` agents (10, cap 5 each: 50 slots) online in one queuing group,
every slot taken, then N buyers queued (connected, ``hello``, ``arrive``, disconnected: their
place stays, R10.7). Measured, per operation, from the request written to its answer read:

- ``arrive``: a new buyer joins at the back of the queue (its ``routed`` answer);
- ``close``: an agent closes a session, the freed slot takes the head of the queue (R9.3).

``updates_per_close`` is how many queue position updates the server produced per close (the
buyers whose estimated wait or tip changed, coalesced to one a second each), counted at the hub.
``*_cpu_ms`` is this process's CPU time per operation (server and client share it; the client's
part is the same at every length), steadier than wall time on a shared machine. With nothing
queued a close frees a slot that nobody takes; from 1 queued on it dequeues (R9.3).
One JSON line per queue length, then a summary line with the ratios to the first length.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from console.protocol.messages import Arrive, BuyerHello, CloseSession, Ok, Routed, SetStatus  # noqa: E402
from console.routing.events import Status  # noqa: E402
from tests.server.helpers import Client, running_server  # noqa: E402


def policy(agents: int) -> str:
    text = """
preset = "douyin"
seed = 3
disconnect_grace = "1h"

[session]
close_after = "12h"

[queue]
mode = "shop"
avg_handle = "2m"
tip_threshold = 20

[[groups]]
id = "presale"
cap = 5
"""
    for i in range(agents):
        text += f'\n[[agents]]\nid = "a{i}"\nname = "客服{i}"\ngroups = ["presale"]\n'
    return text


async def arrive(server: Any, buyer: str) -> tuple[Routed, float, float]:
    client = await Client.buyer(server)
    try:
        assert isinstance(await client.request(BuyerHello(buyer=buyer, name=buyer)), Ok)
        start, cpu = time.perf_counter(), time.process_time()
        routed = await client.request(Arrive())
        elapsed, used = time.perf_counter() - start, time.process_time() - cpu
    finally:
        await client.close()
    return routed, elapsed, used


async def measure(folder: Path, queued: int, agents: int, ops: int) -> dict[str, Any]:
    async with running_server(folder, policy=policy(agents)) as server:
        produced = 0
        hub = server.shop.hub  # type: ignore[union-attr]
        send = hub.to_buyer

        def counting(buyer: str, message: Any) -> None:
            nonlocal produced
            if type(message).__name__ == "QueueUpdate":
                produced += 1
            send(buyer, message)

        teller = getattr(server.shop, "queue", None)
        if teller is not None:
            teller._send = counting
        else:  # the code before issue 9 (for a baseline): every push goes through the hub
            hub.to_buyer = counting
        consoles = {}
        for i in range(agents):
            client = await Client.agent(server)
            await client.login(f"a{i}")
            assert isinstance(await client.request(SetStatus(status=Status.ONLINE)), Ok)
            consoles[f"客服{i}"] = client
        held: list[tuple[str, str]] = []  # (agent name, buyer) in routing order
        n = 0
        for _ in range(agents * 5):  # every slot taken
            n += 1
            routed, _, _ = await arrive(server, f"h{n}")
            assert routed.to == "agent", routed
            held.append((routed.name or "", f"h{n}"))
        for start in range(0, queued, 100):  # fill the queue, 100 connections at a time
            batch = [arrive(server, f"q{i}") for i in range(start, min(queued, start + 100))]
            for routed, _, _ in await asyncio.gather(*batch):
                assert routed.to == "queue", routed
        arrive_s, arrive_cpu = [], []
        for i in range(ops):
            routed, elapsed, used = await arrive(server, f"x{i}")
            assert routed.to == "queue" and routed.position == queued + i + 1, routed
            arrive_s.append(elapsed)
            arrive_cpu.append(used)
        produced = 0
        close_s, close_cpu = [], []
        for _ in range(ops):
            name, buyer = held.pop(0)
            start_t, cpu = time.perf_counter(), time.process_time()
            answer = await consoles[name].request(CloseSession(conversation=buyer))
            close_s.append(time.perf_counter() - start_t)
            close_cpu.append(time.process_time() - cpu)
            assert isinstance(answer, Ok), answer
            consoles[name].inbox.clear()
        await asyncio.sleep(1.2)  # let the coalesced position updates of the last second go out
        for client in consoles.values():
            await client.close()
    return {
        "queued": queued,
        "arrive_ms": round(statistics.median(arrive_s) * 1000, 3),
        "arrive_max_ms": round(max(arrive_s) * 1000, 3),
        "close_ms": round(statistics.median(close_s) * 1000, 3),
        "close_max_ms": round(max(close_s) * 1000, 3),
        "arrive_cpu_ms": round(statistics.median(arrive_cpu) * 1000, 3),
        "close_cpu_ms": round(statistics.median(close_cpu) * 1000, 3),
        "updates_per_close": round(produced / ops, 2),
    }


async def main(args: argparse.Namespace) -> None:
    results = []
    for queued in args.queued:
        with tempfile.TemporaryDirectory() as tmp:
            result = await measure(Path(tmp), queued, args.agents, args.ops)
        results.append(result)
        print(json.dumps(result), flush=True)
    base = results[0]
    print(json.dumps({
        "arrive_ratio": {r["queued"]: round(r["arrive_ms"] / base["arrive_ms"], 2) for r in results},
        "close_ratio": {r["queued"]: round(r["close_ms"] / base["close_ms"], 2) for r in results},
        "arrive_cpu_ratio": {r["queued"]: round(r["arrive_cpu_ms"] / base["arrive_cpu_ms"], 2) for r in results},
        "close_cpu_ratio": {r["queued"]: round(r["close_cpu_ms"] / base["close_cpu_ms"], 2) for r in results},
    }))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queued", type=int, nargs="+", default=[0, 1000, 10000])
    parser.add_argument("--agents", type=int, default=10)
    parser.add_argument("--ops", type=int, default=40, help="arrives and closes measured per queue length (at most 5 x agents)")
    asyncio.run(main(parser.parse_args()))
