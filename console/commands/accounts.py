"""``fenliu accounts``: add, list, change the password of and disable staff accounts; set buyer kinds.

Every sub-command takes ``--data DIR`` (default: the per-user data folder), the same folder the
server uses. Passwords come from a prompt (twice, not echoed) or, for scripts, from stdin with
``--password-stdin``.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from console.server.accounts import Accounts
    from console.server.store import Store

ROLES = ("agent", "supervisor", "main", "proxy")
KINDS = ("consumer", "merchant", "staff", "group")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("accounts", help="manage staff accounts (and buyer kinds)")
    sub = parser.add_subparsers(dest="accounts_command", metavar="ACTION", required=True)

    def data_arg(p: argparse.ArgumentParser) -> None:
        p.add_argument("--data", type=Path, default=None, metavar="DIR", help="data folder (default: per-user)")
        p.add_argument("--shop", default=None, metavar="NAME",
                       help="the shop the account belongs to (default: the shop 'default', the data folder itself)")
        store_args(p)

    add = sub.add_parser("add", help="create an account")
    add.add_argument("name")
    add.add_argument("--role", choices=ROLES, required=True)
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    data_arg(add)
    add.set_defaults(func=_add)

    lst = sub.add_parser("list", help="list accounts")
    data_arg(lst)
    lst.set_defaults(func=_list)

    passwd = sub.add_parser("passwd", help="change a password (revokes the account's tokens)")
    passwd.add_argument("name")
    passwd.add_argument("--password-stdin", action="store_true")
    data_arg(passwd)
    passwd.set_defaults(func=_passwd)

    disable = sub.add_parser("disable", help="disable an account (revokes its tokens)")
    disable.add_argument("name")
    data_arg(disable)
    disable.set_defaults(func=_disable)

    enable = sub.add_parser("enable", help="enable a disabled account")
    enable.add_argument("name")
    data_arg(enable)
    enable.set_defaults(func=_enable)

    buyer = sub.add_parser("buyer", help="set what kind of account a buyer-side id is (badges come only from here)")
    buyer.add_argument("id")
    buyer.add_argument("--kind", choices=KINDS, required=True)
    buyer.add_argument("--name", default=None)
    data_arg(buyer)
    buyer.set_defaults(func=_buyer)


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    second = getpass.getpass("Again: ")
    if first != second:
        raise SystemExit("fenliu accounts: the passwords differ")
    return first


def store_args(p: argparse.ArgumentParser) -> None:
    """``--store``: the shops' PostgreSQL (``--shop`` names the shop, as on SQLite)."""
    p.add_argument("--store", default=None, metavar="URL", help="the shops' PostgreSQL (as fenliu server --store)")


def open_store(args: argparse.Namespace, *, own: bool = False) -> Store:
    """The data folder's SQLite store, or the shop's on PostgreSQL (``--store``). A command does
    not take the shop's lock (a running server holds it) unless ``own``: it only writes what the
    server reads afresh (accounts, tokens)."""
    from console.server.store import Store

    if args.store is None:
        return Store.open(shop_folder(args))
    from console.server.deployment import DEFAULT_SHOP
    from console.server.pgstore import PgStore

    return PgStore(args.store, shop=args.shop or DEFAULT_SHOP, own=own, local_dir=args.data)


def _open(args: argparse.Namespace) -> tuple[Store, Accounts]:
    from console.server.accounts import Accounts

    store = open_store(args)
    return store, Accounts(store)


def shop_folder(args: argparse.Namespace) -> Path:
    """The folder of the shop ``--shop`` names in ``--data`` (issue 15); exits when there is none."""
    from console.server.deployment import DEFAULT_SHOP, Deployment, ShopError
    from console.server.store import default_data_dir

    deployment = Deployment(args.data if args.data is not None else default_data_dir())
    name = args.shop or DEFAULT_SHOP
    try:
        others = deployment.names()
        if args.shop is None and others and DEFAULT_SHOP not in others:  # do not make a shop 'default' by mistake
            raise ShopError(f"{deployment.root} holds the shops {', '.join(others)} and no shop {DEFAULT_SHOP!r}: "
                            "name one with --shop")
        if name != DEFAULT_SHOP and not deployment.exists(name):
            raise ShopError(f"no shop {name!r} in {deployment.root} (add it: fenliu shops add {name} --policy FILE)")
        return deployment.folder(name)
    except ShopError as exc:
        raise SystemExit(f"fenliu: {exc}") from None


def _add(args: argparse.Namespace) -> int:
    from console.protocol.messages import Role
    from console.server.accounts import AccountError

    store, accounts = _open(args)
    try:
        accounts.add(args.name, Role(args.role), _read_password(args))
        store.flush()
    except AccountError as exc:
        print(f"fenliu accounts: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()
    print(f"added {args.role} {args.name}")
    return 0


def _list(args: argparse.Namespace) -> int:
    store, accounts = _open(args)
    try:
        for account in accounts.list():
            flag = "  (disabled)" if account.disabled else ""
            print(f"{account.id}\t{account.role.value}{flag}")
    finally:
        store.close()
    return 0


def _passwd(args: argparse.Namespace) -> int:
    from console.server.accounts import AccountError

    store, accounts = _open(args)
    try:
        accounts.set_password(args.name, _read_password(args))
        store.flush()
    except AccountError as exc:
        print(f"fenliu accounts: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()
    print(f"password changed for {args.name}")
    return 0


def _disable(args: argparse.Namespace) -> int:
    return _toggle(args, disable=True)


def _enable(args: argparse.Namespace) -> int:
    return _toggle(args, disable=False)


def _toggle(args: argparse.Namespace, *, disable: bool) -> int:
    from console.server.accounts import AccountError

    store, accounts = _open(args)
    try:
        if disable:
            accounts.disable(args.name)
        else:
            accounts.enable(args.name)
        store.flush()
    except AccountError as exc:
        print(f"fenliu accounts: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()
    print(f"{'disabled' if disable else 'enabled'} {args.name}")
    return 0


def _buyer(args: argparse.Namespace) -> int:
    from console.reception.model import Kind
    from console.server.directory import Directory
    from console.server.store import FolderLock, Store

    folder = shop_folder(args) if args.store is None else None
    pid = FolderLock.holder(folder) if folder is not None else None
    if args.store is not None:
        from console.server.store import StoreError

        try:
            store = open_store(args, own=True)  # a server owning the shop keeps buyer kinds in memory
        except StoreError as exc:
            print(f"fenliu accounts buyer: {exc} (a running server keeps buyer kinds in memory: stop it, run this "
                  "command again, then start the server)", file=sys.stderr)
            return 1
    elif pid is not None:  # accounts (add, passwd, ...) are read at each login; buyer kinds are cached
        print(f"fenliu accounts buyer: a fenliu server (PID {pid or '?'}) is serving {folder} and keeps buyer "
              "kinds in memory, so it would not see this change. Stop the server, run this command again, "
              "then start the server.", file=sys.stderr)
        return 1
    else:
        assert folder is not None
        store = Store.open(folder)
    try:
        Directory(store).set_kind(args.id, Kind(args.kind), name=args.name)
        store.flush()
    except ValueError as exc:
        print(f"fenliu accounts buyer: {exc}", file=sys.stderr)
        return 2
    finally:
        store.close()
    print(f"{args.id} is a {args.kind}")
    return 0
