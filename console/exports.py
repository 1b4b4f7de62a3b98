"""A day's report written as CSV or XLSX (CONSOLE.md §7 "Exports").

Two tables: one row per conversation and one per agent (``console.reception.report``). Headers
in Chinese or English. Times are local (the shop's timezone) and written as real date-times in
XLSX (so a spreadsheet sorts and filters them) and as ``YYYY-MM-DD HH:MM:SS`` in CSV; waits in
seconds; rates as fractions (XLSX shows them as percentages). Reasons are ROUTING.md §12's codes
with the rule that decided (``recent`` / ``R4.2``), the vocabulary of the decision log.

CSV is UTF-8 with a byte-order mark by default, which is what Excel needs to open Chinese text
correctly; ``gbk`` is offered for the older tools shops use, with characters GBK lacks (emoji)
replaced by ``?``. XLSX is written with openpyxl in write-only mode (streams rows; a day of a
large shop does not sit in memory twice).
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import msgspec

from console.protocol.messages import AuditAction, AuditEntry


class Kind(Enum):
    TEXT = "text"
    TIME = "time"
    SECONDS = "seconds"
    COUNT = "count"
    RATIO = "ratio"
    FLAG = "flag"


@dataclass(frozen=True)
class Column:
    key: str  # the row struct's field
    zh: str
    en: str
    kind: Kind = Kind.TEXT


CONVERSATION_COLUMNS: tuple[Column, ...] = (
    Column("buyer", "买家ID", "Buyer ID"),
    Column("buyer_name", "买家", "Buyer"),
    Column("agent", "客服", "Agent"),
    Column("arrived_at", "进线时间", "Arrived", Kind.TIME),
    Column("reason", "分配原因", "Reason"),
    Column("rule", "规则", "Rule"),
    Column("queued", "曾排队", "Queued", Kind.FLAG),
    Column("assigned_at", "人工接入时间", "Assigned to a human", Kind.TIME),
    Column("first_message_at", "买家首条消息", "First buyer message", Kind.TIME),
    Column("first_response_at", "首次人工回复", "First human response", Kind.TIME),
    Column("first_response_s", "首次响应(秒)", "First response (s)", Kind.SECONDS),
    Column("longest_wait_s", "最长等待(秒)", "Longest wait (s)", Kind.SECONDS),
    Column("waits", "等待次数", "Waits", Kind.COUNT),
    Column("answered_in_3min", "3分钟内回复", "Answered within 3 min", Kind.COUNT),
    Column("closed_at", "结束时间", "Closed", Kind.TIME),
    Column("close_reason", "结束原因", "Close reason"),
    Column("moves", "转接次数", "Moves", Kind.COUNT),
    Column("buyer_messages", "买家消息数", "Buyer messages", Kind.COUNT),
    Column("agent_messages", "客服消息数", "Agent messages", Kind.COUNT),
    Column("bot_messages", "机器人消息数", "Bot messages", Kind.COUNT),
    Column("rating", "评价", "Rating", Kind.COUNT),
    Column("order_state", "订单结果", "Order outcome"),
)

AGENT_COLUMNS: tuple[Column, ...] = (
    Column("agent", "客服ID", "Agent ID"),
    Column("name", "客服", "Agent"),
    Column("received", "接待人数", "Received", Kind.COUNT),
    Column("not_ordered", "未下单", "Not ordered", Kind.COUNT),
    Column("not_paid", "未付款", "Not paid", Kind.COUNT),
    Column("paid", "已付款", "Paid", Kind.COUNT),
    Column("conversion", "询单转化率", "Inquiry conversion", Kind.RATIO),
    Column("ratings", "评价数", "Ratings", Kind.COUNT),
    Column("satisfaction", "满意度", "Satisfaction", Kind.RATIO),
    Column("waits", "等待次数", "Waits", Kind.COUNT),
    Column("response_3min", "3分钟响应率", "3-min response rate", Kind.RATIO),
    Column("avg_response_s", "平均响应时长(秒)", "Average response (s)", Kind.SECONDS),
    Column("closed", "结束会话数", "Conversations closed", Kind.COUNT),
    Column("messages_sent", "发送消息数", "Messages sent", Kind.COUNT),
)

AUDIT_COLUMNS: tuple[Column, ...] = (
    Column("id", "序号", "No.", Kind.COUNT),
    Column("at", "时间", "Time", Kind.TIME),
    Column("by", "操作人ID", "By (ID)"),
    Column("by_name", "操作人", "By"),
    Column("action", "操作", "Action"),
    Column("subject", "对象ID", "Subject (ID)"),
    Column("subject_name", "对象", "Subject"),
    Column("value", "内容", "Value"),
    Column("previous", "之前", "Before"),
)
"""The audit log (``AuditRow``); actions and values are the protocol's codes (PROTOCOL.md
``audit_log``), the vocabulary of the log itself; who and whom are named beside their ids, as the
conversations sheet names its buyers (CONSOLE.md §7: names, never ids alone)."""


class AuditRow(msgspec.Struct, frozen=True, kw_only=True):
    """An ``AuditEntry`` with the names of who changed it and what it is about."""

    id: int
    at: float
    by: str
    by_name: str
    action: str
    subject: str
    subject_name: str
    value: str
    previous: str


def audit_rows(entries: Sequence[AuditEntry], agents: Mapping[str, str], buyers: Mapping[str, str]) -> list[AuditRow]:
    """The audit sheet's rows: ``by`` named from ``agents`` (a supervisor, ``system`` or a command
    keeps its id), the subject from ``buyers`` for transfers and closes, from ``agents`` for status
    and account changes; a policy entry has no subject."""
    rows = []
    for e in entries:
        about = buyers if e.action in (AuditAction.TRANSFER, AuditAction.CLOSE) else agents
        rows.append(AuditRow(id=e.id, at=e.at, by=e.by, by_name=agents.get(e.by) or e.by, action=e.action.value,
                             subject=e.subject, subject_name=about.get(e.subject) or e.subject, value=e.value,
                             previous=e.previous))
    return rows

SHEET_TITLES = {"conversations": ("会话", "Conversations"), "agents": ("客服", "Agents"),
                "audit": ("审计日志", "Audit log")}
ENCODINGS = ("utf-8-sig", "gbk")


@dataclass(frozen=True)
class Table:
    name: str  # "conversations" or "agents"
    columns: Sequence[Column]
    rows: Sequence[msgspec.Struct]


def header(columns: Sequence[Column], lang: str) -> list[str]:
    return [c.en if lang.startswith("en") else c.zh for c in columns]


def cells(row: msgspec.Struct, columns: Sequence[Column], zone: ZoneInfo) -> list[Any]:
    """A row's values as spreadsheet cells: local naive date-times, numbers, text or None."""
    out: list[Any] = []
    for c in columns:
        value = getattr(row, c.key)
        if value is None:
            out.append(None)
        elif c.kind is Kind.TIME:
            out.append(datetime.fromtimestamp(float(value), zone).replace(tzinfo=None, microsecond=0))
        elif c.kind is Kind.SECONDS:
            out.append(round(float(value), 1))
        elif c.kind is Kind.RATIO:
            out.append(round(float(value), 4))
        elif c.kind is Kind.FLAG:
            out.append(1 if value else 0)
        elif isinstance(value, Enum):
            out.append(value.value)
        else:
            out.append(value)
    return out


