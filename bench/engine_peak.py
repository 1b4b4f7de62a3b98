"""What the routing engine spends on an arrive and a close in the peak shop (issue 9), against another checkout.

    .venv/bin/python bench/engine_peak.py --baseline /work/wt/base9        # 5 rounds, about a minute

The shop of ``bench/peak.py`` (``--agents`` agents, default 500, in one group capped at 4, queue on
for the shop), every agent online and at its cap: an ``arrive`` of a new buyer finds nobody who
can take it and joins the queue (R10.2); a ``close`` frees a slot that the head of the queue takes
at once (R9.3, R10.3); then ``--pairs`` answered messages (a ``BuyerSay`` and a ``HolderReply``,
round robin over the buyers in a session, 1,000 a second of the engine's clock) while a tenth of
the sessions stay silent after their agent's last word, as some always do (their idle close,
R9.2, is ten minutes out). That is the engine's work at an 11.11 peak. Figures: CPU time of the
engine's ``apply`` per input (``arrive_us``, ``close_us``) and per answered message
(``answered_us``; one process, one thread, nothing else running in it), the entries of the
engine's timer heap after the talk (``timer_entries``) and the size of its pickled snapshot
(``snapshot_kb``), for this checkout and for the one given with ``--baseline`` (its ``console``
imported in a child process of the same Python), alternated round by round. One JSON line per
round and side, then::

    {"arrive_us": x, "baseline_arrive_us": x, "arrive_us_ratio": x, "close_us": x, ..., "load": x}

(medians over the rounds).
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def child(agents: int, arrivals: int, pairs: int) -> dict[str, Any]:
    """Run in a process whose ``console`` is the checkout measured (first on the path)."""
    from console.routing.engine import Engine  # first: ``peak`` puts its own checkout first on the path
    from console.routing.events import Arrive, BuyerSay, Close, HolderReply, SetStatus, Status
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
    # Talk: the buyers in a session write and are answered, round robin, one answered message a
    # millisecond of the engine's clock (1,000/s), while a tenth of them stay silent after their
    # agent's last word (their idle close, R9.2, is 10 minutes out): ``pairs`` answered messages.
    held = [b for b in (f"queued{k}" for k in range(closes)) if engine.session(b) is not None]
    talking = [b for i, b in enumerate(held) if i % 10]
    for i, buyer in enumerate(held):
        if not i % 10:
            engine.apply(HolderReply(buyer=buyer), 5.0)
    clock = 5.0
    started = time.thread_time()
    for k in range(pairs):
        buyer = talking[k % len(talking)]
        clock += 0.0005
        engine.apply(BuyerSay(buyer=buyer, text="还有货吗"), clock)
        clock += 0.0005
        engine.apply(HolderReply(buyer=buyer), clock)
    talk = time.thread_time() - started
    snapshot = len(pickle.dumps(engine, protocol=pickle.HIGHEST_PROTOCOL))
    import console

    return {"arrive_us": round(arrive / arrivals * 1e6, 2), "close_us": round(close / closes * 1e6, 2),
            "answered_us": round(talk / pairs * 1e6, 2), "timer_entries": len(engine._timers),
            "snapshot_kb": round(snapshot / 1024), "code": str(Path(console.__file__).parents[1])}


def measure(root: Path, agents: int, arrivals: int, pairs: int) -> dict[str, Any]:
    command = [sys.executable, str(Path(__file__).resolve()), "--child", "--agents", str(agents),
               "--arrivals", str(arrivals), "--pairs", str(pairs)]
    out = subprocess.run(command, env=dict(os.environ, PYTHONPATH=str(root)), cwd=root, capture_output=True,
                         text=True, check=True)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, help="a checkout to compare with (its console package)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--agents", type=int, default=500)
    parser.add_argument("--arrivals", type=int, default=10_000, help="queued arrivals per round (default 10,000)")
    parser.add_argument("--pairs", type=int, default=100_000,
                        help="answered messages of the talk phase per round (default 100,000: 100 s of a 1,000/s peak)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.agents, args.arrivals, args.pairs)))
        return 0
    sides = [("this", ROOT)] + ([("baseline", args.baseline.resolve())] if args.baseline else [])
    lines: dict[str, list[dict[str, Any]]] = {name: [] for name, _ in sides}
    for round_no in range(1, args.rounds + 1):
        for name, root in (sides if round_no % 2 else sides[::-1]):
            line = {"round": round_no, "side": name, **measure(root, args.agents, args.arrivals, args.pairs)}
            lines[name].append(line)
            print(json.dumps(line), flush=True)
    summary: dict[str, Any] = {"agents": args.agents}
    for key in ("arrive_us", "close_us", "answered_us", "timer_entries", "snapshot_kb"):
        this = statistics.median(line[key] for line in lines["this"])
        summary[key] = this
        if args.baseline:
            base = statistics.median(line[key] for line in lines["baseline"])
            summary[f"baseline_{key}"] = base
            summary[f"{key}_ratio"] = round(this / base, 3) if base else None
    summary["load"] = round(os.getloadavg()[0], 1)
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
