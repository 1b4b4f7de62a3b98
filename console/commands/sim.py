"""``fenliu sim``: buyer traffic against a server on this machine, and a backfilled yesterday.

    fenliu sim --server ws://127.0.0.1:8765 [--rate 20] [--duration 60] [--seed 1]
    fenliu sim --backfill-yesterday --data DIR [--policy FILE]

``--rate`` is arrivals per minute. The run stops by itself after ``--duration`` seconds (plus a
few to let the last requests finish) and prints what happened; the exit code is 0 when buyers
arrived, 1 when none could, 2 on bad arguments.

With ``--data DIR`` (the server's data folder) the simulator's platform-staff and group-chat ids
are declared in the server's own buyer directory first (what ``fenliu accounts buyer ID --kind
staff`` does), since a buyer's kind comes only from there; without it those visits arrive as the
consumers the server takes them for. ``--backfill-yesterday`` writes a plausible yesterday into
DIR through the server's store; the server counts yesterday when it starts, so run it first.
``--agents a1,a2`` also logs in simulated colleagues (password from ``$FENLIU_SIM_PASSWORD``)
who answer their buyers, so a demo has a working team around the human at the console.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from console.routing.policy import Policy
    from console.sim.traffic import TrafficConfig, TrafficReport


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("sim", help="simulate buyer traffic (and backfill yesterday) for a demo")
    parser.add_argument("--server", metavar="URL", help="the server, on this machine: ws://127.0.0.1:PORT")
    parser.add_argument("--rate", type=float, default=20.0, help="buyer arrivals per minute (default 20)")
    parser.add_argument("--share-products", action="store_true",
                        help="some buyers share a product card of the demo catalogue (the server must have it: "
                             "fenliu demo imports resources/catalog.csv)")
    parser.add_argument("--duration", type=float, default=60.0, metavar="S", help="seconds to run (default 60)")
    parser.add_argument("--seed", type=int, default=1, help="the same seed plays the same traffic (default 1)")
    parser.add_argument("--max-visits", type=int, default=500, metavar="N", help="at most this many visits")
    parser.add_argument("--data", type=Path, default=None, metavar="DIR",
                        help="the server's data folder: declare the simulated staff and group ids there")
    parser.add_argument("--policy", type=Path, default=None, metavar="FILE",
                        help="the shop policy, for --backfill-yesterday's agents and time zone")
    parser.add_argument("--backfill-yesterday", action="store_true",
                        help="write a plausible yesterday into --data (before starting the server)")
    parser.add_argument("--agents", default="", metavar="IDS",
                        help="comma-separated agents to simulate as colleagues ($FENLIU_SIM_PASSWORD)")
    parser.add_argument("--shop", default=None, metavar="NAME",
                        help="the shop the buyers and colleagues belong to, when the server serves several "
                             "(then --data is that shop's folder, DATA/shops/NAME)")
    parser.add_argument("--json", action="store_true", help="print the report as one JSON line")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    import asyncio
    import json
    import logging

    from console.sim.traffic import TrafficConfig

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.server is None and not args.backfill_yesterday:
        print("fenliu sim: give --server URL (or --backfill-yesterday --data DIR)", file=sys.stderr)
        return 2
    if args.backfill_yesterday and args.data is None:
        print("fenliu sim: --backfill-yesterday needs --data DIR (the server's data folder)", file=sys.stderr)
        return 2
    agents = [a.strip() for a in args.agents.split(",") if a.strip()]
    password = os.environ.get("FENLIU_SIM_PASSWORD")
    if agents and not password:
        print("fenliu sim: --agents needs the agents' password in $FENLIU_SIM_PASSWORD", file=sys.stderr)
        return 2
    config = None
    if args.server is not None:
        try:
            config = TrafficConfig(server=args.server, rate=args.rate, duration=args.duration, seed=args.seed,
                                   share_products=args.share_products,
                                   max_visits=args.max_visits, key=os.environ.get("FENLIU_GATEWAY_KEY") or None,
                                   shop=args.shop)
        except ValueError as exc:
            print(f"fenliu sim: {exc}", file=sys.stderr)
            return 2
    if args.data is not None:
        try:
            policy = _read_policy(args.policy)
            if args.backfill_yesterday:
                print(_backfill(args.data, policy, args.seed))
            if config is not None:
                _declare_accounts(args.data, config)
        except (OSError, ValueError) as exc:
            print(f"fenliu sim: {exc}", file=sys.stderr)
            return 2
    if config is None:
        return 0
    report = asyncio.run(_traffic(config, agents, password or ""))
    if args.json:
        print(json.dumps(report.as_dict(), ensure_ascii=False))
    else:
        print(_describe(report))
    return 0 if report.arrivals > 0 else 1


async def _traffic(config: TrafficConfig, agents: list[str], password: str) -> TrafficReport:
    import asyncio
    import random
    import tempfile

    from console.client import ClientError
    from console.sim.colleagues import Colleague
    from console.sim.traffic import TrafficRun

    colleagues: list[Colleague] = []
    with tempfile.TemporaryDirectory(prefix="fenliu-sim-") as state:
        try:
            for number, agent in enumerate(agents):
                colleague = Colleague(config.server, agent, password, state_dir=Path(state),
                                      rng=random.Random(config.seed * 1000 + number), shop=config.shop)
                try:
                    await asyncio.wait_for(colleague.start(), 15.0)
                except (ClientError, TimeoutError) as exc:
                    print(f"fenliu sim: colleague {agent} cannot log in: {exc}", file=sys.stderr)
                    await colleague.stop()
                    continue
                colleagues.append(colleague)
            return await TrafficRun(config).run()
        finally:
            for colleague in colleagues:
                await colleague.stop()


def _read_policy(path: Path | None) -> Policy:
    from console.routing.policy import PolicyError, load_policy_toml
    from console.server.app import DEFAULT_POLICY

    file = path or DEFAULT_POLICY
    try:
        return load_policy_toml(file.read_text(encoding="utf-8"))
    except PolicyError as exc:
        raise ValueError(f"{file}: {exc}") from None


def _declare_accounts(data: Path, config: TrafficConfig) -> None:
    """Declare the simulated staff and group ids in the server's directory (kind from account data)."""
    from console.reception.model import Kind
    from console.server.directory import Directory
    from console.server.store import Store

    store = Store.open(data)
    try:
        directory = Directory(store)
        for buyer in config.staff_ids:
            current = directory.get(buyer)
            if current is None or current.kind is not Kind.STAFF:
                directory.set_kind(buyer, Kind.STAFF, name="平台小二")
        for buyer in config.group_ids:
            current = directory.get(buyer)
            if current is None or current.kind is not Kind.GROUP:
                directory.set_kind(buyer, Kind.GROUP, name="粉丝群" if "fans" in buyer else "VIP群")
        store.flush()
    finally:
        store.close()


