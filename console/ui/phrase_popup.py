"""The reply box's ``/`` popup: quick replies that match what follows the slash.

The popup is a list shown above the reply box while the focus stays in the box: the box keeps
receiving the keys and hands Up, Down, Enter and Esc to the popup (``ReplyEdit`` in
conversation_pane.py). Results come from ``PhraseIndex.search`` (title, text, pinyin initials).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, QSize, Qt
from PySide6.QtWidgets import QAbstractItemView, QFrame, QLabel, QListView, QVBoxLayout, QWidget

from console.protocol.messages import PhraseInfo

PhraseRole = Qt.ItemDataRole.UserRole  # the PhraseInfo of a row
MAX_SHOWN = 30
SHOWN_ROWS = 8  # rows visible at once; the rest scroll
PREVIEW = 40  # characters of the text shown after the title

_Index = QModelIndex | QPersistentModelIndex


class PhraseListModel(QAbstractListModel):
    """The matching phrases, best first; one row each: [group] title — text."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._phrases: list[PhraseInfo] = []
        self._keys: dict[int, int] = {}  # phrase id -> n of its Ctrl+n
        self.key_name = "Ctrl"  # "Alt" when Ctrl+1..9 switch shops (issue 15)

    def set_phrases(self, phrases: list[PhraseInfo], pinned: list[PhraseInfo] | None = None) -> None:
        self.beginResetModel()  # a new search: the whole list is another one
        self._phrases = phrases[:MAX_SHOWN]
        self._keys = {p.id: n for n, p in enumerate(pinned or [], 1)}
        self.endResetModel()

    def phrase(self, row: int) -> PhraseInfo | None:
        return self._phrases[row] if 0 <= row < len(self._phrases) else None

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._phrases)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._phrases):
            return None
        p = self._phrases[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            text = " ".join(p.text.split())
            text = text if len(text) <= PREVIEW else text[:PREVIEW] + "…"
            group = f"[{p.group}] " if p.group else ""
            key = self._keys.get(p.id)
            pin = f"{self.key_name}+{key}  " if key is not None else ""
            return f"{pin}{group}{p.title} — {text}"
        if role == Qt.ItemDataRole.ToolTipRole:
            return p.text
        if role == PhraseRole:
            return p
        return None


class PhrasePopup(QFrame):
    """A list of matches and a hint line; never takes the focus from the reply box."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("phrasePopup")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.model = PhraseListModel(self)
        self.list = QListView(self)
        self.list.setObjectName("phraseList")
        self.list.setModel(self.model)
        self.list.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setUniformItemSizes(True)
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.hint = QLabel(self)
        self.hint.setObjectName("phraseHint")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(2)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.hint)
        self.hide()

    def show_matches(self, phrases: list[PhraseInfo], query: str, pinned: list[PhraseInfo] | None = None) -> None:
        self.model.set_phrases(phrases, pinned)
        if self.model.rowCount():
            self.list.setCurrentIndex(self.model.index(0))
            self.hint.setText(self.tr("↑↓ 选择，Enter 插入，Esc 关闭"))
        else:
            self.hint.setText(self.tr("没有与“%1”相符的快捷短语").replace("%1", query) if query
                              else self.tr("还没有快捷短语：在“快捷短语”菜单中添加"))

    def move_current(self, step: int) -> None:
        rows = self.model.rowCount()
        if rows:
            row = (self.list.currentIndex().row() + step) % rows
            self.list.setCurrentIndex(self.model.index(row))

    def current(self) -> PhraseInfo | None:
        return self.model.phrase(self.list.currentIndex().row())

    def sizeHint(self) -> QSize:
        """Wide enough to read a phrase; as tall as its rows, at most ``SHOWN_ROWS`` of them."""
        rows = max(1, min(self.model.rowCount(), SHOWN_ROWS))
        row = self.list.sizeHintForRow(0) if self.model.rowCount() else self.list.fontMetrics().height() + 4
        frame = 2 * self.list.frameWidth() + 2
        margins = self.layout().contentsMargins() if self.layout() is not None else None
        extra = (margins.top() + margins.bottom()) if margins is not None else 8
        return QSize(520, rows * row + frame + self.hint.sizeHint().height() + extra + 2)

