"""The room's audit log (issue 14, CONSOLE.md §7): who changed what, when, live and filterable.

``AuditModel`` holds the day's ``AuditEntry`` objects (``EntryRole`` hands them out) and only
appends: the room asks the server every few seconds for the entries after the last id it has
(``get_audit``), and new rows arrive as one ``beginInsertRows`` range. ``AuditFilter`` keeps the
rows of one action whose words contain the filter text. Times are local, words translated.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, tzinfo
from typing import Any

from PySide6.QtCore import (
    QT_TRANSLATE_NOOP,
    QAbstractTableModel,
    QCoreApplication,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from console.protocol.messages import AuditAction, AuditEntry
from console.ui.labels import local_zone
from console.ui.status_controls import status_title

EntryRole = Qt.ItemDataRole.UserRole  # the AuditEntry of a row
AnyIndex = QModelIndex | QPersistentModelIndex

_ACTIONS = {
    AuditAction.STATUS: QT_TRANSLATE_NOOP("Audit", "状态"),
    AuditAction.TRANSFER: QT_TRANSLATE_NOOP("Audit", "转接"),
    AuditAction.CLOSE: QT_TRANSLATE_NOOP("Audit", "结束会话"),
    AuditAction.POLICY: QT_TRANSLATE_NOOP("Audit", "应用策略"),
    AuditAction.ACCOUNT: QT_TRANSLATE_NOOP("Audit", "账号"),
}
_ACCOUNT_CHANGES = {
    "passwd": QT_TRANSLATE_NOOP("Audit", "修改密码"),
    "disable": QT_TRANSLATE_NOOP("Audit", "停用"),
    "enable": QT_TRANSLATE_NOOP("Audit", "启用"),
}
_HEADERS = (QT_TRANSLATE_NOOP("Audit", "时间"), QT_TRANSLATE_NOOP("Audit", "操作人"),
            QT_TRANSLATE_NOOP("Audit", "操作"), QT_TRANSLATE_NOOP("Audit", "对象"),
            QT_TRANSLATE_NOOP("Audit", "变更"))


def _tr(text: str) -> str:
    return QCoreApplication.translate("Audit", text)


def action_text(action: AuditAction) -> str:
    return _tr(_ACTIONS[action])


def _status(value: str) -> str:
    try:
        return status_title(value)
    except KeyError:
        return value


def what_text(entry: AuditEntry, name: Callable[[str], str], group: Callable[[str], str] = lambda g: g) -> str:
    """What changed, in words (``name``: an agent's display name, ``group``: a group's)."""
    if entry.action is AuditAction.STATUS:
        return _tr("%1 → %2").replace("%1", _status(entry.previous)).replace("%2", _status(entry.value))
    if entry.action is AuditAction.TRANSFER:
        target = entry.value
        shown = (_tr("分组 %1").replace("%1", group(target[len("group:"):])) if target.startswith("group:")
                 else name(target))
        return _tr("从 %1 转给 %2").replace("%1", name(entry.previous) or "-").replace("%2", shown)
    if entry.action is AuditAction.CLOSE:
        return _tr("结束了 %1 的会话").replace("%1", name(entry.previous) or "-")
    if entry.action is AuditAction.POLICY:
        return _tr("策略 %1（%2）").replace("%1", entry.value).replace("%2", entry.previous)
    if entry.value.startswith("add:"):
        return _tr("新建账号（%1）").replace("%1", entry.value[len("add:"):])
    change = _ACCOUNT_CHANGES.get(entry.value)
    return _tr(change) if change is not None else entry.value


class AuditModel(QAbstractTableModel):
    """The day's audit entries, oldest first; rows are only ever appended (or all replaced)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._entries: list[AuditEntry] = []
        self._names: dict[str, str] = {}  # agents (the team)
        self._buyers: dict[str, str] = {}  # buyers and groups: the names the audit answers carry
        self._groups: dict[str, str] = {}
        self.zone: tzinfo = local_zone()  # the shop's, once the server says it (set_zone)

    def set_zone(self, zone: tzinfo) -> None:
        """Times in the shop's timezone (the day's, the report's), whatever the console machine's."""
        self.zone = zone
        if self._entries:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._entries) - 1, 0))

    def set_names(self, names: dict[str, str]) -> None:
        if names != self._names:
            self._names = dict(names)
            if self._entries:
                self.dataChanged.emit(self.index(0, 0), self.index(len(self._entries) - 1, len(_HEADERS) - 1))

    def add_names(self, buyers: dict[str, str], groups: dict[str, str]) -> None:
        """Names of the buyers and groups entries mention (``AuditLog.buyers``/``groups``), before
        the entries that mention them are added; a name changed since is shown on every row."""
        changed = any(self._buyers.get(k) != v for k, v in buyers.items()) or any(
            self._groups.get(k) != v for k, v in groups.items())
        self._buyers.update(buyers)
        self._groups.update(groups)
        if changed and self._entries:
            self.dataChanged.emit(self.index(0, 3), self.index(len(self._entries) - 1, 4))

    def name(self, agent: str) -> str:
        return self._names.get(agent, agent)

    def buyer(self, buyer: str) -> str:
        return self._buyers.get(buyer, buyer)

    def group(self, group: str) -> str:
        return self._groups.get(group, group)

    def reset(self, entries: Sequence[AuditEntry]) -> None:
        """A new day (or a first load): every row replaced."""
        self.beginResetModel()
        self._entries = list(entries)
        self.endResetModel()

    def append(self, entries: Sequence[AuditEntry]) -> None:
        last = self.last_id()
        new = [e for e in entries if e.id > last]
        if not new:
            return
        first = len(self._entries)
        self.beginInsertRows(QModelIndex(), first, first + len(new) - 1)
        self._entries.extend(new)
        self.endInsertRows()

    def last_id(self) -> int:
        return self._entries[-1].id if self._entries else 0

    def entries(self) -> list[AuditEntry]:
        return list(self._entries)

    def entry(self, row: int) -> AuditEntry:
        return self._entries[row]

    # -- Qt overrides --------------------------------------------------------------------------------

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: N802 - Qt override
        return 0 if parent.isValid() else len(self._entries)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: N802 - Qt override
        return 0 if parent.isValid() else len(_HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802 - Qt override
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole and 0 <= section < len(_HEADERS):
            return _tr(_HEADERS[section])
        return None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._entries):
            return None
        entry = self._entries[index.row()]
        if role == EntryRole:
            return entry
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        column = index.column()
        if column == 0:
            return datetime.fromtimestamp(entry.at, self.zone).strftime("%H:%M:%S")
        if column == 1:
            return self.name(entry.by) or "-"  # empty: migrated from the engine log (who is not known)
        if column == 2:
            return action_text(entry.action)
        if column == 3:
            if entry.action in (AuditAction.TRANSFER, AuditAction.CLOSE):
                return self.buyer(entry.subject)
            return self.name(entry.subject) if entry.action in (AuditAction.STATUS, AuditAction.ACCOUNT) else entry.subject
        if column == 4:
            return what_text(entry, self.name, self.group)
        return None


