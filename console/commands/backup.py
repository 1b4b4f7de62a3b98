"""``fenliu backup DEST``: a consistent copy of the data folder (database, engine snapshots,
images), taken beside a running server; on PostgreSQL (``--store URL --shop NAME``) a ``pg_dump`` of
the shop's schema. See ``console/server/backup.py`` and docs/RELIABILITY.md."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "backup", help="copy the data folder (database, snapshots, images) while the server runs",
        description="Copy a data folder consistently into DEST (a new or empty folder): the database by "
                    "SQLite's online backup, the engine snapshots and the images, of every shop it holds "
                    "(shops/NAME with their policies), or of one shop with --shop. Runs beside a live server. "
                    "To restore, stop the server and use DEST as its data folder (or copy it back; with "
                    "--shop, DEST is that shop's folder).")
    parser.add_argument("dest", type=Path, help="where to put the copy (a new or empty folder)")
    parser.add_argument("--data", type=Path, default=None, metavar="DIR", help="data folder (default: per-user)")
    parser.add_argument("--store", default=None, metavar="URL",
                        help="the shops' PostgreSQL: dump the shop's schema into DEST with pg_dump (restore: pg_restore)")
    parser.add_argument("--shop", default=None, metavar="NAME",
                        help="one shop only (on SQLite its folder is copied into DEST; with --store its schema; "
                             "default: every shop on SQLite, 'default' with --store)")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from console.server.backup import BackupError, backup_shops
    from console.server.deployment import Deployment
    from console.server.store import default_data_dir

    if args.store is not None:
        return _run_pg(args)
    data = args.data or default_data_dir()
    try:
        reports = backup_shops(data, args.dest, args.shop)
    except BackupError as exc:
        print(f"fenliu backup: {exc}", file=sys.stderr)
        return 1
    missing = 0
    for shop, report in reports:
        where = args.dest if args.shop is not None else Deployment(args.dest).folder(shop)
        print(f"fenliu backup: shop {shop} -> {where}: database {report.database_bytes:,} bytes, "
              f"{report.snapshots} snapshot(s), {report.images} image file(s)")
        if report.missing:
            print(f"fenliu backup: warning: shop {shop}: {report.missing} image(s) shown by messages were not in "
                  f"its images folder", file=sys.stderr)
            missing += report.missing
    return 1 if missing else 0


def _run_pg(args: argparse.Namespace) -> int:
    from console.server.backup import BackupError, backup_pg
    from console.server.deployment import DEFAULT_SHOP
    from console.server.pgstore import is_url

    if not is_url(args.store):
        print(f"fenliu backup: --store {args.store!r}: give a postgresql://user@host/database URL", file=sys.stderr)
        return 2
    shop = args.shop or DEFAULT_SHOP
    try:
        size = backup_pg(args.store, shop, args.dest)
    except BackupError as exc:
        print(f"fenliu backup: {exc}", file=sys.stderr)
        return 1
    print(f"fenliu backup: {args.dest}: shop {shop}: pg_dump of schema shop_{shop}, {size:,} bytes (its images and "
          "routing snapshots included); restore with pg_restore")
    return 0
