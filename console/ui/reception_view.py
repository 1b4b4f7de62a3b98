"""The reception list widget: sections that collapse and hide, 清扫, the first pending buyer (CONSOLE.md §1).

A view of its own on ``QAbstractScrollArea``, not a ``QTreeView``. Every conversation row is
``ROW_HEIGHT`` tall and every section header ``HEADER_HEIGHT``, so the whole geometry follows
from the sections' row counts: a live insert, remove or move costs a few ``rowCount()`` calls
(O(sections)), and a paint asks the model only for the rows on screen (O(visible rows)).
QTreeView laid out every row again on each change, at several Python calls per row.

The view reads the two-level ``ReceptionModel`` (sections are top-level rows, conversations
their children; with grouping off, the children of ``root_index()`` without a header) and
paints with ``ReceptionDelegate``. The selection is the current conversation's id, so it
follows its row when the row moves between or within sections.
"""

from __future__ import annotations

from PySide6.QtCore import (
    QCoreApplication,
    QEvent,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QRect,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QContextMenuEvent,
    QHelpEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QResizeEvent,
)
from PySide6.QtWidgets import QAbstractScrollArea, QToolTip, QWidget

from console.reception.model import Section
from console.ui.reception_delegate import CLEARABLE, COLLAPSIBLE, HEADER_HEIGHT, ROW_HEIGHT, ReceptionDelegate
from console.ui.reception_model import ConversationRole, ReceptionModel, SectionRole

WHEEL_STEP = ROW_HEIGHT // 2  # pixels per wheel line (three lines a notch: 1.5 rows)

AnyIndex = QModelIndex | QPersistentModelIndex
Item = tuple[int, int]  # (block, row); row -1 is the block's header

KEY_UP, KEY_DOWN = Qt.Key.Key_Up, Qt.Key.Key_Down
KEY_PAGE_UP, KEY_PAGE_DOWN = Qt.Key.Key_PageUp, Qt.Key.Key_PageDown
KEY_HOME, KEY_END = Qt.Key.Key_Home, Qt.Key.Key_End
OPEN_KEYS = frozenset({Qt.Key.Key_Return, Qt.Key.Key_Enter})
NAVIGATION_KEYS = frozenset({KEY_UP, KEY_DOWN, KEY_PAGE_UP, KEY_PAGE_DOWN, KEY_HOME, KEY_END})
COMMAND_MODIFIERS = (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier
                     | Qt.KeyboardModifier.MetaModifier).value
LEFT_BUTTON = Qt.MouseButton.LeftButton
SOLID = Qt.BrushStyle.SolidPattern
EMPTY_TEXT = QColor("#9aa5b1")
ALIGN_CENTER_WRAP = int(Qt.AlignmentFlag.AlignCenter) | int(Qt.TextFlag.TextWordWrap)


class _Block:
    """One top-level row of the model as laid out: its header (when shown) and its rows."""

    __slots__ = ("parent", "section", "count", "top", "header", "shown")

    def __init__(self, parent: QModelIndex, section: Section | None, count: int, top: int, header: int,
                 shown: int) -> None:
        self.parent = parent  # the model index whose children are the rows
        self.section = section
        self.count = count  # rows in the model
        self.top = top  # content y of the header (of the first row when there is no header)
        self.header = header  # header height in pixels, 0 when hidden
        self.shown = shown  # rows laid out: 0 when collapsed

    @property
    def rows_top(self) -> int:
        return self.top + self.header

    @property
    def bottom(self) -> int:
        return self.top + self.header + self.shown * ROW_HEIGHT


