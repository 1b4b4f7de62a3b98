"""``fenliu demo``: show what Fenliu does, with nothing to set up (what ``make run`` starts).

Until the reception console is ready, the demo replays the bundled 11.11-morning scenario
(``resources/scenarios/demo.json``) through the real routing engine and prints its summary:
who received whom, who queued and for how long, and why.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

from console.paths import resources_dir

RESOURCES = resources_dir()
DEMO_SCENARIO = RESOURCES / "scenarios" / "demo.json"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("demo", help="start the demo")
    parser.add_argument(
        "--scenario",
        type=Path,
        default=DEMO_SCENARIO,
        metavar="FILE",
        help="the scenario to replay (default: the bundled 11.11 morning)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Replays the demo scenario with ``--summary``; returns the replay's exit code."""
    from console import cli

    scenario: Path = args.scenario
    if not scenario.is_file():
        print(f"fenliu demo: scenario not found: {scenario}", file=sys.stderr)
        return 2
    if importlib.util.find_spec("console.commands.replay") is None:
        print(
            "fenliu demo: the replay command is not built yet (console/commands/replay.py)", file=sys.stderr
        )
        return 1
    return cli.main(["replay", str(scenario), "--summary"])
