"""``fenliu catalog``: import the shop's product list (issue 13), list or look at it.

``fenliu catalog import FILE.csv`` reads columns ``id, title, price, image, url`` (UTF-8 or GBK,
detected) and adds or updates every product in one transaction: a file with any bad row imports
nothing, and each bad row is named by its line. ``--data DIR`` is the server's data folder and
``--shop NAME`` the shop (issue 15); ``--store postgresql://…`` the shops' PostgreSQL instead. The
server reads the catalogue from its database at each use, so an import beside a running server
is seen at once.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from console.reception.phrases import RowProblem


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("catalog", help="the shop's product catalogue (import a CSV, list)")
    sub = parser.add_subparsers(dest="catalog_command", metavar="ACTION", required=True)
    imp = sub.add_parser("import", help="add or update products from a CSV file (id,title,price,image,url)",
                         description="Add or update the products of a CSV file with the header id,title,price,image,url "
                                     "(or 商品ID,标题,价格,图片,链接), UTF-8 or GBK. Prices in yuan. All or nothing: a "
                                     "file with a bad row imports nothing and names each bad row by its line.")
    imp.add_argument("file", type=Path)
    where_args(imp)
    imp.set_defaults(func=_import)
    lst = sub.add_parser("list", help="list products (those whose title, id or pinyin initials hold QUERY)")
    lst.add_argument("query", nargs="?", default="")
    where_args(lst)
    lst.set_defaults(func=_list)


def where_args(p: argparse.ArgumentParser) -> None:
    from console.commands.accounts import store_args

    p.add_argument("--data", type=Path, default=None, metavar="DIR", help="data folder (default: per-user)")
    p.add_argument("--shop", default=None, metavar="NAME", help="the shop (default: the shop 'default')")
    store_args(p)


_WHAT = {
    "encoding": "the file is neither UTF-8 nor GBK",
    "header": "the first line must be the header id,title,price,image,url (or 商品ID,标题,价格,图片,链接)",
    "columns": "expected 5 columns, found {}",
    "no_id": "the id is empty",
    "bad_id": "the id is longer than 64 characters or holds hidden characters: {!r}",
    "no_title": "the title is empty",
    "long_title": "the title is longer than {} characters",
    "price": "the price is not an amount in yuan (like 159 or 159.90): {!r}",
    "link": "image and url must be http(s) addresses: {!r}",
    "duplicate": "the id is given twice: {}",
    "empty": "the file holds no product",
    "too_many": "a catalogue holds at most {} products",
}


def problem_line(problem: RowProblem) -> str:
    what = _WHAT.get(problem.problem.value, problem.problem.value + " {}")
    return f"line {problem.line}: " + (what.format(problem.detail) if "{" in what else what)


def _import(args: argparse.Namespace) -> int:
    import time

    from console.commands.accounts import open_store
    from console.reception.phrases import CsvError
    from console.server.catalog import import_file
    from console.server.store import StoreError

    try:
        store = open_store(args)  # the shop's store; a server owning it reads the catalogue afresh
    except StoreError as exc:
        print(f"fenliu catalog: {exc}", file=sys.stderr)
        return 1
    try:
        added, updated = import_file(store, args.file, time.time())
    except OSError as exc:
        print(f"fenliu catalog: cannot read {args.file}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    except CsvError as exc:
        print(f"fenliu catalog: {args.file} was not imported (nothing was changed):", file=sys.stderr)
        for problem in exc.problems[:50]:
            print("  " + problem_line(problem), file=sys.stderr)
        if len(exc.problems) > 50:
            print(f"  ... and {len(exc.problems) - 50} more", file=sys.stderr)
        return 1
    finally:
        store.close()
    print(f"imported {args.file}: {added} added, {updated} updated")
    return 0


def _list(args: argparse.Namespace) -> int:
    from console.commands.accounts import open_store
    from console.server.repository.catalog import Catalog
    from console.server.store import StoreError

    try:
        store = open_store(args)
    except StoreError as exc:
        print(f"fenliu catalog: {exc}", file=sys.stderr)
        return 1
    try:
        for p in Catalog(store).search(args.query, limit=1000):
            print(f"{p.id}\t{p.price / 100:.2f}\t{p.title}")
    finally:
        store.close()
    return 0
