"""The reception list (接待列表) as a two-level item model (CONSOLE.md §1).

Sections are the top-level rows, in the fixed ``SECTION_ORDER``; conversations are their
children. With grouping off there is a single top-level row holding every conversation by last
activity (the view shows its children as a flat list). Live updates arrive through
``queue_update``/``queue_remove``, are merged for a few milliseconds by a single-shot timer and
applied as row inserts, removes, moves and ``dataChanged``; only a snapshot, a grouping switch
or a filter change resets the model.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QCoreApplication,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)

from console.reception.emoji import with_emoji
from console.reception.model import SECTION_ORDER, Conversation, Section
from console.reception.sections import first_pending, flat_sort_key, sort_key
from console.ui.labels import preview_text
from console.ui.state import BUYER_KINDS

ConversationRole = Qt.ItemDataRole.UserRole  # the Conversation of a row (None on section rows)
SectionRole = Qt.ItemDataRole.UserRole + 1  # the Section (None for the flat list's one group)
CountRole = Qt.ItemDataRole.UserRole + 2  # number of rows in a section
IsSectionRole = Qt.ItemDataRole.UserRole + 3

MERGE_MS = 30
SECTION_FLAGS = Qt.ItemFlag.ItemIsEnabled
# Conversation rows never have children: saying so spares the view a rowCount() per row on
# every relayout (QTreeView asks flags() before hasChildren()).
ROW_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren
NO_FLAGS = Qt.ItemFlag.NoItemFlags
FILTER_LIMIT = 200  # CONSOLE.md §3: the latest 200 buyers of a tile

AnyIndex = QModelIndex | QPersistentModelIndex
SortKey = tuple[Any, ...]


def is_section(index: AnyIndex) -> bool:
    """Whether a valid index of this model is a section row (no ``data()`` call: the view asks
    every row's size on each relayout)."""
    return index.internalId() == 0


def section_title(section: Section | None) -> str:
    titles = {
        Section.PENDING: QCoreApplication.translate("Section", "待回复"),
        Section.BOT_REPLIED: QCoreApplication.translate("Section", "已被自动回复"),
        Section.REPLIED: QCoreApplication.translate("Section", "已回复"),
        Section.STAFF: QCoreApplication.translate("Section", "小二"),
        Section.GROUP: QCoreApplication.translate("Section", "群聊"),
    }
    return titles[section] if section is not None else QCoreApplication.translate("Section", "全部")


class _Group:
    """One top-level row: its conversations and their sort keys, kept in step."""

    __slots__ = ("section", "rows", "keys")

    def __init__(self, section: Section | None) -> None:
        self.section = section
        self.rows: list[Conversation] = []
        self.keys: list[SortKey] = []

    def key(self, conversation: Conversation) -> SortKey:
        # CONSOLE.md §1: pending oldest-waiting first, the others (and the flat list) latest first
        return flat_sort_key(conversation) if self.section is None else sort_key(conversation)

    def find(self, conversation: Conversation) -> int:
        row = bisect_left(self.keys, self.key(conversation))
        if row < len(self.rows) and self.rows[row].id == conversation.id:
            return row
        return next(i for i, c in enumerate(self.rows) if c.id == conversation.id)  # pragma: no cover


class ReceptionModel(QAbstractItemModel):
    """Conversations grouped by section; hands out ``Conversation`` objects by ``ConversationRole``."""

    filter_changed = Signal(str, int)  # tile ("" when off), number of buyers in the filter
    updates_applied = Signal()  # after a merged burst, a reset or a snapshot

    def __init__(self, parent: QObject | None = None, *, grouped: bool = True, merge_ms: int = MERGE_MS,
                 source: Callable[[], Mapping[str, Conversation]] | None = None) -> None:
        """``source`` gives the conversations where they already live (the console's state): the
        model then keeps no copy of its own and only reads it when it lays out everything again
        (a snapshot, a grouping or filter switch, always after applying what was queued)."""
        super().__init__(parent)
        self._grouped = grouped
        self._source = source
        self._own: dict[str, Conversation] = {}  # the conversations, when no source holds them
        self._groups: list[_Group] = []
        self._where: dict[str, tuple[int, Conversation]] = {}  # id -> (group number, row object)
        self._filter_tile = ""
        self._filter: frozenset[str] | None = None
        self._queued: dict[str, Conversation | None] = {}
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(merge_ms)
        self._timer.timeout.connect(self.flush)
        self._rebuild()

    # -- public API ---------------------------------------------------------------------------

    @property
    def grouped(self) -> bool:
        return self._grouped

    @property
    def filter_tile(self) -> str:
        return self._filter_tile

    def load(self, conversations: Iterable[Conversation] = ()) -> None:
        """A full snapshot: the only reset caused by the server. With a ``source``, the snapshot
        is read from it and ``conversations`` is not used."""
        self._queued.clear()
        self._timer.stop()
        self.beginResetModel()
        if self._source is None:
            self._own = {c.id: c for c in conversations}
        self._rebuild()
        self.endResetModel()
        self.updates_applied.emit()

    def set_grouped(self, grouped: bool) -> None:
        if grouped != self._grouped:
            self.flush()
            self.beginResetModel()
            self._grouped = grouped
            self._rebuild()
            self.endResetModel()
            self.updates_applied.emit()

    def set_filter(self, tile: str, buyers: Iterable[str] | None) -> None:
        """Show only these buyers (a 未下单/未付款 tile click); ``buyers=None`` clears it."""
        self.flush()
        self.beginResetModel()
        self._filter_tile = tile if buyers is not None else ""
        self._filter = frozenset(list(buyers)[:FILTER_LIMIT]) if buyers is not None else None
        self._rebuild()
        self.endResetModel()
        self.filter_changed.emit(self._filter_tile, len(self._filter) if self._filter is not None else 0)
        self.updates_applied.emit()

    def clear_filter(self) -> None:
        if self._filter is not None:
            self.set_filter("", None)

    def queue_update(self, conversation: Conversation) -> None:
        self._queued[conversation.id] = conversation
        if not self._timer.isActive():
            self._timer.start()

    def queue_remove(self, conversation: str) -> None:
        self._queued[conversation] = None
        if not self._timer.isActive():
            self._timer.start()

    def flush(self) -> None:
        """Apply the queued updates now, as row ranges."""
        self._timer.stop()
        if not self._queued:
            return
        queued, self._queued = self._queued, {}
        for conversation_id, conversation in queued.items():
            if conversation is None:
                if self._source is None:
                    self._own.pop(conversation_id, None)
                self._remove(conversation_id)
            else:
                if self._source is None:
                    self._own[conversation_id] = conversation
                self._place(conversation)
        self.updates_applied.emit()

    def conversation(self, index: AnyIndex) -> Conversation | None:
        if not index.isValid() or index.internalId() == 0:
            return None
        return self._groups[index.internalId() - 1].rows[index.row()]

    def section_index(self, section: Section) -> QModelIndex:
        for row, group in enumerate(self._groups):
            if group.section == section:
                return self.createIndex(row, 0, 0)
        return QModelIndex()

    def root_index(self) -> QModelIndex:
        """The index whose children the view shows: invalid when grouped, the one group when flat."""
        return QModelIndex() if self._grouped else self.createIndex(0, 0, 0)

    def index_of(self, conversation: str) -> QModelIndex:
        where = self._where.get(conversation)
        if where is None:
            return QModelIndex()
        number, current = where
        return self.createIndex(self._groups[number].find(current), 0, number + 1)

    def first_pending(self) -> QModelIndex:
        """The first pending buyer, oldest waiting first (Ctrl+Up)."""
        first = first_pending(c for _, c in self._where.values())
        return QModelIndex() if first is None else self.index_of(first.id)

    def visible_ids(self) -> list[str]:
        return [c.id for group in self._groups for c in group.rows]

    # -- Qt model interface --------------------------------------------------------------------

    def index(self, row: int, column: int, parent: AnyIndex = QModelIndex()) -> QModelIndex:
        if column != 0 or row < 0:
            return QModelIndex()
        if not parent.isValid():
            return self.createIndex(row, 0, 0) if row < len(self._groups) else QModelIndex()
        if parent.internalId() != 0 or parent.row() >= len(self._groups):
            return QModelIndex()
        group = parent.row()
        return self.createIndex(row, 0, group + 1) if row < len(self._groups[group].rows) else QModelIndex()

    def parent(self, index: AnyIndex = QModelIndex()) -> QModelIndex:  # type: ignore[override]
        if not index.isValid() or index.internalId() == 0:
            return QModelIndex()
        return self.createIndex(index.internalId() - 1, 0, 0)

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:
        if not parent.isValid():
            return len(self._groups)
        if parent.internalId() == 0 and parent.column() == 0:
            return len(self._groups[parent.row()].rows)
        return 0

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:
        return 1

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        # Called twice per row on every relayout of the view: constants, no enum arithmetic.
        if not index.isValid():
            return NO_FLAGS
        return SECTION_FLAGS if index.internalId() == 0 else ROW_FLAGS

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        if index.internalId() == 0:
            group = self._groups[index.row()]
            if role == Qt.ItemDataRole.DisplayRole:
                return section_title(group.section)
            if role == SectionRole:
                return group.section
            if role == CountRole:
                return len(group.rows)
            if role == IsSectionRole:
                return True
            return None
        conversation = self._groups[index.internalId() - 1].rows[index.row()]
        if role == ConversationRole:
            return conversation
        if role == Qt.ItemDataRole.DisplayRole:
            return conversation.name
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{conversation.name}\n{with_emoji(preview_text(conversation.last_text))}"
        if role == SectionRole:
            return conversation.section
        if role == IsSectionRole:
            return False
        return None

    # -- internals -------------------------------------------------------------------------------

    def _visible(self, conversation: Conversation) -> bool:
        if conversation.cleared:
            return False
        # The order tiles count buyers (CONSOLE.md §3): platform staff and group chats never show
        # under them, whatever list the server sends (issue 12, defect 6).
        return self._filter is None or (conversation.id in self._filter and conversation.kind in BUYER_KINDS)

    def _group_of(self, conversation: Conversation) -> int:
        return SECTION_ORDER.index(conversation.section) if self._grouped else 0

    def _rebuild(self) -> None:
        self._groups = [_Group(s) for s in SECTION_ORDER] if self._grouped else [_Group(None)]
        self._where = {}
        for conversation in (self._source() if self._source is not None else self._own).values():
            if self._visible(conversation):
                self._groups[self._group_of(conversation)].rows.append(conversation)
        for number, group in enumerate(self._groups):
            group.rows.sort(key=group.key)
            group.keys = [group.key(c) for c in group.rows]
            for conversation in group.rows:
                self._where[conversation.id] = (number, conversation)

    def _header_changed(self, number: int) -> None:
        header = self.createIndex(number, 0, 0)
        self.dataChanged.emit(header, header)

    def _remove(self, conversation_id: str) -> None:
        where = self._where.pop(conversation_id, None)
        if where is None:
            return
        number, current = where
        group = self._groups[number]
        row = group.find(current)
        self.beginRemoveRows(self.createIndex(number, 0, 0), row, row)
        del group.rows[row]
        del group.keys[row]
        self.endRemoveRows()
        self._header_changed(number)

    def _place(self, conversation: Conversation) -> None:
        if not self._visible(conversation):
            self._remove(conversation.id)
            return
        target = self._group_of(conversation)
        group = self._groups[target]
        key = group.key(conversation)
        where = self._where.get(conversation.id)
        self._where[conversation.id] = (target, conversation)
        if where is None:
            row = bisect_left(group.keys, key)
            self.beginInsertRows(self.createIndex(target, 0, 0), row, row)
            group.rows.insert(row, conversation)
            group.keys.insert(row, key)
            self.endInsertRows()
            self._header_changed(target)
            return
        source, current = where
        old_group = self._groups[source]
        old_row = old_group.find(current)
        if source == target:
            new_row = bisect_left(group.keys, key)
            if new_row > old_row:
                new_row -= 1  # the position once the row has left its place
            if new_row == old_row:
                group.rows[old_row] = conversation
                group.keys[old_row] = key
            else:
                parent = self.createIndex(target, 0, 0)
                destination = new_row + 1 if new_row > old_row else new_row
                self.beginMoveRows(parent, old_row, old_row, parent, destination)
                del group.rows[old_row]
                del group.keys[old_row]
                group.rows.insert(new_row, conversation)
                group.keys.insert(new_row, key)
                self.endMoveRows()
        else:
            new_row = bisect_left(group.keys, key)
            self.beginMoveRows(self.createIndex(source, 0, 0), old_row, old_row, self.createIndex(target, 0, 0),
                               new_row)
            del old_group.rows[old_row]
            del old_group.keys[old_row]
            group.rows.insert(new_row, conversation)
            group.keys.insert(new_row, key)
            self.endMoveRows()
            self._header_changed(source)
            self._header_changed(target)
        changed = self.createIndex(new_row, 0, target + 1)
        self.dataChanged.emit(changed, changed)
