"""``fenliu server``: run the routing server (websockets + SQLite) until Ctrl+C or SIGTERM."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from console.protocol.limits import HELLO_TIMEOUT, PRELOGIN_PER_ADDRESS


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("server", help="run the routing server")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback only)")
    parser.add_argument("--port", type=int, default=8765, help="port (0: any free port; the log line says which)")
    parser.add_argument("--data", type=Path, default=None, metavar="DIR", help="data folder (default: per-user)")
    parser.add_argument("--store", default=None, metavar="URL",
                        help="keep the shop in PostgreSQL (postgresql://user@host/database) instead of the SQLite data "
                             "folder; one schema per shop, owned by one server at a time (docs/ARCHITECTURE.md)")
    parser.add_argument("--shop", default="default", metavar="NAME",
                        help="with --store: the shop this server routes (its schema is shop_NAME; default: default)")
    parser.add_argument("--standby", action="store_true",
                        help="with --store: if another server owns the shop, wait and take it over when that one "
                             "stops or dies, instead of refusing to start")
    parser.add_argument("--policy", type=Path, default=None, metavar="FILE",
                        help="shop policy TOML; it replaces the policy in force (default: the policy in force in the data "
                             "folder, the last one applied; on a new data folder resources/policy.example.toml)")
    parser.add_argument("--cert", type=Path, default=None, help="TLS certificate chain (PEM): serve wss://")
    parser.add_argument("--key", type=Path, default=None, help="TLS private key (PEM)")
    parser.add_argument("--faq", type=Path, default=None, metavar="FILE", help="the bot's FAQ (default: resources/faq.toml)")
    parser.add_argument("--demo-password", default=None, metavar="PASSWORD",
                        help="demo only: create missing accounts for the policy's agents with this password")
    parser.add_argument("--no-gateway-key", action="store_true",
                        help="listen beyond loopback without a gateway key (FENLIU_GATEWAY_KEY): anyone who "
                             "reaches /buyer may speak for any buyer; logged at every start")
    parser.add_argument("--hello-timeout", type=float, default=HELLO_TIMEOUT, metavar="SECONDS",
                        help=f"close a connection not logged in this long after connecting (default: {HELLO_TIMEOUT:g})")
    parser.add_argument("--max-prelogin-per-address", type=int, default=PRELOGIN_PER_ADDRESS, metavar="N",
                        help="connections from one address not logged in yet; more are closed at once "
                             f"(default: {PRELOGIN_PER_ADDRESS})")
    parser.add_argument("--log-level", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    import asyncio
    import logging
    import signal
    import sys
    import time

    from console.paths import resources_dir
    from console.server.app import ServerConfig, ServerError, ensure_demo_accounts, read_policy, run
    from console.server.bot import DEFAULT_FAQ
    from console.server.limits import Limits
    from console.server.phrases import seed_team_phrases
    from console.server.store import FolderInUse, FolderLock, Store, default_data_dir

    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = ServerConfig(
        host=args.host, port=args.port, data_dir=args.data, policy_file=args.policy, cert=args.cert, key=args.key,
        store=args.store, shop=args.shop, standby=args.standby,
        gateway_key=os.environ.get("FENLIU_GATEWAY_KEY"), no_gateway_key=args.no_gateway_key,
        faq_file=args.faq or DEFAULT_FAQ,
        limits=Limits(hello_timeout=args.hello_timeout, prelogin_per_address=args.max_prelogin_per_address),
    )
    try:
        if (args.shop != "default" or args.standby) and args.store is None:
            raise ServerError("--shop and --standby go with --store postgresql://… (a SQLite data folder is one shop)")
        if args.demo_password and args.store is not None:
            raise ServerError("--demo-password is for the SQLite demo; on PostgreSQL add accounts with fenliu accounts")
        if args.demo_password:
            pid = FolderLock.holder(args.data if args.data is not None else default_data_dir())
            if pid is not None:  # another server: say so before writing anything
                raise ServerError(str(FolderInUse(args.data or default_data_dir(), pid)))
            policy, _ = read_policy(args.policy)
            store = Store.open(args.data)
            try:
                ensure_demo_accounts(store, policy, args.demo_password)
                seed_team_phrases(store, resources_dir() / "quick_replies.csv", time.time())  # a shop's usual set
                store.flush(now=True)
            finally:
                store.close()

        async def main() -> None:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                try:
                    loop.add_signal_handler(sig, stop.set)
                except (NotImplementedError, RuntimeError):  # Windows: Ctrl+C raises KeyboardInterrupt
                    pass
            await run(config, stop)

        asyncio.run(main())
    except ServerError as exc:
        print(f"fenliu server: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    return 0