class AuditFilter(QSortFilterProxyModel):
    """Rows of one action (None: every action) whose words contain the text (any column)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._action: AuditAction | None = None
        self._text = ""

    def set_action(self, action: AuditAction | None) -> None:
        self._refilter(lambda: setattr(self, "_action", action))

    def set_text(self, text: str) -> None:
        self._refilter(lambda: setattr(self, "_text", text.strip().casefold()))

    def _refilter(self, change: Callable[[], None]) -> None:
        # Qt 6.10 deprecates invalidateFilter for begin/endFilterChange (6.9+); the pin reaches 6.7
        if hasattr(self, "beginFilterChange"):
            self.beginFilterChange()
            change()
            self.endFilterChange()
        else:
            change()
            self.invalidateFilter()

    def filterAcceptsRow(self, source_row: int, source_parent: AnyIndex) -> bool:  # noqa: N802 - Qt override
        model = self.sourceModel()
        entry = model.index(source_row, 0, source_parent).data(EntryRole)
        if not isinstance(entry, AuditEntry) or (self._action is not None and entry.action is not self._action):
            return False
        if not self._text:
            return True
        words = [str(model.index(source_row, c, source_parent).data() or "") for c in range(model.columnCount())]
        words += [entry.by, entry.subject]
        return any(self._text in w.casefold() for w in words)


class AuditView(QWidget):
    """The audit log page of the room: a filter box, an action choice, the table (newest last)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("auditView")
        self.model = AuditModel(self)
        self.filtered = AuditFilter(self)
        self.filtered.setSourceModel(self.model)
        self.search = QLineEdit(self)
        self.search.setObjectName("auditSearch")
        self.search.setPlaceholderText(self.tr("按操作人、对象或内容筛选"))
        self.search.setClearButtonEnabled(True)
        self.actions = QComboBox(self)
        self.actions.setObjectName("auditActions")
        self.actions.addItem(self.tr("全部操作"), None)
        for action in AuditAction:
            self.actions.addItem(action_text(action), action.value)
        self.count = QLabel(self)
        self.table = QTableView(self)
        self.table.setModel(self.filtered)
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        top = QHBoxLayout()
        top.addWidget(self.search, 2)
        top.addWidget(self.actions)
        top.addStretch(1)
        top.addWidget(self.count)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table)
        self.search.textChanged.connect(self._on_search_text_changed)
        self.actions.currentIndexChanged.connect(self._on_actions_current_index_changed)
        self.model.rowsInserted.connect(self._on_model_changed)
        self.model.modelReset.connect(self._on_model_changed)
        self._on_model_changed()

    def _on_search_text_changed(self, text: str) -> None:
        self.filtered.set_text(text)
        self._on_model_changed()

    def _on_actions_current_index_changed(self, _index: int) -> None:
        value = self.actions.currentData()
        self.filtered.set_action(None if value is None else AuditAction(value))
        self._on_model_changed()

    def _on_model_changed(self) -> None:
        shown, total = self.filtered.rowCount(), self.model.rowCount()
        self.count.setText(self.tr("%1 / %2 条").replace("%1", str(shown)).replace("%2", str(total)))
        if shown and not self.search.text() and self.actions.currentIndex() == 0:
            self.table.scrollToBottom()  # live: the newest entry stays in sight
