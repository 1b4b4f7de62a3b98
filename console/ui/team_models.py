"""Table models for the supervisor view: agents and queues (CONSOLE.md §3, §7).

Each column gives its text and a number to sort by (``SortRole``); durations (how long in a
status, the longest wait) are kept as the moment they started and read against the clock when
painted, so ``tick()`` ages them without asking the server."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from PySide6.QtCore import (
    QT_TRANSLATE_NOOP,
    QAbstractTableModel,
    QCoreApplication,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QColor

from console.ui.labels import tile_text, wait_label
from console.ui.status_controls import status_title
from console.ui.team_data import AgentLine, QueueLine

RowRole = Qt.ItemDataRole.UserRole  # the AgentLine / QueueLine of a row
SortRole = Qt.ItemDataRole.UserRole + 1  # what a column sorts by: a number (a name for names)
AnyIndex = QModelIndex | QPersistentModelIndex
Row = TypeVar("Row", AgentLine, QueueLine)


class _LineTable(QAbstractTableModel, Generic[Row]):
    """Rows of frozen dataclasses; an update with the same rows in the same order is a dataChanged."""

    columns: tuple[tuple[str, Callable[[Any], str]], ...] = ()
    sort_keys: tuple[Callable[[Any, float], Any], ...] = ()  # per column; none: sort by the text
    timed: tuple[Callable[[Any, float], str] | None, ...] = ()  # per column: text that reads the clock

    def __init__(self, parent: QObject | None = None, clock: Callable[[], float] = time.time) -> None:
        super().__init__(parent)
        self._rows: list[Row] = []
        self._clock = clock

    def tick(self) -> None:
        """The clock moved on: repaint the columns that read it."""
        timed = [c for c, text in enumerate(self.timed) if text is not None]
        if self._rows and timed:
            self.dataChanged.emit(self.index(0, min(timed)), self.index(len(self._rows) - 1, max(timed)),
                                  [Qt.ItemDataRole.DisplayRole, SortRole])

    def set_rows(self, rows: Sequence[Row]) -> None:
        rows = list(rows)
        if [self._key(r) for r in rows] == [self._key(r) for r in self._rows]:
            self._rows = rows
            if rows:
                self.dataChanged.emit(self.index(0, 0), self.index(len(rows) - 1, len(self.columns) - 1))
            return
        self.beginResetModel()  # a row came or went: a table of a dozen rows
        self._rows = rows
        self.endResetModel()

    def row(self, number: int) -> Row:  # type: ignore[override]
        return self._rows[number]

    @staticmethod
    def _key(row: Row) -> str:
        return row.id if isinstance(row, AgentLine) else row.name

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole \
                and 0 <= section < len(self.columns):
            return QCoreApplication.translate("TeamTables", self.columns[section][0])
        return None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        row = self._rows[index.row()]
        if role == RowRole:
            return row
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            timed = self.timed[column] if column < len(self.timed) else None
            return timed(row, self._clock()) if timed is not None else self.columns[column][1](row)
        if role == SortRole:
            if column < len(self.sort_keys):
                return self.sort_keys[column](row, self._clock())
            return self.columns[column][1](row)
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() > 0:
            return int(Qt.AlignmentFlag.AlignCenter)
        return self._extra(row, index.column(), role)

    def _extra(self, row: Row, column: int, role: int) -> Any:
        return None


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


def _wait(value: float | None) -> str:
    return "-" if value is None else wait_label(value)


def queue_title(name: str, group: str = "") -> str:
    """A pool as the supervisor reads it (留言池, 全店排队, or the group: its name when the server
    gave one, ``group``, else its id)."""
    if name == "pool":
        return QCoreApplication.translate("TeamTables", "留言池")
    if name == "queue:shop":
        return QCoreApplication.translate("TeamTables", "全店排队")
    return group or name.removeprefix("queue:")


def _tile(name: str) -> Callable[[AgentLine, float], Any]:
    def key(a: AgentLine, now: float) -> Any:
        value = getattr(a.today, name)
        return -1.0 if value is None else float(value)
    return key


def _since(value: float | None, now: float) -> str:
    return "-" if value is None else wait_label(max(0.0, now - value))


def _since_key(value: float | None, now: float) -> float:
    return -1.0 if value is None else max(0.0, now - value)


_TILE_COLUMNS = (
    (str(QT_TRANSLATE_NOOP("TeamTables", "今日接待")), "received_today"),
    (str(QT_TRANSLATE_NOOP("TeamTables", "未下单")), "not_ordered"),
    (str(QT_TRANSLATE_NOOP("TeamTables", "未付款")), "not_paid"),
    (str(QT_TRANSLATE_NOOP("TeamTables", "已付款")), "paid"),
    (str(QT_TRANSLATE_NOOP("TeamTables", "询单转化率")), "conversion"),
    (str(QT_TRANSLATE_NOOP("TeamTables", "昨日满意度")), "satisfaction_yesterday"),
    (str(QT_TRANSLATE_NOOP("TeamTables", "昨日3分钟响应率")), "response_3min_yesterday"),
    (str(QT_TRANSLATE_NOOP("TeamTables", "昨日平均响应")), "avg_response_yesterday"),
)


_STATUS_ORDER = {"online": 0, "suspended": 1, "offline": 2}


def _tile_text(name: str) -> Callable[[AgentLine], str]:
    return lambda a: tile_text(name, a.today)


class AgentTableModel(_LineTable[AgentLine]):
    """The per-agent table (issue 14): status and for how long, load / cap, every tile, the
    longest current wait; sortable through ``SortRole``."""

    columns: tuple[tuple[str, Callable[[Any], str]], ...] = (
        (str(QT_TRANSLATE_NOOP("TeamTables", "客服")), lambda a: a.name),
        (str(QT_TRANSLATE_NOOP("TeamTables", "状态")), lambda a: status_title(a.status)),
        (str(QT_TRANSLATE_NOOP("TeamTables", "状态时长")), lambda a: "-"),
        (str(QT_TRANSLATE_NOOP("TeamTables", "接待中/上限")), lambda a: f"{a.load}/{a.cap}"),
        (str(QT_TRANSLATE_NOOP("TeamTables", "饱和度")), lambda a: _percent(a.saturation)),
        *((title, _tile_text(name)) for title, name in _TILE_COLUMNS),
        (str(QT_TRANSLATE_NOOP("TeamTables", "最长等待")), lambda a: "-"),
    )
    sort_keys: tuple[Callable[[Any, float], Any], ...] = (
        lambda a, now: a.name,
        lambda a, now: _STATUS_ORDER.get(a.status, len(_STATUS_ORDER)),
        lambda a, now: _since_key(a.status_since, now),
        lambda a, now: a.load,
        lambda a, now: -1.0 if a.saturation is None else a.saturation,
        *(_tile(name) for _, name in _TILE_COLUMNS),
        lambda a, now: _since_key(a.waiting_since, now),
    )
    timed: tuple[Callable[[Any, float], str] | None, ...] = (
        None, None, lambda a, now: _since(a.status_since, now), *([None] * (2 + len(_TILE_COLUMNS))),
        lambda a, now: _since(a.waiting_since, now),
    )

    def _extra(self, row: AgentLine, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.ForegroundRole and column == 1:
            return QColor({"online": "#1e9e57", "suspended": "#c27c0e"}.get(row.status, "#7b8794"))
        return None


class QueueTableModel(_LineTable[QueueLine]):
    columns: tuple[tuple[str, Callable[[Any], str]], ...] = (
        (str(QT_TRANSLATE_NOOP("TeamTables", "队列")), lambda q: queue_title(q.name, q.title)),
        (str(QT_TRANSLATE_NOOP("TeamTables", "排队人数")), lambda q: str(q.length)),
        (str(QT_TRANSLATE_NOOP("TeamTables", "最长等待")), lambda q: _wait(q.longest_wait)),
        (str(QT_TRANSLATE_NOOP("TeamTables", "预估等待")), lambda q: _wait(q.eta)),
    )
