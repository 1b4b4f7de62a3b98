"""Routing engine cost per kind of input, at 500 and 5,000 agents with 10,000 buyers queued (issue 11).

    .venv/bin/python bench/routing.py --json

One JSON line per size and kind (``inputs_per_s`` from the CPU time the engine used, one core;
``p99_ms`` and ``max_ms`` from the wall clock, per input, so a pause of any kind counts):

    {"agents": N, "queued": N, "kind": "...", "inputs_per_s": x, "p99_ms": x, "max_ms": x,
     "baseline_inputs_per_s": x}

The shop: agents / 10 groups, each bound to one product; queue mode ``groups`` with the even
groups queuing, so half the agents are capped (cap 5, every one at its cap, 10,000 buyers waiting
in their pools) and half are not (their groups route without a queue). Kinds, each an input the
server gives the engine, timed one by one (``inputs_per_s`` = inputs / CPU time spent in
``Engine.apply``; a close that dequeues is one input, not two decisions):

- ``arrive_routed``: a new buyer through the full path (R5, R4, R6, R7, group matching, an R8.1
  pick among the group's agents) ending with an agent;
- ``arrive_queued``: a new buyer for a full queuing group: the same path ending in R10.2's queue;
- ``rearrive``: a buyer with an open session or a queue place arrives again (R9.1, a queue
  position for queued ones);
- ``close_dequeue``: a capped agent closes a session and its freed slot takes the longest-waiting
  buyer of its pools (R9.3, R10.3);
- ``status``: an agent is suspended, or comes back online (R10.3 looks for buyers to take).

The baseline is a bare router doing the least any router must for the same input (a dict of
sessions, a FIFO per pool, a round-robin agent), measured interleaved with the engine in blocks
of ``BLOCK`` inputs, so both see the same machine (its CPU time is taken per block, the
engine's per input: the engine's figure carries two clock reads an input more). The garbage collector stays on: its pauses
land in ``max_ms`` (stderr says how many generation-2 passes ran and the longest). The queue
stays at 10,000: each queued arrival is followed by an untimed close, each close by an untimed
queued arrival. The collector is held off outside the timed calls, so that every pass it
makes (with the allocations of the untimed work counted) lands on a timed input.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import sys
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from console.routing.engine import Engine  # noqa: E402
from console.routing.events import AnyEvent, Arrive, Close, SetStatus, Status  # noqa: E402
from console.routing.policy import load_policy_dict  # noqa: E402

CAP = 5
BLOCK = 250
KINDS = ("arrive_routed", "arrive_queued", "rearrive", "close_dequeue", "status")


class Shop:
    """The engine at one size, and a way to make the next input of each kind."""

    def __init__(self, agents: int, queued: int, seed: int) -> None:
        self.groups = max(2, agents // 10)
        half = self.groups // 2
        queuing = [f"g{2 * k}" for k in range(half)]
        plain = [f"g{2 * k + 1}" for k in range(half)]
        specs = []
        for i in range(agents):
            pair = queuing if i % 2 == 0 else plain  # capped agents only in queuing groups
            k = i // 2
            specs.append({"id": f"a{i}", "level": 1 + i % 5, "cap": CAP,
                          "groups": list(dict.fromkeys([pair[k % half], pair[(k * 7 + 3) % half]]))})
        policy = load_policy_dict({
            "preset": "taobao", "seed": 11,
            "queue": {"mode": "groups", "groups": queuing},
            "groups": [{"id": f"g{g}", "products": [f"p{g}"], "cap": CAP} for g in range(self.groups)],
            "agents": specs,
        })
        self.now = 1_800_000_000.0
        self.engine = Engine(policy, start=self.now)
        self.rng = random.Random(seed)
        self.queuing_products = [f"p{2 * k}" for k in range(half)]
        self.plain_products = [f"p{2 * k + 1}" for k in range(half)]
        self.capped = [f"a{i}" for i in range(0, agents, 2)]
        self.everyone = [f"a{i}" for i in range(agents)]
        self.fresh = 0
        for agent in self.everyone:
            self.engine.apply(SetStatus(agent=agent, status=Status.ONLINE), self.now)
        for _ in range(len(self.capped) * CAP + queued):  # every capped agent at its cap, then the queue
            self.engine.apply(self._new(self.queuing_products), self.now)
        for _ in range(len(self.everyone) - len(self.capped)):  # some load on the uncapped ones
            self.engine.apply(self._new(self.plain_products), self.now)

    def refill(self, kind: str) -> None:
        """Undo what an input did to the queue, so every input meets 10,000 queued: a queued
        arrival is followed by a close that dequeues, a close by a queued arrival. Untimed."""
        if kind == "arrive_queued":
            self.engine.apply(self.next_input("close_dequeue"), self.now)
        elif kind == "close_dequeue":
            self.engine.apply(self.next_input("arrive_queued"), self.now)

    def queued(self) -> int:
        return sum(p.length for p in self.engine.pools.values())

    def _new(self, products: list[str]) -> Arrive:
        self.fresh += 1
        return Arrive(buyer=f"n{self.fresh}", product=products[self.rng.randrange(len(products))])

    def next_input(self, kind: str) -> AnyEvent:
        self.now += 0.01
        if kind == "arrive_routed":
            return self._new(self.plain_products)
        if kind == "arrive_queued":
            return self._new(self.queuing_products)
        if kind == "rearrive":
            buyers = self.engine.buyers
            while True:  # a buyer holding a session or a queue place
                buyer = f"n{self.rng.randrange(1, self.fresh + 1)}"
                state = buyers.get(buyer)
                if state is not None and state.session is not None:
                    return Arrive(buyer=buyer, product=self.queuing_products[0])
        if kind == "close_dequeue":
            while True:
                agent = self.engine.agents[self.capped[self.rng.randrange(len(self.capped))]]
                if agent.sessions:
                    return Close(buyer=next(iter(agent.sessions)))
        agent = self.engine.agents[self.everyone[self.rng.randrange(len(self.everyone))]]
        status = Status.ONLINE if agent.status is Status.SUSPENDED else Status.SUSPENDED
        return SetStatus(agent=agent.id, status=status)


class BareRouter:
    """The baseline: the least work a router does for each kind of input, with plain containers."""

    def __init__(self, agents: int, queued: int) -> None:
        self.agents = [f"a{i}" for i in range(agents)]
        self.status = dict.fromkeys(self.agents, "online")
        self.load = dict.fromkeys(self.agents, CAP)
        self.holder: dict[str, str] = {}
        self.queue: deque[str] = deque(f"q{i}" for i in range(queued))
        self.place = {b: i for i, b in enumerate(self.queue)}
        self.next_agent = 0
        self.fresh = 0
        for i, agent in enumerate(self.agents * CAP):
            self.holder[f"h{i}"] = agent
        self.held: deque[str] = deque(self.holder)  # who to close next, oldest first

    def arrive_routed(self) -> None:
        self.fresh += 1
        agent = self.agents[self.next_agent]
        self.next_agent = (self.next_agent + 1) % len(self.agents)
        self.holder[f"n{self.fresh}"] = agent
        self.load[agent] += 1

    def arrive_queued(self) -> None:
        self.fresh += 1
        buyer = f"n{self.fresh}"
        self.queue.append(buyer)
        self.place[buyer] = len(self.queue)

    def rearrive(self) -> None:
        _ = self.holder.get("h1") or self.place.get("q1")

    def close_dequeue(self) -> None:
        buyer = self.held.popleft()
        agent = self.holder.pop(buyer)
        self.load[agent] -= 1
        taken = self.queue.popleft()
        self.place.pop(taken, None)
        self.holder[taken] = agent
        self.held.append(taken)
        self.load[agent] += 1

    def status_change(self) -> None:
        agent = self.agents[self.next_agent]
        self.next_agent = (self.next_agent + 1) % len(self.agents)
        self.status[agent] = "suspended" if self.status[agent] == "online" else "online"


class GcWatch:
    """Counts generation-2 collections and the longest collector pause while measuring."""

    def __init__(self) -> None:
        self.full = 0
        self.longest_ms = 0.0
        self._start = 0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._start = time.perf_counter_ns()
            return
        self.longest_ms = max(self.longest_ms, (time.perf_counter_ns() - self._start) / 1e6)
        if info.get("generation") == 2:
            self.full += 1


def measure(agents: int, queued: int, kind: str, inputs: int, watch: GcWatch) -> dict[str, Any]:
    shop = Shop(agents, queued, seed=agents + KINDS.index(kind))
    bare = BareRouter(agents, queued + inputs)
    bare_step: Callable[[], None] = getattr(bare, "status_change" if kind == "status" else kind)
    latencies: list[int] = []
    cpu_ns = bare_ns = 0
    gc.collect()
    watch.full, watch.longest_ms = 0, 0.0
    apply, clock, cpu = shop.engine.apply, time.perf_counter_ns, time.process_time_ns
    done = 0
    gc.disable()  # on only inside the timed calls: every collection lands on a timed input
    while done < inputs:
        block = min(BLOCK, inputs - done)
        for _ in range(block):
            event = shop.next_input(kind)
            now = shop.now
            used = cpu()
            start = clock()
            gc.enable()
            apply(event, now)
            gc.disable()
            latencies.append(clock() - start)
            cpu_ns += cpu() - used
            shop.refill(kind)
        used = cpu()
        for _ in range(block):
            bare_step()
        bare_ns += cpu() - used
        done += block
    gc.enable()
    latencies.sort()
    print(f"  {agents} agents, {kind}: {shop.queued()} queued at the end, {watch.full} full collections, "
          f"longest collector pause {watch.longest_ms:.2f} ms", file=sys.stderr, flush=True)
    return {"agents": agents, "queued": queued, "kind": kind,
            "inputs_per_s": round(inputs / (cpu_ns / 1e9)),
            "p99_ms": round(latencies[int(len(latencies) * 0.99)] / 1e6, 4),
            "max_ms": round(latencies[-1] / 1e6, 4),
            "baseline_inputs_per_s": round(inputs / (bare_ns / 1e9))}


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--json", action="store_true", help="one JSON line per size and kind (default: a table)")
    parser.add_argument("--inputs", type=int, default=20_000,
                        help="inputs measured per size and kind (enough for generation-2 collections to run)")
    parser.add_argument("--agents", type=int, nargs="*", default=[500, 5000])
    parser.add_argument("--queued", type=int, default=10_000)
    args = parser.parse_args()
    watch = GcWatch()
    gc.callbacks.append(watch)
    for agents in args.agents:
        for kind in KINDS:
            row = measure(agents, args.queued, kind, args.inputs, watch)
            if args.json:
                print(json.dumps(row), flush=True)
            else:
                print("  ".join(f"{k}={v}" for k, v in row.items()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
