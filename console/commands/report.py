"""``fenliu report``: a day's conversations and agents as CSV or XLSX (CONSOLE.md §7 "Exports").

    fenliu report --day 2026-11-11 --format xlsx            # fenliu-2026-11-11.xlsx, two sheets
    fenliu report --day 2026-11-11 --format csv --out day   # day-conversations.csv, day-agents.csv
    fenliu report --day 2026-11-11 --audit                  # and a third sheet: the day's audit log

Reads the data folder read-only, so it runs beside a live server; with ``--store
postgresql://…`` it reads the shop's schema there, on a read-only connection of its own. The day is a local day of the
shop's timezone (from the policy in force; ``--timezone`` overrides).
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "report", help="export a day: one row per conversation and per agent (CSV or XLSX)",
        description="Export one local day of a data folder: one row per conversation that began that day and "
                    "one row per agent, as CSV (two files) or XLSX (two sheets).")
    parser.add_argument("--day", required=True, metavar="YYYY-MM-DD", help="the local day to export")
    parser.add_argument("--format", choices=("csv", "xlsx"), default="xlsx")
    parser.add_argument("--out", type=Path, default=None, metavar="PATH",
                        help="output file (xlsx) or name prefix (csv); default fenliu-DAY")
    parser.add_argument("--data", type=Path, default=None, metavar="DIR", help="data folder (default: per-user)")
    parser.add_argument("--shop", default=None, metavar="NAME",
                        help="the shop to export (default: the shop 'default', the data folder itself)")
    parser.add_argument("--store", default=None, metavar="URL",
                        help="the shops' PostgreSQL (as fenliu server --store): read the shop there")
    parser.add_argument("--timezone", default=None, help="the shop's timezone (default: the policy's)")
    parser.add_argument("--lang", choices=("zh_CN", "en"), default="zh_CN", help="column headers")
    parser.add_argument("--encoding", choices=("utf-8-sig", "gbk"), default="utf-8-sig",
                        help="CSV encoding (UTF-8 with BOM opens in Excel; GBK for older tools)")
    parser.add_argument("--audit", action="store_true",
                        help="add the day's audit log (who changed what): a third sheet, or BASE-audit.csv")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from console.exports import audit_rows, write_day
    from console.reception.report import agent_rows, conversation_rows
    from console.server.audit import agent_names
    from console.server.kpis import local_day
    from console.server.repository.audit import buyer_names, read_audit
    from console.server.repository.reports import ReportError, open_read_only, policy_in_force, read_day
    from console.server.store import default_data_dir

    try:
        day = date.fromisoformat(args.day)
    except ValueError:
        print(f"fenliu report: --day 应为 YYYY-MM-DD / --day must be YYYY-MM-DD, got {args.day!r}", file=sys.stderr)
        return 2
    from console.commands.accounts import shop_folder
    from console.server.repository.reports import PgShop, Where

    if args.store is not None:
        from console.server.deployment import DEFAULT_SHOP
        from console.server.pgstore import is_url

        if not is_url(args.store):
            print(f"fenliu report: --store {args.store!r}: give a postgresql://user@host/database URL", file=sys.stderr)
            return 2
        where: Where = PgShop(args.store, args.shop or DEFAULT_SHOP)
    else:
        where = shop_folder(args) if args.shop else args.data or default_data_dir()
    try:
        db = open_read_only(where)
    except ReportError as exc:
        print(f"fenliu report: {exc}", file=sys.stderr)
        return 1
    try:
        policy = policy_in_force(db)
        timezone = args.timezone or (policy.timezone if policy is not None else "Asia/Shanghai")
        try:
            zone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            print(f"fenliu report: 未知时区 / unknown timezone {timezone!r}", file=sys.stderr)
            return 2
        span = local_day(day, timezone)
        records = read_day(db, span, policy)
        entries = read_audit(db, span.start, span.end) if args.audit else None
        audit = None if entries is None else audit_rows(entries, agent_names(policy), buyer_names(db, entries))
    finally:
        db.close()
    conversations = conversation_rows(records)
    agents = agent_rows(records, conversations)
    base = args.out or Path(f"fenliu-{day.isoformat()}")
    try:
        written = write_day(base, args.format, conversations, agents, zone, lang=args.lang, encoding=args.encoding,
                            audit=audit)
    except OSError as exc:
        print(f"fenliu report: 无法写入 / cannot write: {exc}", file=sys.stderr)
        return 1
    for path in written:
        print(path)
    print(f"{len(conversations)} conversations, {len(agents)} agents ({day.isoformat()}, {timezone})", file=sys.stderr)
    return 0
