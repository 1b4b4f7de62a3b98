"""``fenliu replay FILE [--check] [--summary]``: run a scenario on a simulated clock (SCENARIOS.md)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "replay", help="run a routing scenario on a simulated clock and print every decision",
        description="Print one JSON line per routing event. Exit 0 when the scenario ran, 1 with --check "
                    "when an expectation failed, 2 when the file is not valid.")
    parser.add_argument("file", help="scenario file (JSON)")
    parser.add_argument("--check", action="store_true", help="evaluate the expect steps; exit 1 on a failure")
    parser.add_argument("--summary", action="store_true",
                        help="print a readable table per agent and per pool instead of the JSON lines")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from console.sim.replay import Replay
    from console.sim.scenario import ScenarioError, load_scenario
    from console.sim.summary import summarize

    try:
        data = json.loads(Path(args.file).read_text(encoding="utf-8"))
    except OSError as exc:
        print(f"{args.file}: cannot read: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        print(f"{args.file}: not valid JSON: {exc}", file=sys.stderr)
        return 2
    try:
        scenario = load_scenario(data)
    except ScenarioError as exc:
        print(exc, file=sys.stderr)
        return 2

    replay = Replay(scenario)
    if args.summary:
        lines = list(replay.run())
        print(summarize(lines, {a.id: a.name for a in scenario.policy.agents}))
    else:
        out = sys.stdout
        for line in replay.run():
            out.write(json.dumps(line.as_json(), ensure_ascii=False) + "\n")
        out.flush()
    if args.check:
        for failure in replay.failures:
            print(f"FAILED step {failure.step}: {failure.message}", file=sys.stderr)
        if replay.failures:
            print(f"{len(replay.failures)} of {replay.checked} expectations failed: {scenario.name}", file=sys.stderr)
            return 1
        print(f"all {replay.checked} expectations hold: {scenario.name}", file=sys.stderr)
    return 0
