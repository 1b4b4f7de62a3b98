"""The product picker (issue 13): find a product of the shop's catalogue and send it as a card.

Opened by the 商品 button beside the reply box. Typing searches the server's catalogue (title, id
or pinyin initials: ``lyq`` finds 连衣裙), a short moment after the last key so a fast typist asks
once; Up/Down move in the results while the focus stays in the search box, Enter (or a double
click) sends the current product to the open conversation, Esc closes.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QAbstractItemView, QDialog, QLabel, QLineEdit, QListView, QVBoxLayout, QWidget

from console.protocol.cards import ProductCard
from console.ui.card_painter import yuan

ProductRole = Qt.ItemDataRole.UserRole  # the ProductCard of a row
SEARCH_DELAY_MS = 150

_Index = QModelIndex | QPersistentModelIndex


class ProductListModel(QAbstractListModel):
    """The products found, best first: title and price."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._products: list[ProductCard] = []

    def set_products(self, products: list[ProductCard]) -> None:
        self.beginResetModel()  # a new search: another list
        self._products = list(products)
        self.endResetModel()

    def product(self, row: int) -> ProductCard | None:
        return self._products[row] if 0 <= row < len(self._products) else None

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._products)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._products):
            return None
        p = self._products[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{p.title}    {yuan(p.price)}" if p.price is not None else p.title
        if role == Qt.ItemDataRole.ToolTipRole:
            return p.id
        if role == ProductRole:
            return p
        return None


class _SearchBox(QLineEdit):
    """Up/Down belong to the result list; the focus stays here."""

    moved = Signal(int)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Up, Qt.Key.Key_Down):
            self.moved.emit(-1 if event.key() == Qt.Key.Key_Up else 1)
            event.accept()
            return
        super().keyPressEvent(event)


class ProductPicker(QDialog):
    """Search box, results, hint; ``product_chosen`` carries the product id to send."""

    search_requested = Signal(str)
    product_chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("productPicker")
        self.setWindowTitle(self.tr("发送商品"))
        self.query = _SearchBox(self)
        self.query.setObjectName("productQuery")
        self.query.setPlaceholderText(self.tr("搜索商品：标题、编号或拼音首字母"))
        self.query.setClearButtonEnabled(True)
        self.model = ProductListModel(self)
        self.list = QListView(self)
        self.list.setObjectName("productList")
        self.list.setModel(self.model)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setUniformItemSizes(True)
        self.list.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.hint = QLabel(self)
        self.hint.setObjectName("productHint")
        layout = QVBoxLayout(self)
        layout.addWidget(self.query)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.hint)
        self.resize(460, 420)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SEARCH_DELAY_MS)
        self._asked: str | None = None

        self.query.textChanged.connect(self._on_query_text_changed)
        self.query.returnPressed.connect(self._on_query_return_pressed)
        self.query.moved.connect(self._on_query_moved)
        self._timer.timeout.connect(self._on_timer_timeout)
        self.list.doubleClicked.connect(lambda index: self._choose(self.model.product(index.row())))

    def open_picker(self) -> None:
        """Show with the search box focused; the catalogue's first products until something is typed."""
        self.show()
        self.raise_()
        self.activateWindow()
        self.query.setFocus()
        self.query.selectAll()
        self._ask(self.query.text().strip())

    def show_products(self, query: str, products: list[ProductCard]) -> None:
        if query != self._asked:
            return  # the answer to an older query: a newer one is on its way
        self.model.set_products(products)
        if products:
            self.list.setCurrentIndex(self.model.index(0))
            self.hint.setText(self.tr("↑↓ 选择，Enter 发送给买家，Esc 关闭"))
        else:
            self.hint.setText(self.tr("没有与“%1”相符的商品").replace("%1", query) if query
                              else self.tr("商品库是空的：用 fenliu catalog import 导入"))

    def current(self) -> ProductCard | None:
        return self.model.product(self.list.currentIndex().row())

    def _ask(self, query: str) -> None:
        self._asked = query
        self.hint.setText(self.tr("搜索中…"))
        self.search_requested.emit(query)

    def _on_query_text_changed(self) -> None:
        self._timer.start()

    def _on_timer_timeout(self) -> None:
        self._ask(self.query.text().strip())

    def _on_query_moved(self, step: int) -> None:
        rows = self.model.rowCount()
        if rows:
            self.list.setCurrentIndex(self.model.index((self.list.currentIndex().row() + step) % rows))

    def _on_query_return_pressed(self) -> None:
        if self._timer.isActive():  # Enter right after typing: search first, do not send a stale pick
            self._timer.stop()
            self._ask(self.query.text().strip())
            return
        self._choose(self.current())

    def _choose(self, product: ProductCard | None) -> None:
        if product is None:
            return
        self.product_chosen.emit(product.id)
        self.accept()
