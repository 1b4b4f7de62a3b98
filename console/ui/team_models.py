"""Table models for the supervisor view: agents and queues (CONSOLE.md §3)."""

from __future__ import annotations

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
AnyIndex = QModelIndex | QPersistentModelIndex
Row = TypeVar("Row", AgentLine, QueueLine)


class _LineTable(QAbstractTableModel, Generic[Row]):
    """Rows of frozen dataclasses; an update with the same rows in the same order is a dataChanged."""

    columns: tuple[tuple[str, Callable[[Any], str]], ...] = ()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[Row] = []

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
        if role == Qt.ItemDataRole.DisplayRole:
            return self.columns[index.column()][1](row)
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() > 0:
            return int(Qt.AlignmentFlag.AlignCenter)
        return self._extra(row, index.column(), role)

    def _extra(self, row: Row, column: int, role: int) -> Any:
        return None


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


def _wait(value: float | None) -> str:
    return "-" if value is None else wait_label(value)


def _queue_name(name: str) -> str:
    if name == "pool":
        return QCoreApplication.translate("TeamTables", "留言池")
    if name == "queue:shop":
        return QCoreApplication.translate("TeamTables", "全店排队")
    return name.removeprefix("queue:")


class AgentTableModel(_LineTable[AgentLine]):
    columns: tuple[tuple[str, Callable[[Any], str]], ...] = (
        (str(QT_TRANSLATE_NOOP("TeamTables", "客服")), lambda a: a.name),
        (str(QT_TRANSLATE_NOOP("TeamTables", "状态")), lambda a: status_title(a.status)),
        (str(QT_TRANSLATE_NOOP("TeamTables", "接待中/上限")), lambda a: f"{a.load}/{a.cap}"),
        (str(QT_TRANSLATE_NOOP("TeamTables", "饱和度")), lambda a: _percent(a.saturation)),
        (str(QT_TRANSLATE_NOOP("TeamTables", "今日接待")), lambda a: tile_text("received_today", a.today)),
        (str(QT_TRANSLATE_NOOP("TeamTables", "未下单")), lambda a: tile_text("not_ordered", a.today)),
        (str(QT_TRANSLATE_NOOP("TeamTables", "未付款")), lambda a: tile_text("not_paid", a.today)),
        (str(QT_TRANSLATE_NOOP("TeamTables", "已付款")), lambda a: tile_text("paid", a.today)),
        (str(QT_TRANSLATE_NOOP("TeamTables", "询单转化率")), lambda a: tile_text("conversion", a.today)),
    )

    def _extra(self, row: AgentLine, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.ForegroundRole and column == 1:
            return QColor({"online": "#1e9e57", "suspended": "#c27c0e"}.get(row.status, "#7b8794"))
        return None


class QueueTableModel(_LineTable[QueueLine]):
    columns: tuple[tuple[str, Callable[[Any], str]], ...] = (
        (str(QT_TRANSLATE_NOOP("TeamTables", "队列")), lambda q: _queue_name(q.name)),
        (str(QT_TRANSLATE_NOOP("TeamTables", "排队人数")), lambda q: str(q.length)),
        (str(QT_TRANSLATE_NOOP("TeamTables", "最长等待")), lambda q: _wait(q.longest_wait)),
        (str(QT_TRANSLATE_NOOP("TeamTables", "预估等待")), lambda q: _wait(q.eta)),
    )
