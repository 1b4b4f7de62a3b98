"""Server restart time after a busy day: the whole engine log replayed vs. a snapshot plus its tail.

    .venv/bin/python bench/restart.py --json [--inputs 200000]

Builds a data folder whose engine log holds ``--inputs`` routing inputs (200 agents, buyers
arriving, writing, answered and closed), then times ``EngineDriver.restore`` twice in the same
run: with the snapshots deleted (the baseline: every input applied again) and with them (the
newest snapshot loaded, the inputs after it applied). One JSON line per way. Also what a
snapshot costs: written inline (a clean stop) and in the background (the event loop pays only
for the fork; a child process pickles).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from console.routing.events import Arrive, BuyerSay, Close, HolderReply, SetStatus, Status  # noqa: E402
from console.routing.policy import load_policy_toml  # noqa: E402
from console.server import driver as driver_module  # noqa: E402
from console.server.driver import EngineDriver  # noqa: E402
from console.server.store import Store  # noqa: E402

AGENTS = 200


def policy_text() -> str:
    groups = "\n".join(f'[[groups]]\nid = "g{g}"\nproducts = ["p{g}"]\ncap = 8\n' for g in range(20))
    agents = "\n".join(f'[[agents]]\nid = "a{i}"\ngroups = ["g{i % 20}"]\n' for i in range(AGENTS))
    return f'preset = "douyin"\nseed = 3\n{groups}\n{agents}'


def build(folder: Path, inputs: int) -> tuple[float, int]:
    text = policy_text()
    store = Store.open(folder, synchronous="OFF")
    clock = iter(range(1_800_000_000, 1_900_000_000)).__next__
    driver = EngineDriver(store, clock=lambda: float(clock()))
    driver.restore(load_policy_toml(text), text)
    for i in range(AGENTS):
        driver.apply(SetStatus(agent=f"a{i}", status=Status.ONLINE))
    rng = random.Random(1)
    open_buyers: list[str] = []
    n = 0
    while n < inputs - AGENTS - 1:  # the policy and the statuses are logged too
        roll = rng.random()
        if roll < 0.35 or not open_buyers:
            buyer = f"b{n}"
            driver.apply(Arrive(buyer=buyer, product=f"p{rng.randrange(20)}"))
            open_buyers.append(buyer)
        elif roll < 0.6:
            driver.apply(BuyerSay(buyer=rng.choice(open_buyers), text="在吗"))
        elif roll < 0.8:
            driver.apply(HolderReply(buyer=rng.choice(open_buyers), text="您好"))
        else:
            driver.apply(Close(buyer=open_buyers.pop(rng.randrange(len(open_buyers)))))
        n += 1
        if n % 2000 == 0:
            store.flush()
    started = time.perf_counter()
    driver.snapshot()  # written here, as at a clean stop (the background one forks instead)
    took = time.perf_counter() - started
    size = max((folder / "snapshots").glob("*.pickle")).stat().st_size
    store.close()
    return took, int(size)


def timed_background_snapshot(folder: Path) -> float | None:
    """What the event loop pays for a periodic snapshot: the fork (the child does the pickling)."""
    import asyncio
    import os

    if not hasattr(os, "fork"):
        return None
    store = Store.open(folder)
    driver = EngineDriver(store)
    text = policy_text()
    driver.restore(load_policy_toml(text), text)

    async def fork_once() -> float:
        started = time.perf_counter()
        driver.snapshot(background=True)
        spent = time.perf_counter() - started
        assert driver._child is not None  # noqa: SLF001
        await driver._child  # noqa: SLF001
        return spent

    spent = asyncio.run(fork_once())
    store.close()
    return spent


def timed_restore(folder: Path) -> tuple[float, int]:
    store = Store.open(folder)
    driver = EngineDriver(store)
    text = policy_text()
    started = time.perf_counter()
    replayed = driver.restore(load_policy_toml(text), text)
    spent = time.perf_counter() - started
    store.close()
    return spent, replayed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--inputs", type=int, default=200_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fenliu-restart-") as tmp:
        folder = Path(tmp)
        snapshot_s, snapshot_bytes = build(folder, args.inputs)
        logged = Store.open(folder)
        total = logged.one("SELECT COUNT(*) AS n FROM engine_log")["n"]
        logged.close()
        snapshots = len(list((folder / "snapshots").glob("*.pickle")))
        fork_s = timed_background_snapshot(folder)
        with_snapshot, tail = timed_restore(folder)
        for file in (folder / "snapshots").glob("*.pickle"):
            file.unlink()
        baseline, everything = timed_restore(folder)
    rows = [
        {"way": "whole log (baseline)", "logged_inputs": total, "replayed": everything, "restore_s": round(baseline, 3)},
        {"way": "snapshot + tail", "logged_inputs": total, "snapshots": snapshots, "replayed": tail,
         "restore_s": round(with_snapshot, 3), "vs_baseline": round(with_snapshot / baseline, 3),
         "snapshot_every": driver_module.SNAPSHOT_EVERY, "snapshot_inline_s": round(snapshot_s, 3),
         "snapshot_background_loop_s": None if fork_s is None else round(fork_s, 4),
         "snapshot_bytes": snapshot_bytes},
    ]
    for row in rows:
        print(json.dumps(row) if args.json else "  ".join(f"{k}={v}" for k, v in row.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