def _csv_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def write_csv(path: Path, table: Table, zone: ZoneInfo, *, lang: str = "zh_CN", encoding: str = "utf-8-sig") -> None:
    if encoding not in ENCODINGS:
        raise ValueError(f"encoding must be one of {', '.join(ENCODINGS)}")
    tmp = path.with_name(path.name + ".part")
    with tmp.open("w", encoding=encoding, errors="replace", newline="") as f:
        out = csv.writer(f)
        out.writerow(header(table.columns, lang))
        for row in table.rows:
            out.writerow([_csv_text(v) for v in cells(row, table.columns, zone)])
    tmp.replace(path)  # a reader never sees half a file


def write_xlsx(path: Path, tables: Sequence[Table], zone: ZoneInfo, *, lang: str = "zh_CN") -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    for table in tables:
        zh, en = SHEET_TITLES.get(table.name, (table.name, table.name))
        sheet = book.create_sheet(en if lang.startswith("en") else zh)
        bold = Font(bold=True)
        titles = []
        for text in header(table.columns, lang):
            cell = WriteOnlyCell(sheet, value=text)
            cell.font = bold
            titles.append(cell)
        sheet.append(titles)
        formats = [_number_format(c.kind) for c in table.columns]
        for row in table.rows:
            line = []
            for value, fmt in zip(cells(row, table.columns, zone), formats, strict=True):
                cell = WriteOnlyCell(sheet, value=value)
                if fmt is not None and value is not None:
                    cell.number_format = fmt
                line.append(cell)
            sheet.append(line)
    tmp = path.with_name(path.name + ".part")
    book.save(tmp)
    tmp.replace(path)


def write_day(base: Path, fmt: str, conversations: Sequence[msgspec.Struct], agents: Sequence[msgspec.Struct],
              zone: ZoneInfo, *, lang: str = "zh_CN", encoding: str = "utf-8-sig",
              audit: Sequence[msgspec.Struct] | None = None) -> list[Path]:
    """A day's two tables as ``BASE.xlsx`` (two sheets) or ``BASE-conversations.csv`` and
    ``BASE-agents.csv``; the paths written. For ``fenliu report`` and the supervisor's room.
    With ``audit`` (the day's audit log), a third: the ``audit`` sheet, or ``BASE-audit.csv``."""
    tables = [Table("conversations", CONVERSATION_COLUMNS, conversations), Table("agents", AGENT_COLUMNS, agents)]
    if audit is not None:
        tables.append(Table("audit", AUDIT_COLUMNS, audit))
    if fmt == "xlsx":
        path = base if base.suffix == ".xlsx" else base.with_name(base.name + ".xlsx")
        write_xlsx(path, tables, zone, lang=lang)
        return [path]
    if base.suffix == ".csv":
        base = base.with_suffix("")
    written = []
    for table in tables:
        path = base.with_name(f"{base.name}-{table.name}.csv")
        write_csv(path, table, zone, lang=lang, encoding=encoding)
        written.append(path)
    return written


def _number_format(kind: Kind) -> str | None:
    return {Kind.TIME: "yyyy-mm-dd hh:mm:ss", Kind.RATIO: "0.0%", Kind.SECONDS: "0.0"}.get(kind)
