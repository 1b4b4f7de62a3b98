"""The 接待数据 tiles (CONSOLE.md §3): live values, drag to reorder, 未下单/未付款 filter the list."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QSettings, Qt, Signal
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from console.reception.model import KPI_TILES, KpiTiles
from console.ui.filter_bar import tile_title
from console.ui.labels import tile_text

FILTER_TILES = frozenset({"not_ordered", "not_paid"})


class KpiTile(QFrame):
    """One tile. Presses, moves and releases go to the bar, which tells a click from a drag."""

    def __init__(self, name: str, bar: KpiTilesBar) -> None:
        super().__init__(bar)
        self.name = name
        self._bar = bar
        self.setObjectName("kpiTile")
        self.setProperty("filterable", name in FILTER_TILES)
        self.value = QLabel("-", self)
        self.value.setObjectName("kpiValue")
        self.title = QLabel(tile_title(name), self)
        self.title.setObjectName("kpiTitle")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 6, 12, 6)
        layout.setSpacing(0)
        layout.addWidget(self.value)
        layout.addWidget(self.title)
        tip = self.tr("拖动可调整顺序")
        if name in FILTER_TILES:
            tip = self.tr("点击筛选接待列表中的这些买家（最近 200 位）") + "\n" + tip
            self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip(tip)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._bar.press(self, event.globalPosition().toPoint())
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        self._bar.drag(self, event.globalPosition().toPoint())
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._bar.release(self)
        event.accept()


class KpiTilesBar(QWidget):
    filter_requested = Signal(str)  # tile name
    refresh_requested = Signal()
    order_changed = Signal(list)

    def __init__(self, settings: QSettings, user: str, *, key: str = "kpi_order", reorderable: bool = True,
                 filterable: bool = True, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("kpiTiles")
        self._settings = settings
        self._key = f"{user}/{key}"
        self._reorderable = reorderable
        self._filterable = filterable
        self._press_at: QPoint | None = None
        self._dragging = False
        self.tiles = {name: KpiTile(name, self) for name in KPI_TILES}
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(8)
        self.refresh_button = QPushButton(self.tr("刷新"), self)
        self.refresh_button.setObjectName("refreshButton")
        self.refresh_button.setToolTip(self.tr("数据实时推送；点击立即重新获取"))
        self._order = self._saved_order()
        for name in self._order:
            self._layout.addWidget(self.tiles[name])
        self._layout.addWidget(self.refresh_button)
        self._layout.addStretch(1)
        self.refresh_button.clicked.connect(self.refresh_requested)

    def order(self) -> list[str]:
        return list(self._order)

    def show_tiles(self, tiles: KpiTiles) -> None:
        for name, tile in self.tiles.items():
            tile.value.setText(tile_text(name, tiles))

    def move_tile(self, name: str, position: int) -> None:
        """Put a tile at a position and remember the order for this user."""
        order = self.order()
        position = max(0, min(position, len(order) - 1))
        if order.index(name) == position:
            return
        self._layout.removeWidget(self.tiles[name])
        self._layout.insertWidget(position, self.tiles[name])
        order.remove(name)
        order.insert(position, name)
        self._order = order
        self._settings.setValue(self._key, order)
        self.order_changed.emit(order)

    # -- a press on a tile becomes a click or a drag ------------------------------------------------

    def press(self, tile: KpiTile, at: QPoint) -> None:
        self._press_at = at
        self._dragging = False

    def drag(self, tile: KpiTile, at: QPoint) -> None:
        if self._press_at is None or not self._reorderable:
            return
        if not self._dragging and (at - self._press_at).manhattanLength() < QApplication.startDragDistance():
            return
        if not self._dragging:
            self._dragging = True
            tile.setProperty("dragging", True)
            self._repolish(tile)
        x = self.mapFromGlobal(at).x()
        others = [self.tiles[n] for n in self.order() if n != tile.name]
        position = sum(1 for other in others if other.geometry().center().x() < x)
        self.move_tile(tile.name, position)

    def release(self, tile: KpiTile) -> None:
        if self._press_at is None:
            return
        dragged, self._dragging, self._press_at = self._dragging, False, None
        if dragged:
            tile.setProperty("dragging", False)
            self._repolish(tile)
        elif self._filterable and tile.name in FILTER_TILES:
            self.filter_requested.emit(tile.name)

    # -- internals -------------------------------------------------------------------------------

    def _saved_order(self) -> list[str]:
        saved = self._settings.value(self._key, [], list)
        known = [str(name) for name in saved if name in self.tiles] if isinstance(saved, list) else []
        return list(dict.fromkeys(known + [n for n in KPI_TILES if n not in known]))

    @staticmethod
    def _repolish(widget: QWidget) -> None:
        widget.style().unpolish(widget)
        widget.style().polish(widget)
