"""Search results (issue 13) for the console: where they come from, and the list model.

``SearchSource`` is what the search dialog asks (a search, a page further back, a conversation's
history); answers arrive on its ``SearchFeed`` as signals, the way the rest of the console gets
its data (``console/ui/state.py``). ``ClientSearch`` (``search_bridge.py``) is the source over
the real client.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, QPersistentModelIndex, Qt, Signal

from console.protocol.messages import SearchHit

HitRole = Qt.ItemDataRole.UserRole  # the SearchHit

AnyIndex = QModelIndex | QPersistentModelIndex


class SearchFeed(QObject):
    """Answers of a ``SearchSource``."""

    results_loaded = Signal(str, object, object, bool)  # query, list of SearchHit, next_before, appended
    history_loaded = Signal(str, object, object)  # conversation id, Conversation, list of Message
    contacted = Signal(str)  # conversation id: 再次联系 opened a session with us (``contact``)
    failed = Signal(str)  # a readable error


class SearchSource(Protocol):
    """What the search dialog asks. Calls return at once; answers come on ``feed``."""

    @property
    def feed(self) -> SearchFeed: ...
    def search(self, query: str, before: int | None = None) -> None: ...
    def open_history(self, conversation: str) -> None: ...
    def contact(self, conversation: str) -> None: ...


class SearchModel(QAbstractListModel):
    """The hits of the current query, newest first; a page further back is appended."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._hits: list[SearchHit] = []

    def load(self, hits: Iterable[SearchHit]) -> None:
        """A new query: a new list."""
        self.beginResetModel()
        self._hits = list(hits)
        self.endResetModel()

    def append(self, hits: Iterable[SearchHit]) -> None:
        more = list(hits)
        if not more:
            return
        first = len(self._hits)
        self.beginInsertRows(QModelIndex(), first, first + len(more) - 1)
        self._hits.extend(more)
        self.endInsertRows()

    def hit(self, row: int) -> SearchHit:
        return self._hits[row]

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._hits)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._hits):
            return None
        hit = self._hits[index.row()]
        if role == HitRole:
            return hit
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return f"{hit.name}: {hit.snippet}"
        if role == Qt.ItemDataRole.ToolTipRole:
            return hit.snippet
        return None
