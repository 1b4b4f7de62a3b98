"""The reception list widget: sections that collapse and hide, 清扫, and Ctrl+Up (CONSOLE.md §1)."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QContextMenuEvent, QKeyEvent, QKeySequence, QMouseEvent, QShortcut
from PySide6.QtWidgets import QAbstractItemView, QTreeView, QWidget

from console.reception.model import Section
from console.ui.reception_delegate import CLEARABLE, COLLAPSIBLE, ReceptionDelegate
from console.ui.reception_model import ConversationRole, ReceptionModel, SectionRole

FIRST_PENDING_KEYS = "Ctrl+Up"
WAIT_REFRESH_MS = 15_000  # the waiting times on pending rows move on


class ReceptionView(QTreeView):
    conversation_opened = Signal(str)
    section_clear_requested = Signal(object)  # Section
    conversation_menu_requested = Signal(str, QPoint)  # conversation id, global position

    def __init__(self, model: ReceptionModel, delegate: ReceptionDelegate, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._model = model
        self._delegate = delegate
        self.collapsed_sections: set[Section] = set()
        self.setObjectName("receptionList")
        self.setModel(model)
        self.setItemDelegate(delegate)
        self.setHeaderHidden(True)
        self.setRootIsDecorated(False)
        self.setIndentation(0)
        self.setItemsExpandable(False)
        self.setExpandsOnDoubleClick(False)
        self.setUniformRowHeights(False)
        self.setMouseTracking(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.shortcut_first_pending = QShortcut(QKeySequence(FIRST_PENDING_KEYS), self)
        self.shortcut_first_pending.setContext(Qt.ShortcutContext.WindowShortcut)
        self._wait_timer = QTimer(self)
        self._wait_timer.setInterval(WAIT_REFRESH_MS)
        model.modelReset.connect(self._on_model_reset)
        model.updates_applied.connect(self._on_model_updates_applied)
        self.shortcut_first_pending.activated.connect(self._on_shortcut_first_pending_activated)
        self._wait_timer.timeout.connect(self.viewport().update)
        self._wait_timer.start()
        self._on_model_reset()

    # -- actions -----------------------------------------------------------------------------------

    def jump_to_first_pending(self) -> bool:
        """Select, show and open the pending buyer who has waited longest."""
        index = self._model.first_pending()
        if not index.isValid():
            return False
        if index.parent().isValid() and self._model.grouped:
            self.expand(index.parent())
        self.setCurrentIndex(index)
        self.scrollTo(index)
        self._open(index)
        return True

    def set_collapsed(self, section: Section, collapsed: bool) -> None:
        if section not in COLLAPSIBLE:
            return  # pending never collapses
        (self.collapsed_sections.add if collapsed else self.collapsed_sections.discard)(section)
        self._delegate.collapsed_sections = self.collapsed_sections
        self._sync_sections()
        index = self._model.section_index(section)
        if index.isValid():
            self.update(index)

    def select_conversation(self, conversation: str) -> None:
        index = self._model.index_of(conversation)
        if index.isValid():
            self.setCurrentIndex(index)
            self.scrollTo(index)

    def current_conversation(self) -> str | None:
        conversation = self.currentIndex().data(ConversationRole)
        return conversation.id if conversation is not None else None

    # -- Qt overrides ----------------------------------------------------------------------------

    def mousePressEvent(self, event: QMouseEvent) -> None:
        index = self.indexAt(event.position().toPoint())
        section = index.data(SectionRole) if index.isValid() and not index.parent().isValid() else None
        if section is not None and event.button() == Qt.MouseButton.LeftButton:
            if section in CLEARABLE and self._delegate.clear_button_rect(self.visualRect(index)).contains(
                    event.position().toPoint()):
                self.section_clear_requested.emit(section)
            elif section in COLLAPSIBLE:
                self.set_collapsed(section, section not in self.collapsed_sections)
            event.accept()
            return
        super().mousePressEvent(event)
        if index.isValid() and index.data(ConversationRole) is not None and \
                event.button() == Qt.MouseButton.LeftButton:
            self._open(index)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        before = self.currentIndex()
        super().keyPressEvent(event)
        after = self.currentIndex()
        if after != before and after.data(ConversationRole) is not None:
            self._open(after)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        conversation = self.indexAt(event.pos()).data(ConversationRole)
        if conversation is not None:
            self.conversation_menu_requested.emit(conversation.id, event.globalPos())

    # -- slots -------------------------------------------------------------------------------------

    def _on_shortcut_first_pending_activated(self) -> None:
        self.jump_to_first_pending()

    def _on_model_reset(self) -> None:
        self.setRootIndex(self._model.root_index())
        self._sync_sections()

    def _on_model_updates_applied(self) -> None:
        self._sync_sections()

    # -- internals -------------------------------------------------------------------------------

    def _open(self, index: QModelIndex) -> None:
        conversation = index.data(ConversationRole)
        if conversation is not None:
            self.conversation_opened.emit(conversation.id)

    def _sync_sections(self) -> None:
        """Hide empty sections (CONSOLE.md §1) and keep the others open unless collapsed."""
        if not self._model.grouped:
            return
        root = QModelIndex()
        for row in range(self._model.rowCount(root)):
            index = self._model.index(row, 0, root)
            count = self._model.rowCount(index)
            if self.isRowHidden(row, root) != (count == 0):  # setRowHidden relayouts every row, even unchanged
                self.setRowHidden(row, root, count == 0)
            want = count > 0 and index.data(SectionRole) not in self.collapsed_sections
            if want != self.isExpanded(index):
                self.setExpanded(index, want)
