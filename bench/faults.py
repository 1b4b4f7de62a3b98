"""Fault injection against the real routing server, long runs: kills, drops, stuck consoles, lost agents, midnight.

    .venv/bin/python bench/faults.py --json            # the full run (50 kills, 1,000 drops, ...)
    .venv/bin/python bench/faults.py --json --quick    # the same kinds of fault, fewer of them
    .venv/bin/python bench/faults.py --only crash      # one scenario

A thin command over the fault harness (``tests/faults``): the reliability tests
(``tests/reliability``) run the same scenario functions with a handful of faults inside
``make test``; this runs them with many. Each scenario prints one JSON line of figures
(docs/RELIABILITY.md explains each figure and the guarantee it checks); the process exits 1 when
a figure that must be 0 is not.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.faults import MUST_BE_ZERO, crash, disconnects, midnight, stuck, vanish  # noqa: E402

# The long runs: each scenario with many faults (--quick: fewer).
SCENARIOS: dict[str, Callable[[Path, bool], Coroutine[Any, Any, dict[str, Any]]]] = {}


def scenario(name: str) -> Callable[[Callable[[Path, bool], Coroutine[Any, Any, dict[str, Any]]]],
                                     Callable[[Path, bool], Coroutine[Any, Any, dict[str, Any]]]]:
    def register(fn: Callable[[Path, bool], Coroutine[Any, Any, dict[str, Any]]]) -> Any:
        SCENARIOS[name] = fn
        return fn
    return register


@scenario("crash")
async def _crash(folder: Path, quick: bool) -> dict[str, Any]:
    figures = await crash(folder, kills=5 if quick else 50)
    return figures.line()


@scenario("disconnects")
async def _disconnects(folder: Path, quick: bool) -> dict[str, Any]:
    figures = await disconnects(folder, drops=100 if quick else 1000)
    return figures.line()


@scenario("stuck")
async def _stuck(folder: Path, quick: bool) -> dict[str, Any]:
    figures = await stuck(folder, phase=3.0 if quick else 8.0)
    return figures.line()


@scenario("vanish")
async def _vanish(folder: Path, quick: bool) -> dict[str, Any]:
    silent = await vanish(folder / "silent", how="silent")
    reset = await vanish(folder / "reset", how="reset")
    line = silent.line()
    line["reset"] = {k: v for k, v in reset.line().items() if k not in ("how", "problems")}
    for key in ("stuck_buyers", "wrongly_moved", "server_tracebacks"):
        line[key] += reset.line()[key]
    line["problems"] += reset.problems[:5]
    return line


@scenario("midnight")
async def _midnight(folder: Path, quick: bool) -> dict[str, Any]:
    return (await midnight(folder)).line()


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="one JSON line per scenario")
    parser.add_argument("--quick", action="store_true", help="fewer faults of each kind")
    parser.add_argument("--only", action="append", choices=sorted(SCENARIOS), help="run only these scenarios")
    args = parser.parse_args(argv)
    failed = False
    for name, fn in SCENARIOS.items():
        if args.only and name not in args.only:
            continue
        with tempfile.TemporaryDirectory(prefix=f"fenliu-{name}-") as tmp:
            figures = asyncio.run(fn(Path(tmp), args.quick))
        line = {"scenario": name, "quick": args.quick, **figures}
        bad = [k for k in MUST_BE_ZERO if line.get(k)]
        failed = failed or bool(bad)
        if args.json:
            print(json.dumps(line, ensure_ascii=False), flush=True)
        else:
            print(f"{name}: " + ", ".join(f"{k}={v}" for k, v in line.items() if k != "problems"), flush=True)
            for p in line.get("problems") or []:
                print(f"  {p}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
