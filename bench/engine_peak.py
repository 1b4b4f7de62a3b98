"""What the routing engine spends on an arrive and a close in the peak shop (issue 9), against another checkout.

    .venv/bin/python bench/engine_peak.py --baseline /work/wt/base9        # 5 rounds, about 30 s

The shop of ``bench/peak.py`` (``--agents`` agents, default 500, in one group capped at 4, queue on
for the shop), every agent online and at its cap: an ``arrive`` of a new buyer finds nobody who
can take it and joins the queue (R10.2); a ``close`` frees a slot that the head of the queue takes
at once (R9.3, R10.3). That is the engine's work at an 11.11 peak. Figures: CPU time of the
engine's ``apply`` per input (one process, one thread, nothing else running in it), for this
checkout and for the one given with ``--baseline`` (its ``console`` imported in a child process of
the same Python), alternated round by round. One JSON line per round and side, then::

    {"arrive_us": x, "baseline_arrive_us": x, "arrive_ratio": x, "close_us": x, ...,  "load": x}

(medians over the rounds).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def child(agents: int, arrivals: int) -> dict[str, Any]:
    """Run in a process whose ``console`` is the checkout measured (first on the path)."""
    from console.routing.engine import Engine  # first: ``peak`` puts its own checkout first on the path
    from console.routing.events import Arrive, Close, SetStatus, Status
    from console.routing.policy import load_policy_toml

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import peak  # the peak shop's policy (bench/peak.py of this checkout: the same shop on both sides)

    text = peak.write_policy(Path(tempfile.mkdtemp(prefix="fenliu-engine-peak-")), agents, 4).read_text(encoding="utf-8")
    engine = Engine(load_policy_toml(text), 1.0)
    for spec in engine.policy.agents:
        engine.apply(SetStatus(agent=spec.id, status=Status.ONLINE), 1.0)
    for k in range(agents * 4):  # every slot taken
        engine.apply(Arrive(buyer=f"held{k}"), 2.0)
    started = time.thread_time()
    for k in range(arrivals):
        engine.apply(Arrive(buyer=f"queued{k}"), 3.0)
    arrive = time.thread_time() - started
    closes = min(arrivals, agents * 4)
    started = time.thread_time()
    for k in range(closes):
        engine.apply(Close(buyer=f"held{k}"), 4.0)
    close = time.thread_time() - started
    import console

    return {"arrive_us": round(arrive / arrivals * 1e6, 2), "close_us": round(close / closes * 1e6, 2),
            "code": str(Path(console.__file__).parents[1])}


def measure(root: Path, agents: int, arrivals: int) -> dict[str, Any]:
    command = [sys.executable, str(Path(__file__).resolve()), "--child", "--agents", str(agents),
               "--arrivals", str(arrivals)]
    out = subprocess.run(command, env=dict(os.environ, PYTHONPATH=str(root)), cwd=root, capture_output=True,
                         text=True, check=True)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, help="a checkout to compare with (its console package)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--agents", type=int, default=500)
    parser.add_argument("--arrivals", type=int, default=10_000, help="queued arrivals per round (default 10,000)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.agents, args.arrivals)))
        return 0
    sides = [("this", ROOT)] + ([("baseline", args.baseline.resolve())] if args.baseline else [])
    lines: dict[str, list[dict[str, Any]]] = {name: [] for name, _ in sides}
    for round_no in range(1, args.rounds + 1):
        for name, root in (sides if round_no % 2 else sides[::-1]):
            line = {"round": round_no, "side": name, **measure(root, args.agents, args.arrivals)}
            lines[name].append(line)
            print(json.dumps(line), flush=True)
    summary: dict[str, Any] = {"agents": args.agents}
    for key in ("arrive_us", "close_us"):
        this = statistics.median(line[key] for line in lines["this"])
        summary[key] = this
        if args.baseline:
            base = statistics.median(line[key] for line in lines["baseline"])
            summary[f"baseline_{key}"] = base
            summary[key.replace("_us", "_ratio")] = round(this / base, 3)
    summary["load"] = round(os.getloadavg()[0], 1)
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