def _backfill(data: Path, policy: Policy, seed: int) -> str:
    """Write yesterday's facts through the server's store, once per day and data folder."""
    import time

    from console.routing.policy import Role
    from console.server.kpis import day_of, previous_day
    from console.server.repository.backfill import write_yesterday
    from console.server.store import Store
    from console.sim.backfill import plan_yesterday

    yesterday = previous_day(day_of(time.time(), policy.timezone), policy.timezone)
    agents = [spec.id for spec in policy.agents if spec.role is Role.AGENT and spec.routable]
    if not agents:
        return "backfill: the policy has no routable agents; nothing written"
    day = plan_yesterday(agents, yesterday.start, yesterday.end, seed=seed)
    store = Store.open(data)
    try:
        marker = f"sim.backfill.{int(yesterday.start)}"
        if store.get_meta(marker) is not None:
            return f"backfill: yesterday is already in {data}; nothing written"
        write_yesterday(store, day, yesterday.start)
        store.set_meta(marker, str(len(day.receptions)))
        store.flush()
    finally:
        store.close()
    return (f"backfill: yesterday written to {data}: {len(day.receptions)} receptions, {len(day.messages)} messages,"
            f" {len(day.ratings)} ratings, {len(day.orders)} order changes for {len(agents)} agents")


def _describe(report: TrafficReport) -> str:
    routed = ", ".join(f"{k} {v}" for k, v in sorted(report.routed.items())) or "-"
    answers = ", ".join(f"{k} {v}" for k, v in sorted(report.answers.items())) or "-"
    errors = ", ".join(f"{k} {v}" for k, v in sorted(report.errors.items())) or "none"
    return (
        f"sim: {report.visits}/{report.planned} visits, {report.arrivals} arrivals, {report.messages} buyer messages,"
        f" {report.orders} orders ({report.paid} paid), {report.ratings} ratings, {report.closed} sessions closed\n"
        f"     routed: {routed}; answers: {answers}; errors: {errors}"
    )
