"""The reply box's emoji picker (CONSOLE.md §6, issue 13): a grid popup of the platform's set.

Opened by the 😊 button beside 发送 or by Ctrl+E in the reply box; the arrow keys move in the grid,
Enter (or a click) inserts the emoji where the reply box's cursor is, Esc closes it; the focus
goes back to the reply box either way. Each cell's tooltip is the platform's name of the face
(``[微笑]``), the same table that shows those codes as emoji (``console.reception.emoji``).
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QSize, Qt, Signal
from PySide6.QtGui import QFont, QKeyEvent
from PySide6.QtWidgets import QAbstractItemView, QFrame, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from console.reception.emoji import PICKER

COLUMNS = 10
CELL = 36
ROWS_SHOWN = 6


class EmojiPicker(QFrame):
    """A popup grid; ``chosen`` carries the emoji picked."""

    chosen = Signal(str)

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent, Qt.WindowType.Popup)
        self.setObjectName("emojiPicker")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.grid = QListWidget(self)
        self.grid.setObjectName("emojiGrid")
        self.grid.setViewMode(QListWidget.ViewMode.IconMode)
        self.grid.setMovement(QListWidget.Movement.Static)
        self.grid.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.grid.setGridSize(QSize(CELL, CELL))
        self.grid.setUniformItemSizes(True)
        self.grid.setWrapping(True)
        self.grid.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.grid.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * 1.5)
        for emoji, name in PICKER:
            item = QListWidgetItem(emoji)
            item.setFont(font)
            item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
            item.setToolTip(f"[{name}]")
            item.setSizeHint(QSize(CELL, CELL))
            self.grid.addItem(item)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.grid)
        self.grid.itemActivated.connect(self._on_grid_item_activated)
        self.grid.itemClicked.connect(self._on_grid_item_activated)
        self.setFixedSize(COLUMNS * CELL + 2 * self.grid.frameWidth() + 8 + self.grid.style().pixelMetric(
            self.grid.style().PixelMetric.PM_ScrollBarExtent) + 4, ROWS_SHOWN * CELL + 2 * self.grid.frameWidth() + 12)

    def open_at(self, bottom_left: QPoint) -> None:
        """Show with its bottom-left corner at ``bottom_left`` (global), the first cell current."""
        self.move(bottom_left.x(), bottom_left.y() - self.height())
        if self.grid.currentRow() < 0:
            self.grid.setCurrentRow(0)
        self.show()
        self.grid.setFocus()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.grid.currentItem() is not None:
            self._on_grid_item_activated(self.grid.currentItem())
            return
        super().keyPressEvent(event)  # Esc closes a popup

    def _on_grid_item_activated(self, item: QListWidgetItem) -> None:
        self.hide()
        self.chosen.emit(item.text())
