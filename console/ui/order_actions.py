"""The buyer panel's order rows with their buttons (issue 13): 发送订单 and, on an unpaid order, 催付.

One click sends the card: the delegate paints the buttons under the order's text and turns a
click on one into ``card_requested`` (CardKind value, order number). The same two actions are in
the row's context menu (the keyboard's menu key), so the panel needs no mouse.
"""

from __future__ import annotations

from PySide6.QtCore import (
    QAbstractItemModel,
    QCoreApplication,
    QEvent,
    QModelIndex,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QFontMetrics, QMouseEvent, QPainter
from PySide6.QtWidgets import (
    QApplication,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionButton,
    QStyleOptionViewItem,
    QWidget,
)

from console.protocol.cards import CardKind
from console.protocol.messages import OrderInfo, OrderState

ItemRole = Qt.ItemDataRole.UserRole  # as buyer_panel.ItemRole: the object behind a line
BUTTON_HEIGHT = 24
GAP = 6

_Index = QModelIndex | QPersistentModelIndex


def order_actions(order: OrderInfo) -> list[tuple[CardKind, str]]:
    """What an order row offers: its card always, 催付 only while it is unpaid."""
    actions = [(CardKind.ORDER, QCoreApplication.translate("BuyerPanel", "发送订单"))]
    if order.state is OrderState.UNPAID:
        actions.append((CardKind.PAY_REMINDER, QCoreApplication.translate("BuyerPanel", "催付")))
    return actions


class OrderActionsDelegate(QStyledItemDelegate):
    """Paints an order line's buttons and reports clicks on them; other lines as usual."""

    card_requested = Signal(str, str)  # CardKind value, order number

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)

    def _order(self, index: _Index) -> OrderInfo | None:
        item = index.data(ItemRole)
        return item if isinstance(item, OrderInfo) else None

    def button_rects(self, option: QStyleOptionViewItem, order: OrderInfo) -> list[tuple[CardKind, str, QRect]]:
        rect: QRect = option.rect  # type: ignore[attr-defined]
        metrics = QFontMetrics(option.font)  # type: ignore[attr-defined]
        x = rect.left() + 4
        top = rect.bottom() - BUTTON_HEIGHT - 2
        found = []
        for kind, label in order_actions(order):
            width = metrics.horizontalAdvance(label) + 20
            found.append((kind, label, QRect(x, top, width, BUTTON_HEIGHT)))
            x += width + GAP
        return found

    def sizeHint(self, option: QStyleOptionViewItem, index: _Index) -> QSize:
        size = super().sizeHint(option, index)
        if self._order(index) is None:
            return size
        return QSize(size.width(), size.height() + BUTTON_HEIGHT + GAP)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        order = self._order(index)
        if order is None:
            super().paint(painter, option, index)
            return
        text = QStyleOptionViewItem(option)
        text.rect = option.rect.adjusted(0, 0, 0, -(BUTTON_HEIGHT + GAP))  # type: ignore[attr-defined]
        super().paint(painter, text, index)
        style = option.widget.style() if option.widget is not None else QApplication.style()  # type: ignore[attr-defined]
        for _kind, label, rect in self.button_rects(option, order):
            button = QStyleOptionButton()
            button.rect = rect
            button.text = label
            button.state = QStyle.StateFlag.State_Enabled | QStyle.StateFlag.State_Raised
            style.drawControl(QStyle.ControlElement.CE_PushButton, button, painter)

    def editorEvent(self, event: QEvent, model: QAbstractItemModel, option: QStyleOptionViewItem,
                    index: _Index) -> bool:
        order = self._order(index)
        if order is not None and isinstance(event, QMouseEvent) and event.button() == Qt.MouseButton.LeftButton:
            at = event.position().toPoint()
            for kind, _label, rect in self.button_rects(option, order):
                if rect.contains(at):
                    if event.type() == QEvent.Type.MouseButtonRelease:
                        self.card_requested.emit(kind.value, order.id)
                    return True  # the press and the release are the button's, not the tree's
        return super().editorEvent(event, model, option, index)
