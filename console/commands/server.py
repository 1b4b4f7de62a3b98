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
                        help="keep the shops in PostgreSQL (postgresql://user@host/database) instead of the SQLite data "
                             "folder; one schema per shop, each owned by one server at a time (docs/ARCHITECTURE.md)")
    parser.add_argument("--standby", action="store_true",
                        help="with --store: wait while other servers own every shop, and keep taking over the shops "
                             "whose server stops or dies (up to --max-shops), instead of refusing to start")
    parser.add_argument("--policy", type=Path, default=None, metavar="FILE",
                        help="the policy of the shop 'default' (the data folder itself); it replaces the policy in force "
                             "(default: the policy in force in the data folder, the last one applied; on a new data "
                             "folder resources/policy.example.toml). Other shops keep theirs (fenliu shops add --policy)")
    parser.add_argument("--shop", action="append", default=None, metavar="NAME", dest="shops",
                        help="serve only this shop (repeat for several; default: every shop of the data folder)")
    parser.add_argument("--max-shops", type=int, default=None, metavar="N",
                        help="serve at most N shops; shops another server holds are left to it (default: 100)")
    parser.add_argument("--advertise", default=None, metavar="URL",
                        help="with --store: the address consoles and gateways reach this server at (wss://host:port), "
                             "given to clients that ask another server for a shop this one owns (default: its own "
                             "scheme, --host and port)")
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
    from console.server.catalog import seed_demo_catalog
    from console.server.deployment import DEFAULT_SHOP, MAX_SHOPS, Deployment
    from console.server.limits import Limits
    from console.server.phrases import seed_team_phrases
    from console.server.store import FolderInUse, FolderLock, Store, default_data_dir

    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.log_level != "DEBUG":
        # websockets says "connection open" for every connection at INFO: at an 11.11 peak that
        # is a line (and a write to the log) per buyer visit, and nothing a shop acts on
        logging.getLogger("websockets.server").setLevel(logging.WARNING)
    config = ServerConfig(
        host=args.host, port=args.port, data_dir=args.data, policy_file=args.policy, cert=args.cert, key=args.key,
        store=args.store, standby=args.standby, advertise=args.advertise,
        gateway_key=os.environ.get("FENLIU_GATEWAY_KEY"), no_gateway_key=args.no_gateway_key,
        faq_file=args.faq or DEFAULT_FAQ,
        limits=Limits(hello_timeout=args.hello_timeout, prelogin_per_address=args.max_prelogin_per_address),
        shops=tuple(args.shops or ()), max_shops=args.max_shops if args.max_shops is not None else MAX_SHOPS,
    )
    if config.max_shops < 1:
        print("fenliu server: --max-shops must be at least 1", file=sys.stderr)
        return 2
    try:
        if args.standby and args.store is None:
            raise ServerError("--standby goes with --store postgresql://… (on SQLite a shop is a folder of one machine)")
        if args.demo_password and args.store is not None:
            raise ServerError("--demo-password is for the SQLite demo; on PostgreSQL add accounts with fenliu accounts")
        if args.demo_password:
            deployment = Deployment(args.data if args.data is not None else default_data_dir())
            for name in config.shops or deployment.names() or [DEFAULT_SHOP]:
                folder = deployment.folder(name)
                pid = FolderLock.holder(folder)
                if pid is not None:  # another server: say so before writing anything
                    raise ServerError(str(FolderInUse(folder, pid)))
                policy, _ = read_policy(args.policy if name == DEFAULT_SHOP else deployment.policy_file(name))
                store = Store.open(folder)
                try:
                    ensure_demo_accounts(store, policy, args.demo_password)
                    seed_team_phrases(store, resources_dir() / "quick_replies.csv", time.time())  # a shop's usual set
                    seed_demo_catalog(store, resources_dir() / "catalog.csv", time.time())  # what the demo buyers come from
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
