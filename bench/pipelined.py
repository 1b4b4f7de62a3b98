"""Gateway connections that send a burst of buyer messages without waiting, against another checkout (issue 9).

    .venv/bin/python bench/pipelined.py --json --baseline /work/wt/base9     # about a minute

An IM gateway speaks for a buyer on one connection; a buyer who types several lines quickly (or a
gateway catching up after a hiccup) sends them back to back. The server answers each ``say``
once the commit that holds it is durable. Since session 8 (answers.py) a connection's handler
reads the next frame while a commit is under way; before, it waited for each commit in turn, so a
burst of N messages on one connection took N commits. Measured: ``--buyers`` (20) connections,
each greeted and arrived (queued: the shop of ``bench/peak.py``, no agent online), then rounds in
which every connection sends ``--burst`` (20, inside the buyer burst limit) ``say`` at once and
reads its ``say_ack``: the time from a connection's first send to its last ack (p50 and max over
the connections, per round) and the server's CPU (``/proc``, user + system, in 10 ms ticks: keep
``--buyers`` x ``--burst`` near 1,000) per message.

Both servers run at once (``fenliu server``, SQLite ``synchronous=FULL``, pinned to core 0 where
the machine allows, the load generator on core 1); rounds alternate between them (``--rounds``
each), a pause between rounds lets the buyers' rate buckets refill. One JSON line per round, then::

    {"burst_p50_ms": x, "burst_p50_ms_base": x, "cpu_us_per_msg": x, "cpu_us_per_msg_base": x, "load": x}

(medians over the rounds).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

sys.path.insert(0, str(Path(__file__).resolve().parent))

from peak import can_pin, seed_accounts, start_server, write_policy  # noqa: E402
from push import Child  # noqa: E402


async def _request(conn: ClientConnection, frame: dict[str, Any]) -> dict[str, Any]:
    await conn.send(json.dumps(frame, ensure_ascii=False))
    while True:
        answer: dict[str, Any] = json.loads(await conn.recv())
        if answer.get("rid") == frame["rid"]:
            return answer


async def _buyers(child: Child, count: int, tag: str) -> list[ClientConnection]:
    conns = []
    for i in range(count):
        conn = await connect(f"ws://127.0.0.1:{child.port}/buyer", max_size=None, compression=None, ping_interval=None)
        assert (await _request(conn, {"type": "hello", "rid": "h", "buyer": f"{tag}{i}"}))["type"] == "ok"
        routed = await _request(conn, {"type": "arrive", "rid": "a", "entry": "product_detail"})
        assert routed["type"] == "routed", routed
        conns.append(conn)
    return conns


async def _burst(conn: ClientConnection, n: int, round_no: int) -> float:
    """Send ``n`` say at once; the milliseconds until the last ack."""
    start = time.perf_counter()
    rids = set()
    for k in range(n):
        rid = f"s{round_no}-{k}"
        rids.add(rid)
        await conn.send(json.dumps({"type": "say", "rid": rid, "text": f"第{k}句", "client_id": rid}, ensure_ascii=False))
    while rids:
        answer = json.loads(await conn.recv())
        if answer.get("rid") in rids:
            assert answer["type"] == "say_ack", answer
            rids.discard(answer["rid"])
    return (time.perf_counter() - start) * 1000


async def _round(child: Child, conns: list[ClientConnection], burst: int, round_no: int) -> dict[str, Any]:
    cpu = child.cpu()
    times = await asyncio.gather(*(_burst(conn, burst, round_no) for conn in conns))
    cpu = child.cpu() - cpu
    return {"burst_p50_ms": round(statistics.median(times), 1), "burst_max_ms": round(max(times), 1),
            "cpu_us_per_msg": round(cpu / (len(conns) * burst) * 1e6, 1)}


async def bench(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    pin = can_pin()
    if pin:
        os.sched_setaffinity(0, {1})
    policy_file = write_policy(folder, 10, 4)
    seed_accounts(folder / "data", policy_file)
    seed_accounts(folder / "data-base", policy_file)
    sides = {"": start_server(folder, policy_file, pin),
             "_base": start_server(folder, policy_file, pin, root=Path(args.baseline), data="data-base")}
    try:
        conns = {name: await _buyers(child, args.buyers, "b") for name, child in sides.items()}
        lines: dict[str, list[dict[str, Any]]] = {name: [] for name in sides}
        for r in range(args.rounds):
            for name, child in sides.items():
                await asyncio.sleep(args.burst / 20 + 0.2)  # the buyers' buckets refill (20 frames/s)
                line = await _round(child, conns[name], args.burst, r)
                lines[name].append(line)
                print(json.dumps({"round": r, "side": "server" + name, **line}), flush=True)
        summary: dict[str, Any] = {}
        for key in ("burst_p50_ms", "cpu_us_per_msg"):
            for name in sides:
                summary[key + name] = round(statistics.median(line[key] for line in lines[name]), 1)
        summary["load"] = round(os.getloadavg()[0], 2)
        return summary
    finally:
        for child in sides.values():
            child.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", metavar="DIR", required=True, help="the other checkout (its code, this Python)")
    parser.add_argument("--buyers", type=int, default=20, help="gateway connections (default 20)")
    parser.add_argument("--burst", type=int, default=20, help="say per connection per round, sent at once (default 20)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds per side (default 5)")
    parser.add_argument("--json", action="store_true", help="(the output is JSON lines either way)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="fenliu-pipelined-"))
    try:
        print(json.dumps(asyncio.run(bench(args, folder))), flush=True)
    finally:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
