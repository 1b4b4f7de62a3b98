"""``fenliu replay FILE [--check] [--summary]``: run a scenario on a simulated clock (SCENARIOS.md).

``fenliu replay --from-data DIR --day YYYY-MM-DD --policy FILE [--json]``: the what-if (CONSOLE.md
§7): that day's recorded traffic under another policy, next to what happened (console/sim/whatif.py).
"""

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
                    "when an expectation failed, 2 when the file is not valid. With --from-data, --day and "
                    "--policy: replay that day's recorded traffic under the policy and compare it with what "
                    "happened (exit 2 on a bad folder, day or policy).")
    parser.add_argument("file", nargs="?", help="scenario file (JSON)")
    parser.add_argument("--from-data", type=Path, metavar="DIR", default=None,
                        help="what-if: the server's data folder (read only)")
    parser.add_argument("--day", metavar="YYYY-MM-DD", default=None, help="what-if: the local day to replay")
    parser.add_argument("--policy", type=Path, metavar="FILE", default=None,
                        help="what-if: the policy (TOML) to try on that day's traffic")
    parser.add_argument("--json", action="store_true", help="what-if: print the comparison as JSON")
    parser.add_argument("--check", action="store_true", help="evaluate the expect steps; exit 1 on a failure")
    parser.add_argument("--summary", action="store_true",
                        help="print a readable table per agent and per pool instead of the JSON lines")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.from_data is not None or args.day is not None or args.policy is not None:
        return _whatif(args)
    if args.file is None:
        print("fenliu replay: give a scenario FILE, or --from-data DIR --day YYYY-MM-DD --policy FILE",
              file=sys.stderr)
        return 2
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


def _whatif(args: argparse.Namespace) -> int:
    from datetime import date

    from console.server.whatif import whatif_json
    from console.sim.whatif import WhatIfError, render_json

    if args.file is not None or args.from_data is None or args.day is None or args.policy is None:
        print("fenliu replay: the what-if takes --from-data DIR --day YYYY-MM-DD --policy FILE (and no scenario "
              "file)", file=sys.stderr)
        return 2
    try:
        day = date.fromisoformat(args.day)
    except ValueError:
        print(f"日期无效 / not a date (YYYY-MM-DD): {args.day}", file=sys.stderr)
        return 2
    try:
        text = args.policy.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"{args.policy}: 无法读取 / cannot read: {exc}", file=sys.stderr)
        return 2
    try:
        result = whatif_json(args.from_data, day, text)
    except WhatIfError as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print(render_json(result))
    return 0
