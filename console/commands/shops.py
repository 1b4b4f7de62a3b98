"""``fenliu shops``: the shops of one deployment (issue 15): add one with its policy, list, remove.

A shop is a folder of the data folder (``console/server/deployment.py``): ``DATA`` itself is the
shop ``default``, every other shop lives in ``DATA/shops/<name>/``. One ``fenliu server`` serves
every shop of its data folder (up to ``--max-shops``); accounts belong to a shop
(``fenliu accounts add --shop NAME``).

With ``--store postgresql://…`` a shop is a schema of that database (pgstore.py): ``add`` makes
it with its policy (and FAQ), ``list`` names the process serving each (the holder of its advisory lock),
``remove`` renames the schema aside (nothing deleted), refused while a server serves it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from console.server.deployment import Deployment


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("shops", help="add, list and remove the shops of a deployment")
    sub = parser.add_subparsers(dest="shops_command", metavar="ACTION", required=True)

    def data_arg(p: argparse.ArgumentParser) -> None:
        p.add_argument("--data", type=Path, default=None, metavar="DIR", help="data folder (default: per-user)")
        p.add_argument("--store", default=None, metavar="URL",
                       help="the shops' PostgreSQL (as fenliu server --store): a shop is a schema there")

    add = sub.add_parser("add", help="add a shop with its policy",
                         description="Make the shop's folder DATA/shops/NAME with its own store and policy. "
                                     "Then create its accounts (fenliu accounts add ID --role ROLE --shop NAME) "
                                     "A fenliu server running on the data folder (without --shop) serves the "
                                     "new shop within seconds once those accounts exist; one started later "
                                     "serves every shop of the data folder.")
    add.add_argument("name", help="1 to 32 of a-z, 0-9, '-' and '_'")
    add.add_argument("--policy", type=Path, required=True, metavar="FILE", help="the shop's policy (TOML)")
    add.add_argument("--faq", type=Path, default=None, metavar="FILE",
                     help="the shop's own FAQ for its bot (default: the server's, fenliu server --faq)")
    data_arg(add)
    add.set_defaults(func=_add)

    lst = sub.add_parser("list", help="list the shops, their folders and which server serves each")
    data_arg(lst)
    lst.set_defaults(func=_list)

    remove = sub.add_parser("remove", help="take a shop out of the deployment (its folder is kept)",
                            description="Move DATA/shops/NAME to DATA/removed/NAME.<time>: nothing is deleted. "
                                        "Refused while a server serves the shop: stop it first.")
    remove.add_argument("name")
    data_arg(remove)
    remove.set_defaults(func=_remove)


def _deployment(args: argparse.Namespace) -> Deployment:
    from console.server.deployment import Deployment
    from console.server.store import default_data_dir

    return Deployment(args.data if args.data is not None else default_data_dir())


def _add(args: argparse.Namespace) -> int:
    from console.policy_file import load_policy_file
    from console.routing.policy import PolicyError
    from console.server.accounts import Accounts
    from console.server.deployment import ShopError
    from console.server.store import Store

    deployment = _deployment(args)
    try:
        policy = load_policy_file(str(args.policy))
        text = args.policy.read_text(encoding="utf-8")
    except PolicyError as exc:
        print(f"fenliu shops add: {args.policy}: {exc}", file=sys.stderr)
        return 2
    except (OSError, UnicodeDecodeError) as exc:
        print(f"fenliu shops add: cannot read {args.policy}: {exc}", file=sys.stderr)
        return 2
    faq = None
    if args.faq is not None:
        from console.server.bot import Bot

        try:
            Bot.from_file(args.faq)
            faq = args.faq.read_text(encoding="utf-8")
        except (ValueError, OSError) as exc:
            print(f"fenliu shops add: {exc}", file=sys.stderr)
            return 2
    if args.store is not None:
        return _add_pg(args, policy, text, faq)
    try:
        folder = deployment.add(args.name, text, faq)
    except (ShopError, OSError) as exc:
        print(f"fenliu shops add: {exc}", file=sys.stderr)
        return 1
    store = Store.open(folder)  # the shop's store, created now: the shop is whole before any server sees it
    try:
        accounts = Accounts(store)
        missing = [spec for spec in policy.agents if accounts.get(spec.id) is None]
    finally:
        store.close()
    print(f"added shop {args.name} ({folder})")
    for spec in missing:
        print(f"  create its account: fenliu accounts add {spec.id} --role {spec.role.value} --shop {args.name}")
    # issue 15: the running server's shop loop (app.py, SHOPS_POLL) looks for new shop folders
    print(f"a fenliu server running on {deployment.root} (without --shop) serves it within seconds"
          + (", once those accounts exist" if missing else "") + "; no restart needed")
    return 0


def _add_pg(args: argparse.Namespace, policy: Any, text: str, faq: str | None) -> int:
    from console.server.accounts import Accounts
    from console.server.pgstore import PgStore, add_shop, is_url, redact
    from console.server.store import StoreError

    if not is_url(args.store):
        print(f"fenliu shops add: --store {args.store!r}: give a postgresql://user@host/database URL", file=sys.stderr)
        return 2
    try:
        add_shop(args.store, args.name, text, faq, local_dir=args.data)
        store = PgStore(args.store, shop=args.name, own=False, local_dir=args.data)
    except StoreError as exc:
        print(f"fenliu shops add: {exc}", file=sys.stderr)
        return 1
    try:
        accounts = Accounts(store)
        missing = [spec for spec in policy.agents if accounts.get(spec.id) is None]
    finally:
        store.close()
    print(f"added shop {args.name} ({redact(args.store)}, schema shop_{args.name})")
    for spec in missing:
        print(f"  create its account: fenliu accounts add {spec.id} --role {spec.role.value} --shop {args.name} "
              "--store URL")
    return 0


def _list(args: argparse.Namespace) -> int:
    if args.store is not None:
        from console.server.pgstore import redact, shop_holders
        from console.server.store import StoreError

        try:
            holders = shop_holders(args.store)
        except StoreError as exc:
            print(f"fenliu shops list: {exc}", file=sys.stderr)
            return 1
        if not holders:
            print(f"no shops in {redact(args.store)} (fenliu server --store URL makes the shop 'default'; "
                  "fenliu shops add NAME --policy FILE --store URL adds others)")
        for name, holder in holders.items():
            print(f"{name}\tschema shop_{name}\t{'not served' if holder is None else 'served by ' + holder}")
        return 0
    deployment = _deployment(args)
    shops = deployment.shops()
    if not shops:
        print(f"no shops in {deployment.root} (fenliu server makes the shop 'default' there; "
              "fenliu shops add NAME --policy FILE adds others)")
    for shop in shops:
        served = "not served" if shop.held_by is None else f"served by PID {shop.held_by or '?'}"
        print(f"{shop.name}\t{shop.folder}\t{served}")
    return 0


def _remove(args: argparse.Namespace) -> int:
    from console.server.deployment import ShopError

    if args.store is not None:
        from console.server.pgstore import remove_shop
        from console.server.store import StoreError

        try:
            schema = remove_shop(args.store, args.name)
        except StoreError as exc:
            print(f"fenliu shops remove: {exc}", file=sys.stderr)
            return 1
        print(f"removed shop {args.name}: its schema is now {schema}")
        return 0
    deployment = _deployment(args)
    try:
        target = deployment.remove(args.name)
    except (ShopError, OSError) as exc:
        print(f"fenliu shops remove: {exc}", file=sys.stderr)
        return 1
    print(f"removed shop {args.name}: its folder is now {target}")
    return 0
