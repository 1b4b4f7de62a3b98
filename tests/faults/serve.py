"""The launcher: ``fenliu server`` with settings the command line does not offer.

    python -m tests.faults.serve --port N --data DIR --policy FILE [--ping S] [--clock-at T] [--unlimited]

It builds the same ``ServerConfig`` as ``fenliu server``; ``ServerProcess(launcher=[...])`` runs it.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    """The launcher: ``fenliu server`` with settings the command line does not offer."""
    parser = argparse.ArgumentParser(prog="python -m tests.faults.serve")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--policy", type=Path, required=True)
    parser.add_argument("--ping", type=float, default=20.0, help="keepalive ping interval and timeout")
    parser.add_argument("--clock-at", type=float, default=None,
                        help="start the server's clock at this epoch time (it then runs at real speed)")
    parser.add_argument("--unlimited", action="store_true", help="no rate limits (fuzzing)")
    parser.add_argument("--gateway-key", default=None)
    parser.add_argument("--cert", type=Path, default=None)
    parser.add_argument("--key", type=Path, default=None)
    args = parser.parse_args(argv)

    import logging

    from console.server.app import ServerConfig, run

    logging.basicConfig(level="INFO", format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    clock = time.time
    if args.clock_at is not None:  # the server's wall clock, shifted; it then runs at real speed
        offset = args.clock_at - time.time()

        def clock() -> float:
            return time.time() + offset

    from console.server.limits import Limits

    limits = Limits(agent_rate=1e9, agent_burst=1e9, buyer_rate=1e9, buyer_burst=1e9, login_failures=10**9,
                    login_account_failures=10**9, hello_timeout=3600.0, prelogin_per_address=10**9,
                    hash_queue=10**6, hashes_per_address=10**6) if args.unlimited else Limits()
    config = ServerConfig(host="127.0.0.1", port=args.port, data_dir=args.data, policy_file=args.policy,
                          ping_interval=args.ping, cert=args.cert, key=args.key, limits=limits,
                          gateway_key=args.gateway_key, clock=clock)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run(config, stop)

    asyncio.run(main())
    return 0


if __name__ == "__main__":
    sys.exit(main())
