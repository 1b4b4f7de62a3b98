"""Routing engine throughput and latency at shop sizes from 50 to 5,000 agents (issue 2).

    .venv/bin/python bench/routing.py --json

One JSON line per size: agents in {50, 500, 5000} x queued buyers in {0, 10000}. Each size
runs the same realistic mix on one core: new buyers (group matching by product), returning
buyers (recent contact, or their open session / queue place), buyers writing, agents replying,
and closes (which, with the queue on, dequeue the longest-waiting buyer). The queue is on
(shop mode, caps binding) for the queued sizes and off otherwise. Latency is per engine call
that made a decision. The first size is the baseline every line is compared with
(``vs_baseline``: decisions/s relative to it, measured in the same run).
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from console.routing.engine import Engine  # noqa: E402
from console.routing.events import Arrive, BuyerSay, Close, HolderReply, SetStatus, Status  # noqa: E402
from console.routing.policy import load_policy_dict  # noqa: E402

CAP = 5


def build(agents: int, queued: int) -> tuple[Engine, float, list[str]]:
    groups = max(1, agents // 10)
    policy = load_policy_dict({
        "preset": "taobao", "seed": 11,
        "queue": {"mode": "shop" if queued else "off"},
        "groups": [{"id": f"g{g}", "products": [f"p{g}"], "cap": CAP} for g in range(groups)],
        "agents": [{"id": f"a{i}", "level": 1 + i % 5, "groups": [f"g{i % groups}", f"g{(i * 7 + 3) % groups}"]}
                   for i in range(agents)],
    })
    now = 1_800_000_000.0
    engine = Engine(policy, start=now)
    for i in range(agents):
        engine.apply(SetStatus(agent=f"a{i}", status=Status.ONLINE), now)
    seen = []
    rng = random.Random(5)
    fill = agents * CAP + queued if queued else agents * 2
    for n in range(fill):  # every agent at its cap, then the queue
        buyer = f"w{n}"
        engine.apply(Arrive(buyer=buyer, product=f"p{rng.randrange(groups)}"), now)
        seen.append(buyer)
    return engine, now, seen


def run(agents: int, queued: int, operations: int) -> dict[str, float | int]:
    engine, now, seen = build(agents, queued)
    groups = max(1, agents // 10)
    rng = random.Random(agents * 31 + queued)
    latencies: list[int] = []
    decisions = 0
    busy_ns = 0
    fresh = 0
    gc.collect()
    for _ in range(operations):
        now += 0.01
        roll = rng.random()
        if roll < 0.4:
            fresh += 1
            buyer = f"n{fresh}"
            seen.append(buyer)
            event: object = Arrive(buyer=buyer, product=f"p{rng.randrange(groups)}")
        elif roll < 0.6:
            event = Arrive(buyer=seen[rng.randrange(len(seen))], product=f"p{rng.randrange(groups)}")
        elif roll < 0.8:
            agent = engine.agents[f"a{rng.randrange(agents)}"]
            if not agent.sessions:
                continue
            event = Close(buyer=next(iter(agent.sessions)))
        elif roll < 0.9:
            event = BuyerSay(buyer=seen[rng.randrange(len(seen))], text="在吗")
        else:
            event = HolderReply(buyer=seen[rng.randrange(len(seen))], text="您好")
        start = time.perf_counter_ns()
        out = engine.apply(event, now)  # type: ignore[arg-type]
        spent = time.perf_counter_ns() - start
        busy_ns += spent
        if out:
            decisions += len(out)
            latencies.append(spent)
    latencies.sort()
    return {
        "agents": agents, "groups": groups, "queued": queued,
        "queued_at_end": sum(p.length for p in engine.pools.values()),
        "operations": operations, "decisions": decisions,
        "decisions_per_s": round(decisions / (busy_ns / 1e9)),
        "p50_ms": round(statistics.median(latencies) / 1e6, 4),
        "p99_ms": round(latencies[int(len(latencies) * 0.99)] / 1e6, 4),
        "max_ms": round(latencies[-1] / 1e6, 4),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="one JSON line per size (default: a table)")
    parser.add_argument("--operations", type=int, default=30000, help="operations measured per size")
    args = parser.parse_args()
    baseline: float | None = None
    for agents in (50, 500, 5000):
        for queued in (0, 10000):
            row = run(agents, queued, args.operations)
            baseline = baseline or float(row["decisions_per_s"])
            row["vs_baseline"] = round(float(row["decisions_per_s"]) / baseline, 3)
            if args.json:
                print(json.dumps(row), flush=True)
            else:
                print("  ".join(f"{k}={v}" for k, v in row.items()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
