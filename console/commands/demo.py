"""``fenliu demo``: the bundled server, simulated buyers and colleagues, and the console logged in.

What ``make run`` starts. Everything runs on this machine: the server (with an embedded SQLite
database in a temporary folder unless ``--data`` is given) and the traffic simulator as child
processes, the console in this one. A backfilled yesterday gives yesterday's tiles data.
Closing the console stops everything, in order: the UI, its client, the simulator, the server.
A console that dies outright (a crash, kill -9) runs no ``finally``: the children then notice
their parent is gone and stop by themselves (``console.stop_with_parent``).

``--self-test`` does the same offscreen and exits 0 once a simulated buyer has been routed to the
console's agent, shown in its list and answered by it end to end (the desktop bundle's check).
``--replay`` only replays the bundled 11.11-morning scenario and prints its summary (no window).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from console.paths import resources_dir

DEMO_PASSWORD = "demo"
DEMO_SHOPS = ("tmall-flagship", "douyin-store")  # --two-shops
DEMO_SCENARIO = resources_dir() / "scenarios" / "demo.json"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "demo", help="start the demo: server, simulated buyers, and the console logged in",
        description="Start the bundled server with an embedded database, simulated buyer traffic and "
                    "colleagues, and open the console logged in (password for every demo account: demo).")
    parser.add_argument("--agent", default="xiaomei", help="the account the console logs in as (default xiaomei; "
                        "zhuguan is the supervisor)")
    parser.add_argument("--supervisor", action="store_true", help="log in as the supervisor (zhuguan)")
    parser.add_argument("--rate", type=float, default=40.0, help="buyer arrivals per minute (default 40)")
    parser.add_argument("--data", type=Path, default=None, metavar="DIR",
                        help="keep the demo's data here (default: a temporary folder, removed afterwards)")
    parser.add_argument("--two-shops", action="store_true",
                        help="two shops in one server (tmall-flagship, douyin-store), the console signed into both: "
                             "Ctrl+1/Ctrl+2 switch between them (issue 15)")
    parser.add_argument("--lang", default=None, help="zh_CN (default) or en")
    parser.add_argument("--self-test", action="store_true",
                        help="run offscreen, route and answer one buyer end to end, exit 0 (or 1)")
    parser.add_argument("--screenshot", metavar="PNG", default=None,
                        help="after --seconds of live traffic, save the console window as PNG and exit")
    parser.add_argument("--seconds", type=float, default=25.0, help=argparse.SUPPRESS)
    parser.add_argument("--page", default="floor", choices=("floor", "day", "shifts", "audit", "what-if"),
                        help=argparse.SUPPRESS)  # --supervisor --screenshot: which page of the room
    parser.add_argument("--replay", action="store_true",
                        help="only replay the bundled scenario and print its summary (no server, no window)")
    parser.add_argument("--scenario", type=Path, default=DEMO_SCENARIO, help=argparse.SUPPRESS)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.replay:
        from console.cli import main

        return main(["replay", str(args.scenario), "--summary"])
    headless = sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or os.environ.get("QT_QPA_PLATFORM"))
    if headless and not args.self_test and not args.screenshot:
        print("fenliu demo: no display here (DISPLAY is not set), so no window can open; running the demo "
              "offscreen as a self-test instead. On a desktop, `make run` opens the console.", file=sys.stderr)
        args.self_test = True
    if args.self_test and headless:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"

    import tempfile

    from console.sim.demo_stack import DemoStack

    user = "zhuguan" if args.supervisor else args.agent
    with tempfile.TemporaryDirectory(prefix="fenliu-demo-") as scratch, _exit_on_stop_signals() as stopping:
        data = args.data or Path(scratch) / "data"
        stack = DemoStack(data, resources_dir() / "policy.example.toml", rate=args.rate, console_user=user,
                          password=DEMO_PASSWORD, log_dir=Path(scratch), shops=DEMO_SHOPS if args.two_shops else ())
        try:  # whatever happens from here on, even a SIGTERM, the children are stopped
            try:
                url = stack.start()
            except RuntimeError as exc:
                print(f"fenliu demo: {exc}", file=sys.stderr)
                return 1
            print(f"fenliu demo: server {url}, data {data}; console as {user} (password {DEMO_PASSWORD})", flush=True)
            try:
                return _console(url, user, args, Path(scratch) / "console", stopping)
            except Exception:
                if stopping.number is None:
                    raise
                # the signal's SystemExit, turned into another error by C code it went through
                # (PySide6's import: "ImportError: libshiboken: could not import module ...")
                return 128 + stopping.number
        finally:
            stack.stop()


@dataclass
class _Stopping:
    number: int | None = None  # the stop signal received before the console took over


@contextlib.contextmanager
def _exit_on_stop_signals() -> Iterator[_Stopping]:
    """SIGTERM, SIGINT or SIGHUP before or after the console runs (starting the children, stopping
    them) exits through the ``finally`` blocks instead of killing the process where it stands; while
    the console runs, it installs its own handling (console.ui.stop_signals).

    The number is kept too: the ``SystemExit`` is raised in whatever Python code runs, and when
    that code was called from C (PySide6's imports build their enums so), C may clear it, and the
    console would start and run on, or turn it into another error. The console checks the number
    once its own handling is installed, and ``run`` reads any error after it as the stop."""
    stopping = _Stopping()

    def stop(number: int, frame: FrameType | None) -> None:
        stopping.number = number
        raise SystemExit(128 + number)

    numbers = [getattr(signal, name) for name in ("SIGTERM", "SIGINT", "SIGHUP") if hasattr(signal, name)]
    previous = {number: signal.signal(number, stop) for number in numbers}
    try:
        yield stopping
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _console(url: str, user: str, args: argparse.Namespace, state_dir: Path, stopping: _Stopping) -> int:
    from PySide6.QtCore import QSettings

    from console.ui.login import Credentials
    from console.ui.run import run_console
    from console.ui.self_test import screenshot_after, self_test

    settings = None
    until = None
    if args.self_test or args.screenshot:  # leave the user's remembered settings alone
        settings = QSettings(str(state_dir / "settings.ini"), QSettings.Format.IniFormat)
        until = self_test if args.self_test else screenshot_after(args.screenshot, args.seconds, args.page)
    credentials: Credentials | list[Credentials] = Credentials(url, user, DEMO_PASSWORD)
    if args.two_shops:
        credentials = [Credentials(url, user, DEMO_PASSWORD, shop) for shop in DEMO_SHOPS]
    return run_console(args.lang, state_dir, credentials=credentials, go_online=True,
                       until=until, settings=settings, stopped=lambda: stopping.number)
