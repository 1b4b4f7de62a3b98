"""``fenliu policy``: check a policy file, apply one to a running server, list what was applied."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from console.commands.accounts import open_store, store_args


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("policy", help="check, apply and list shop policies")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    check = actions.add_parser("check", help="validate a policy file (TOML) and print a summary",
                               description="Exit 0 and print a summary when the policy is valid; exit 2 "
                                           "with the key path and the problem when it is not.")
    check.add_argument("file", help="policy file (TOML)")
    check.set_defaults(func=run_check)
    apply = actions.add_parser("apply", help="swap the policy of a running server (validated first)",
                               description="Validate FILE, then log in to the server as a supervisor and "
                                           "replace its policy live: sessions, queues and recent contacts "
                                           "carry over. Exit 2 when the policy is refused.")
    apply.add_argument("file", help="policy file (TOML)")
    apply.add_argument("--server", default="ws://127.0.0.1:8765", help="server URL (default: ws://127.0.0.1:8765)")
    apply.add_argument("--user", required=True, help="a supervisor or main account")
    apply.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    apply.add_argument("--shop", default=None, metavar="NAME",
                       help="the shop whose policy to swap, when the server serves several (issue 15)")
    apply.set_defaults(func=run_apply)
    history = actions.add_parser("history", help="list the policies applied: when, by whom, how",
                                 description="The server keeps every policy it ran in its data folder; the "
                                             "last one is what the next start uses unless --policy is given. "
                                             "Read while the server runs, too.")
    history.add_argument("--data", type=Path, default=None, metavar="DIR", help="data folder (default: per-user)")
    store_args(history)
    history.add_argument("--show", type=int, default=None, metavar="N", help="print the TOML of entry N")
    history.add_argument("--shop", default=None, metavar="NAME", help="the shop (default: the shop 'default')")
    history.set_defaults(func=run_history)


def run_check(args: argparse.Namespace) -> int:
    from console.policy_file import load_policy_file
    from console.routing.policy import PolicyError
    from console.routing.summary import describe

    try:
        policy = load_policy_file(args.file)
    except PolicyError as exc:
        print(f"{args.file}: {exc}", file=sys.stderr)
        return 2
    print(describe(policy))
    return 0


def run_history(args: argparse.Namespace) -> int:
    from datetime import datetime

    from console.server.policy_log import PolicyLog

    store = open_store(args)
    try:
        applied = PolicyLog(store).history()
    finally:
        store.close()
    if args.show is not None:
        chosen = [entry for entry in applied if entry.seq == args.show]
        if not chosen:
            print(f"fenliu policy history: no entry {args.show}", file=sys.stderr)
            return 2
        print(chosen[0].text, end="" if chosen[0].text.endswith("\n") else "\n")
        return 0
    if not applied:
        print("no policy applied yet")
        return 0
    for i, entry in enumerate(applied):
        when = datetime.fromtimestamp(entry.at).astimezone().isoformat(timespec="seconds")
        mark = "  (in force)" if i == len(applied) - 1 else ""
        print(f"{entry.seq:>8}  {when}  by {entry.by or '?'}  via {entry.source or '?'}  sha256 {entry.digest}{mark}")
    return 0


def run_apply(args: argparse.Namespace) -> int:
    """Added by the server work: send ``apply_policy`` over the agent protocol."""
    import asyncio
    import getpass

    from console.policy_file import load_policy_file
    from console.routing.policy import PolicyError

    try:
        load_policy_file(args.file)
    except PolicyError as exc:
        print(f"{args.file}: {exc}", file=sys.stderr)
        return 2
    text = Path(args.file).read_text(encoding="utf-8")
    password = sys.stdin.readline().rstrip("\r\n") if args.password_stdin else getpass.getpass("Password: ")
    return asyncio.run(_apply_remote(args.server, args.user, password, text, args.shop))


async def _apply_remote(url: str, user: str, password: str, text: str, shop: str | None = None) -> int:
    import asyncio

    from websockets.asyncio.client import connect
    from websockets.exceptions import WebSocketException

    from console.protocol.codec import decode_for_agent, encode
    from console.protocol.messages import ApplyPolicy, Error, Login, LoginOk, Ok, Response

    async def answer(conn: Any, rid: str) -> Response:
        while True:
            message = decode_for_agent(await asyncio.wait_for(conn.recv(), 30))
            if isinstance(message, Response) and message.rid == rid:
                return message

    try:
        async with connect(url.rstrip("/") + "/agent", max_size=None) as conn:
            await conn.send(encode(Login(rid="login", user=user, password=password, shop=shop)).decode())
            logged_in = await answer(conn, "login")
            if not isinstance(logged_in, LoginOk):
                print(f"fenliu policy apply: {getattr(logged_in, 'message', logged_in)}", file=sys.stderr)
                return 1
            await conn.send(encode(ApplyPolicy(rid="apply", toml=text)).decode())
            result = await answer(conn, "apply")
    except (OSError, WebSocketException, TimeoutError) as exc:
        print(f"fenliu policy apply: cannot reach {url}: {exc}", file=sys.stderr)
        return 1
    if isinstance(result, Ok):
        print("policy applied")
        return 0
    message = result.message if isinstance(result, Error) else repr(result)
    print(f"fenliu policy apply: refused: {message}", file=sys.stderr)
    return 2