class ReceptionView(QAbstractScrollArea):
    conversation_opened = Signal(str)
    section_clear_requested = Signal(object)  # Section
    conversation_menu_requested = Signal(str, QPoint)  # conversation id, global position

    def __init__(self, model: ReceptionModel, delegate: ReceptionDelegate, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._model = model
        self._delegate = delegate
        self.collapsed_sections: set[Section] = set()
        self._parents: list[QModelIndex] = []  # the model index of each block, taken on a model reset
        self._sections: list[Section | None] = []  # and its section
        self._blocks: list[_Block] = []
        self._height = 0
        self._current: str | None = None  # the selected conversation
        self._hover: QPoint | None = None  # the mouse in the viewport: the row under it is highlighted
        self.setObjectName("receptionList")
        self.setAccessibleName(QCoreApplication.translate("ReceptionView", "接待列表"))
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.viewport().setMouseTracking(True)
        self.verticalScrollBar().setSingleStep(WHEEL_STEP)
        self._delegate.collapsed_sections = self.collapsed_sections
        model.modelReset.connect(self._on_model_reset)
        model.layoutChanged.connect(self._on_model_reset)
        model.rowsInserted.connect(self._on_model_rows_inserted)
        model.rowsRemoved.connect(self._on_model_rows_removed)
        model.rowsMoved.connect(self._on_model_rows_moved)
        model.dataChanged.connect(self._on_model_data_changed)
        self._on_model_reset()

    # -- actions -----------------------------------------------------------------------------------

    def jump_to_first_pending(self) -> bool:
        """Select, show and open the pending buyer who has waited longest."""
        index = self._model.first_pending()
        if not index.isValid():
            return False
        self.select_conversation(index.data(ConversationRole).id)
        self._open(self._current)
        return True

    def refresh_waits(self, now: float) -> int:
        """The reply timers' tick: repaint the pending rows on screen whose waiting time or colour
        has changed since they were painted, and nothing else; how many."""
        offset = self.verticalScrollBar().value()
        top, bottom = offset, offset + self.viewport().height()
        width = self.viewport().width()
        model, delegate = self._model, self._delegate
        changed = 0
        for block in self._blocks:
            if block.top > bottom:
                break
            if block.bottom <= top or not block.shown or block.section not in (Section.PENDING, None):
                continue
            rows_top = block.rows_top
            first = max(0, (top - rows_top) // ROW_HEIGHT)
            last = min(block.shown - 1, (bottom - rows_top) // ROW_HEIGHT)
            for row in range(first, last + 1):
                conversation = model.index(row, 0, block.parent).data(ConversationRole)
                if conversation.section is Section.PENDING and delegate.labels_changed(conversation, now):
                    self.viewport().update(QRect(0, rows_top + row * ROW_HEIGHT - offset, width, ROW_HEIGHT))
                    changed += 1
        return changed

    def empty_text(self) -> str:
        """What the list says when it has no row."""
        if self._model.filter_tile:
            return QCoreApplication.translate("ReceptionView", "没有符合筛选的买家")
        return QCoreApplication.translate("ReceptionView", "暂无会话\n买家来咨询时会出现在这里")

    def set_collapsed(self, section: Section, collapsed: bool) -> None:
        if section not in COLLAPSIBLE:
            return  # pending never collapses
        if collapsed == (section in self.collapsed_sections):
            return
        (self.collapsed_sections.add if collapsed else self.collapsed_sections.discard)(section)
        self._delegate.collapsed_sections = self.collapsed_sections
        self._relayout()
        self.viewport().update()

    def is_collapsed(self, section: Section) -> bool:
        return section in self.collapsed_sections

    def select_conversation(self, conversation: str) -> None:
        """Make it the current row (opening its section if collapsed) and scroll it into view."""
        index = self._model.index_of(conversation)
        if not index.isValid():
            return
        section = self._sections[index.parent().row()] if self._model.grouped else None
        if section is not None and section in self.collapsed_sections:
            self.set_collapsed(section, False)
        self._set_current(conversation)
        self.scroll_to(index)

    def current_conversation(self) -> str | None:
        return self._current

    def scroll_to(self, index: AnyIndex) -> None:
        """Scroll as little as needed for the row (or header) to be entirely visible."""
        item = self._item_of(index)
        if item is None:
            return
        bottom = self._item_top(item) + (HEADER_HEIGHT if item[1] < 0 else ROW_HEIGHT)
        top = self._item_top((item[0], -1) if item[1] <= 0 else item)  # a first row shows its header too
        bar = self.verticalScrollBar()
        height = self.viewport().height()
        if top < bar.value():
            bar.setValue(top)
        elif bottom > bar.value() + height:
            bar.setValue(min(top, bottom - height))

    # -- geometry (viewport coordinates), as QAbstractItemView names it ------------------------------

    def indexAt(self, point: QPoint) -> QModelIndex:
        item = self._item_at(point.y() + self.verticalScrollBar().value())
        if item is None:
            return QModelIndex()
        block = self._blocks[item[0]]
        return block.parent if item[1] < 0 else self._model.index(item[1], 0, block.parent)

    def visualRect(self, index: AnyIndex) -> QRect:
        """Where the row or header is drawn; an empty rect when it is not laid out (a hidden
        section, a row of a collapsed one)."""
        item = self._item_of(index)
        if item is None:
            return QRect()
        return self._item_rect(item)

    # -- Qt overrides ----------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        clip = event.rect()
        offset = self.verticalScrollBar().value()
        top, bottom = clip.top() + offset, clip.bottom() + offset
        width = self.viewport().width()
        current = self._current_item()
        hover = self._item_at(self._hover.y() + offset) if self._hover is not None else None
        font = self.font()
        background = self._background()
        model, delegate = self._model, self._delegate
        painter = QPainter(self.viewport())
        if self._height == 0:  # an empty list says so (issue 12, defect 8)
            painter.setPen(EMPTY_TEXT)
            painter.drawText(self.viewport().rect().adjusted(12, 0, -12, -self.viewport().height() // 3),
                             ALIGN_CENTER_WRAP, self.empty_text())
        for number, block in enumerate(self._blocks):
            if block.top > bottom:
                break
            if block.bottom <= top:
                continue
            if block.header and block.top + block.header > top:
                delegate.paint_header(painter, QRect(0, block.top - offset, width, block.header), block.parent, font)
            if block.shown:
                rows_top = block.rows_top
                first = max(0, (top - rows_top) // ROW_HEIGHT)
                last = min(block.shown - 1, (bottom - rows_top) // ROW_HEIGHT)
                for row in range(first, last + 1):
                    item = (number, row)
                    delegate.paint_row(painter, QRect(0, rows_top + row * ROW_HEIGHT - offset, width, ROW_HEIGHT),
                                       model.index(row, 0, block.parent), font, selected=item == current,
                                       hovered=item == hover, background=background)
        painter.end()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._update_scroll_bar()

    def scrollContentsBy(self, dx: int, dy: int) -> None:
        self.viewport().update()

    def viewportEvent(self, event: QEvent) -> bool:
        kind = event.type()
        if kind == QEvent.Type.Leave:
            self._set_hover(None)
        elif kind == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            index = self.indexAt(event.pos())
            text = index.data(Qt.ItemDataRole.ToolTipRole) if index.isValid() else None
            if text:
                QToolTip.showText(event.globalPos(), str(text), self.viewport(), self.visualRect(index))
            else:
                QToolTip.hideText()
            return True
        return super().viewportEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        self._set_hover(event.position().toPoint())
        super().mouseMoveEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        point = event.position().toPoint()
        item = self._item_at(point.y() + self.verticalScrollBar().value())
        if item is None or event.button() != LEFT_BUTTON:
            super().mousePressEvent(event)
            return
        event.accept()
        number, row = item
        block = self._blocks[number]
        if row >= 0:
            conversation = self._model.index(row, 0, block.parent).data(ConversationRole)
            self._set_current(conversation.id)
            self.scroll_to(self._model.index(row, 0, block.parent))
            self._open(conversation.id)
            return
        section = block.section
        if section in CLEARABLE and self._delegate.clear_button_rect(self._item_rect(item)).contains(point):
            self.section_clear_requested.emit(section)
        elif section in COLLAPSIBLE:
            self.set_collapsed(section, section not in self.collapsed_sections)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        event.accept()  # the press did the work

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        event.accept()  # Qt sends the second press too: a double click on a header is two clicks

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if event.modifiers().value & COMMAND_MODIFIERS or (key not in NAVIGATION_KEYS and key not in OPEN_KEYS):
            super().keyPressEvent(event)
            return
        event.accept()
        if key in OPEN_KEYS:
            if self._current is not None:
                self._open(self._current)
            return
        target = self._navigate(key)
        if target is None:
            return
        index = self._model.index(target[1], 0, self._blocks[target[0]].parent)
        conversation = index.data(ConversationRole)
        self.scroll_to(index)
        if conversation.id != self._current:
            self._set_current(conversation.id)
            self._open(conversation.id)  # moving with the keys opens, as a click does

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        if event.reason() == QContextMenuEvent.Reason.Keyboard:
            index = self._model.index_of(self._current) if self._current is not None else QModelIndex()
            rect = self.visualRect(index)
            if rect.isEmpty():
                return
            self.conversation_menu_requested.emit(self._current, self.viewport().mapToGlobal(rect.center()))
            return
        conversation = self.indexAt(event.pos()).data(ConversationRole)
        if conversation is not None:
            self.conversation_menu_requested.emit(conversation.id, event.globalPos())

    # -- slots -------------------------------------------------------------------------------------

    def _on_model_reset(self) -> None:
        model = self._model
        if model.grouped:  # top-level rows change only on a reset
            self._parents = [model.index(row, 0) for row in range(model.rowCount())]
            self._sections = [parent.data(SectionRole) for parent in self._parents]
        else:
            self._parents = [model.root_index()]
            self._sections = [None]
        if self._current is not None and not model.index_of(self._current).isValid():
            self._current = None
        self._delegate.forget_shown()
        self._relayout()
        self.viewport().update()

    def _on_model_rows_inserted(self, parent: QModelIndex, first: int, last: int) -> None:
        self._relayout()
        self._update_from(parent, first)

    def _on_model_rows_removed(self, parent: QModelIndex, first: int, last: int) -> None:
        if self._current is not None and not self._model.index_of(self._current).isValid():
            self._current = None  # the selected row left the list (cleared, closed, transferred)
        self._relayout()
        self._update_from(parent, first)

    def _on_model_rows_moved(self, parent: QModelIndex, first: int, last: int, destination: QModelIndex,
                             row: int) -> None:
        self._relayout()
        if not self._update_from(parent, first):
            self._update_from(destination, row)

    def _on_model_data_changed(self, top_left: QModelIndex, bottom_right: QModelIndex, roles: object = None) -> None:
        first, last = self._item_of(top_left), self._item_of(bottom_right)
        if first is None or last is None:
            return
        rect = self._item_rect(first).united(self._item_rect(last))
        if rect.intersects(self.viewport().rect()):
            self.viewport().update(rect)

    # -- layout ------------------------------------------------------------------------------------

    def _relayout(self) -> None:
        """Lay out the blocks from the section counts: O(sections), whatever the number of rows."""
        model = self._model
        blocks: list[_Block] = []
        y = 0
        if model.grouped:
            collapsed = self.collapsed_sections
            for parent, section in zip(self._parents, self._sections, strict=True):
                count = model.rowCount(parent)
                header = HEADER_HEIGHT if count else 0  # empty sections hide (CONSOLE.md §1)
                shown = 0 if section in collapsed else count
                blocks.append(_Block(parent, section, count, y, header, shown))
                y += header + shown * ROW_HEIGHT
        else:
            parent = self._parents[0]
            count = model.rowCount(parent)
            blocks.append(_Block(parent, None, count, 0, 0, count))
            y = count * ROW_HEIGHT
        self._blocks = blocks
        self._height = y
        self._update_scroll_bar()

    def _background(self) -> QColor | None:
        """The viewport's plain opaque background (the style sheet's, which sets the palette), which
        lets the delegate cache painted rows."""
        viewport = self.viewport()
        brush = viewport.palette().brush(viewport.backgroundRole())
        if brush.style() != SOLID or brush.color().alpha() != 255:
            return None
        return brush.color()

    def _update_scroll_bar(self) -> None:
        height = self.viewport().height()
        bar = self.verticalScrollBar()
        bar.setPageStep(height)
        bar.setRange(0, max(0, self._height - height))

    def _update_from(self, parent: QModelIndex, row: int) -> bool:
        """Repaint after rows changed at ``row`` of ``parent`` if that is above the bottom of the
        viewport (everything below it moved); whether it was."""
        number = parent.row() if parent.isValid() else -1
        if not 0 <= number < len(self._blocks):
            return False
        block = self._blocks[number]
        y = block.rows_top + min(row, block.shown) * ROW_HEIGHT
        if y - self.verticalScrollBar().value() > self.viewport().height():
            return False
        self.viewport().update()
        return True

    def _item_at(self, y: int) -> Item | None:
        """The header or row at content ``y``."""
        for number, block in enumerate(self._blocks):
            if y < block.top:
                return None
            if y < block.rows_top:
                return (number, -1)
            if y < block.bottom:
                return (number, (y - block.rows_top) // ROW_HEIGHT)
        return None

    def _item_of(self, index: AnyIndex) -> Item | None:
        """Where a model index is laid out; None when it is not (hidden, collapsed, or the root)."""
        if not index.isValid():
            return None
        parent = index.parent()
        if not parent.isValid():  # a section row: only its header is laid out
            number = index.row()
            if not self._model.grouped or number >= len(self._blocks) or not self._blocks[number].header:
                return None
            return (number, -1)
        number = parent.row() if self._model.grouped else 0
        if number >= len(self._blocks) or index.row() >= self._blocks[number].shown:
            return None
        return (number, index.row())

    def _item_top(self, item: Item) -> int:
        block = self._blocks[item[0]]
        return block.top if item[1] < 0 else block.rows_top + item[1] * ROW_HEIGHT

    def _item_rect(self, item: Item) -> QRect:
        height = HEADER_HEIGHT if item[1] < 0 else ROW_HEIGHT
        return QRect(0, self._item_top(item) - self.verticalScrollBar().value(), self.viewport().width(), height)

    # -- selection and navigation ------------------------------------------------------------------

    def _current_item(self) -> Item | None:
        if self._current is None:
            return None
        return self._item_of(self._model.index_of(self._current))

    def _set_current(self, conversation: str | None) -> None:
        if conversation == self._current:
            return
        before = self._current_item()
        self._current = conversation
        after = self._current_item()
        for item in (before, after):
            if item is not None:
                self.viewport().update(self._item_rect(item))

    def _set_hover(self, point: QPoint | None) -> None:
        offset = self.verticalScrollBar().value()
        before = self._item_at(self._hover.y() + offset) if self._hover is not None else None
        self._hover = point
        after = self._item_at(point.y() + offset) if point is not None else None
        if before != after:
            for item in (before, after):
                if item is not None:
                    self.viewport().update(self._item_rect(item))

    def _ordinal(self, item: Item) -> int:
        """The position of a row among the rows laid out (headers and collapsed rows left out)."""
        return sum(block.shown for block in self._blocks[:item[0]]) + item[1]

    def _item_of_ordinal(self, ordinal: int) -> Item | None:
        for number, block in enumerate(self._blocks):
            if ordinal < block.shown:
                return (number, ordinal)
            ordinal -= block.shown
        return None

    def _navigate(self, key: int) -> Item | None:
        """The row a navigation key moves the current row to."""
        rows = sum(block.shown for block in self._blocks)
        if rows == 0:
            return None
        if key == KEY_HOME:
            return self._item_of_ordinal(0)
        if key == KEY_END:
            return self._item_of_ordinal(rows - 1)
        index = self._model.index_of(self._current) if self._current is not None else QModelIndex()
        if not index.isValid():  # nothing selected: start from the first row on screen
            top = self._item_at(self.verticalScrollBar().value())
            start = self._ordinal((top[0], max(top[1], 0))) if top is not None else 0
            return self._item_of_ordinal(min(start, rows - 1))
        number = index.parent().row() if self._model.grouped else 0
        block = self._blocks[number]
        here: Item | None = (number, index.row()) if index.row() < block.shown else None  # None: collapsed
        if key in (KEY_UP, KEY_DOWN):
            if here is not None:
                target_ordinal = self._ordinal(here) + (1 if key == KEY_DOWN else -1)
            else:  # from the collapsed section's header
                after = self._ordinal((number, 0))
                target_ordinal = after if key == KEY_DOWN else after - 1
            return self._item_of_ordinal(max(0, min(rows - 1, target_ordinal)))
        page = max(ROW_HEIGHT, self.viewport().height() - ROW_HEIGHT)
        origin = self._item_top(here) if here is not None else block.top
        y = origin + page if key == KEY_PAGE_DOWN else origin - page
        target = self._item_at(max(0, min(self._height - 1, y)))
        if target is None:
            return self._item_of_ordinal(rows - 1 if key == KEY_PAGE_DOWN else 0)
        if target[1] < 0:  # a header: the first row after it going down, the last before it going up
            start = self._ordinal((target[0], 0))
            return self._item_of_ordinal(max(0, min(rows - 1, start if key == KEY_PAGE_DOWN else start - 1)))
        return target

    def _open(self, conversation: str | None) -> None:
        if conversation is not None:
            self.conversation_opened.emit(conversation)
