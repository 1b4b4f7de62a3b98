"""``fenliu console [--server URL] [--lang zh_CN|en]``: the reception console for a real server."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "console", help="open the reception console (login window)",
        description="Open the reception console. The login window remembers the server and account; "
                    "the password is never stored.")
    parser.add_argument("--server", metavar="URL", help="server address, e.g. ws://127.0.0.1:8765 (remembered)")
    parser.add_argument("--lang", metavar="LANG", help="zh_CN (default) or en; default: the last choice or the system")
    parser.add_argument("--user", metavar="NAME", help="log in as NAME without the login window (with --password-stdin)")
    parser.add_argument("--shop", action="append", default=None, metavar="NAME", dest="shops",
                        help="with --user: sign into this shop (repeat to sign into several at once; Ctrl+1..9 "
                             "switch between them); default: the server's only shop")
    parser.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    parser.add_argument("--ca", metavar="PEM", help="trust this certificate authority for wss:// (a shop's own "
                        "certificate); the system's authorities are trusted by default, and a server they "
                        "do not vouch for is refused")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import sys
    from pathlib import Path

    import platformdirs

    from console.ui.login import Credentials
    from console.ui.run import run_console

    state_dir = Path(platformdirs.user_state_dir("fenliu", appauthor=False))
    tls = None
    if args.ca:
        import ssl

        try:
            tls = ssl.create_default_context(cafile=args.ca)
        except (OSError, ssl.SSLError) as exc:
            print(f"fenliu console: cannot use {args.ca} as a certificate authority: {exc}", file=sys.stderr)
            return 2
    credentials = None
    if args.user:
        if not args.server or not args.password_stdin:
            print("fenliu console: --user needs --server and --password-stdin", file=sys.stderr)
            return 2
        password = sys.stdin.readline().rstrip("\n")
        credentials = [Credentials(args.server, args.user, password, shop) for shop in args.shops] if args.shops \
            else Credentials(args.server, args.user, password)
    return run_console(args.lang, state_dir, server=args.server, credentials=credentials, tls=tls)
