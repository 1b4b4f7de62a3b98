"""The room's pick list (issue 14, CONSOLE.md §7): a queue's buyers or an agent's conversations.

One table model for both, since the room shows one of them at a time: rows are ``Pick`` objects
(``PickRole`` hands them out), the name column is what the filter box searches, and waits are
kept as the moment they started so the list ages every second without asking the server again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from PySide6.QtCore import (
    QT_TRANSLATE_NOOP,
    QAbstractTableModel,
    QCoreApplication,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)

from console.protocol.messages import Conversation, QueuedBuyer
from console.ui.labels import preview_text, wait_label

PickRole = Qt.ItemDataRole.UserRole  # the Pick of a row
SortRole = Qt.ItemDataRole.UserRole + 1  # a number to sort by (waits in seconds, positions)
AnyIndex = QModelIndex | QPersistentModelIndex


class PickKind(Enum):
    QUEUE = "queue"  # a pool's buyers, in order
    AGENT = "agent"  # an agent's open sessions


@dataclass(frozen=True, slots=True)
class Pick:
    """One buyer to pick: who, where in the list, and since when it waits (None: not waiting)."""

    id: str
    name: str
    position: int
    waiting_since: float | None
    eta: float | None = None
    last_text: str = ""


def picks_from_queue(buyers: Sequence[QueuedBuyer], now: float) -> list[Pick]:
    return [Pick(b.id, b.name, b.position, now - b.waited, b.eta) for b in buyers]


def picks_from_conversations(conversations: Sequence[Conversation]) -> list[Pick]:
    """An agent's sessions, the longest-waiting unanswered buyer first, then the others by last message."""
    ordered = sorted(conversations, key=lambda c: (c.waiting_since is None, c.waiting_since or 0.0, -c.last_at))
    return [Pick(c.id, c.name, i, c.waiting_since, None, preview_text(c.last_text)) for i, c in enumerate(ordered, start=1)]


_Column = tuple[str, Callable[[Pick, float], str], Callable[[Pick, float], Any]]


def _waited(p: Pick, now: float) -> float:
    return -1.0 if p.waiting_since is None else max(0.0, now - p.waiting_since)


def _wait_text(p: Pick, now: float) -> str:
    return "-" if p.waiting_since is None else wait_label(_waited(p, now))


_COLUMNS: dict[PickKind, tuple[_Column, ...]] = {
    PickKind.QUEUE: (
        (str(QT_TRANSLATE_NOOP("RoomPicks", "位置")), lambda p, now: str(p.position), lambda p, now: p.position),
        (str(QT_TRANSLATE_NOOP("RoomPicks", "买家")), lambda p, now: p.name, lambda p, now: p.name),
        (str(QT_TRANSLATE_NOOP("RoomPicks", "已等待")), _wait_text, _waited),
        (str(QT_TRANSLATE_NOOP("RoomPicks", "预估等待")),
         lambda p, now: "-" if p.eta is None else wait_label(p.eta), lambda p, now: p.eta if p.eta is not None else -1.0),
    ),
    PickKind.AGENT: (
        (str(QT_TRANSLATE_NOOP("RoomPicks", "买家")), lambda p, now: p.name, lambda p, now: p.name),
        (str(QT_TRANSLATE_NOOP("RoomPicks", "等待回复")), _wait_text, _waited),
        (str(QT_TRANSLATE_NOOP("RoomPicks", "最新消息")), lambda p, now: p.last_text, lambda p, now: p.last_text),
    ),
}
NAME_COLUMN = {PickKind.QUEUE: 1, PickKind.AGENT: 0}


class PickModel(QAbstractTableModel):
    """What the room's pick list shows; see the module docstring."""

    def __init__(self, clock: Callable[[], float], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._clock = clock
        self.kind = PickKind.QUEUE
        self.source = ""  # the pool or agent id the rows belong to
        self._rows: list[Pick] = []

    def show(self, kind: PickKind, source: str, picks: Sequence[Pick]) -> None:
        """The rows of one queue or agent; the same ids in the same order only change cells."""
        picks = list(picks)
        if kind is self.kind and source == self.source and [p.id for p in picks] == [p.id for p in self._rows]:
            self._rows = picks
            self.tick()
            return
        self.beginResetModel()  # another list, or buyers came or went: a list of tens
        self.kind, self.source, self._rows = kind, source, picks
        self.endResetModel()

    def tick(self) -> None:
        """Waits have grown: repaint the cells (the clock is read when painting)."""
        if self._rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._rows) - 1, self.columnCount() - 1),
                                  [Qt.ItemDataRole.DisplayRole, SortRole])

    def pick(self, row: int) -> Pick:
        return self._rows[row]

    def picks(self) -> list[Pick]:
        return list(self._rows)

    @property
    def name_column(self) -> int:
        return NAME_COLUMN[self.kind]

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(_COLUMNS[self.kind])

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        columns = _COLUMNS[self.kind]
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole \
                and 0 <= section < len(columns):
            return QCoreApplication.translate("RoomPicks", columns[section][0])
        return None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._rows) or index.column() >= self.columnCount():
            return None
        pick = self._rows[index.row()]
        column = _COLUMNS[self.kind][index.column()]
        if role == PickRole:
            return pick
        if role == Qt.ItemDataRole.DisplayRole:
            return column[1](pick, self._clock())
        if role == SortRole:
            return column[2](pick, self._clock())
        if role == Qt.ItemDataRole.ToolTipRole and self.kind is PickKind.AGENT and pick.last_text:
            return pick.last_text
        return None
