"""R8.7 across processes: the same scenario gives the same output whatever Python's hash seed.

Sets and frozensets of strings iterate in an order that changes with ``PYTHONHASHSEED``; a
replay (and the engine state behind it: the order of its pools) must not depend on that. The
two runs happen in separate processes, as a supervisor's two runs of ``fenliu replay`` would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO_ROOT

SCENARIOS = REPO_ROOT / "tests" / "scenarios"
# several queuing groups, overflow, a shop pool, picks with ties: where an order could leak in
FILES = ["16_overflow_on.json", "18_queue_groups_mode.json", "19_longest_wait_across_pools.json",
         "20_shortest_queue.json", "47_longest_wait_shop_pool.json", "55_same_instant_order.json",
         "57_no_group_never_capped.json"]

_SCRIPT = """
import json, sys
from console.sim.replay import Replay
from console.sim.scenario import load_scenario
for name in sys.argv[1:]:
    replay = Replay(load_scenario(json.loads(open(name, encoding="utf-8").read())))
    for line in replay.run():
        print(json.dumps(line.as_json(), ensure_ascii=False, sort_keys=True))
    print([(q.pool, q.length) for q in replay.engine.queues()])
"""


# three queuing groups and overflow: their pools' order came from a frozenset
THREE_POOLS = {
    "name": "three queuing groups, overflow", "rules": ["R10.6"], "start": "2026-11-11T09:00:00+08:00",
    "shop": {"preset": "douyin", "seed": 3, "queue": {"overflow": True},
             "groups": [{"id": "presale", "cap": 1, "products": ["p1"]}, {"id": "aftersale", "cap": 1, "products": ["p2"]},
                        {"id": "live", "cap": 1, "products": ["p3"]}],
             "agents": [{"id": "a1", "groups": ["presale"]}, {"id": "a2", "groups": ["aftersale", "live"]}]},
    "steps": [{"t": 0, "do": "status", "agent": "a1", "status": "online"},
              {"t": 0, "do": "status", "agent": "a2", "status": "online"},
              *({"t": f"{i}s", "do": "arrive", "buyer": f"b{i}", "product": f"p{i % 3 + 1}"} for i in range(12)),
              {"t": "1m", "do": "close", "buyer": "b0"}, {"t": "1m", "do": "close", "buyer": "b1"}],
}


def _run(hash_seed: str, extra: Path) -> str:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    files = [str(SCENARIOS / f) for f in FILES] + [str(extra)]
    result = subprocess.run([sys.executable, "-c", _SCRIPT, *files],
                            capture_output=True, text=True, env=env, cwd=REPO_ROOT, check=True, timeout=120)
    return result.stdout


def test_replays_agree_across_hash_seeds(tmp_path: Path) -> None:
    extra = tmp_path / "three_pools.json"
    extra.write_text(json.dumps(THREE_POOLS, ensure_ascii=False), encoding="utf-8")
    first, second = _run("1", extra), _run("3", extra)  # 1 and 3 iterate those three ids differently
    assert first.count("\n") > 50
    assert first == second
