"""Cards in the conversation (issue 13): a product, order or 催付 card painted inside a bubble.

``BubbleDelegate`` asks ``card_size`` for the room a card needs and ``paint_card`` to draw it, in
both directions (the agent's cards on the right, a buyer's shared product on the left). A product
shows a picture placeholder (the catalogue's ``image`` is an address the console does not fetch),
its title on up to two lines and its price; an order its number, state, amount and items; 催付 an
orange mark, the order, its amount and the reminder line the buyer reads.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter

from console.protocol.cards import Card, OrderCard, PayReminderCard, ProductCard
from console.protocol.messages import OrderState

CARD_WIDTH = 280
THUMB = 56
PAD = 10
PRICE = QColor("#e4393c")  # the platforms' price red
REMIND = QColor("#f97316")
MUTED = QColor("#7b8794")
TEXT = QColor("#1f2933")


def yuan(fen: int) -> str:
    return f"¥{fen // 100}.{fen % 100:02d}"


def order_state_text(state: OrderState) -> str:
    return {
        OrderState.UNPAID: QCoreApplication.translate("BuyerPanel", "未付款"),
        OrderState.PAID: QCoreApplication.translate("BuyerPanel", "已付款"),
        OrderState.SHIPPED: QCoreApplication.translate("BuyerPanel", "已发货"),
        OrderState.SUCCESS: QCoreApplication.translate("BuyerPanel", "交易成功"),
        OrderState.CLOSED: QCoreApplication.translate("BuyerPanel", "已关闭"),
        OrderState.AFTER_SALE: QCoreApplication.translate("BuyerPanel", "售后中"),
    }[state]


def _items(card: OrderCard | PayReminderCard) -> str:
    return QCoreApplication.translate("CardPainter", "、").join(f"{i.title}×{i.quantity}" for i in card.items)


def card_lines(card: Card) -> tuple[str, str, str]:
    """The card's head, middle and foot lines as shown (also what tests and accessibility read)."""
    if isinstance(card, ProductCard):
        price = yuan(card.price) if card.price is not None else ""
        return card.title, price, QCoreApplication.translate("CardPainter", "商品 %1").replace("%1", card.id)
    amount = yuan(card.amount) if card.amount is not None else ""
    if isinstance(card, OrderCard):
        head = QCoreApplication.translate("CardPainter", "订单 %1").replace("%1", card.order)
        return head, f"{order_state_text(OrderState(card.state))}  {amount}".strip(), _items(card)
    head = QCoreApplication.translate("CardPainter", "催付 · 订单 %1").replace("%1", card.order)
    return (head, QCoreApplication.translate("CardPainter", "待付款 %1").replace("%1", amount).strip(),
            QCoreApplication.translate("CardPainter", "您的订单还未付款，库存有限，请尽快完成支付哦"))


def card_size(card: Card, font: QFont) -> QSize:
    line = QFontMetrics(font).lineSpacing()
    if isinstance(card, ProductCard):
        return QSize(CARD_WIDTH, max(THUMB, 3 * line + 4) + 2 * PAD)
    return QSize(CARD_WIDTH, 3 * line + 8 + 2 * PAD)


def paint_card(painter: QPainter, rect: QRect, card: Card, font: QFont) -> None:
    """Draw ``card`` in ``rect`` (the bubble, already painted); the painter is restored after."""
    painter.save()
    head, middle, foot = card_lines(card)
    inner = rect.adjusted(PAD, PAD, -PAD, -PAD)
    bold = QFont(font)
    bold.setBold(True)
    small = QFont(font)
    small.setPointSizeF(max(font.pointSizeF() - 1.5, 7.0))
    line = QFontMetrics(font).lineSpacing()
    if isinstance(card, ProductCard):
        thumb = QRect(inner.left(), inner.top(), THUMB, THUMB)
        painter.setPen(QColor("#d5dbe3"))
        painter.setBrush(QColor("#eef1f5"))
        painter.drawRoundedRect(thumb, 6, 6)
        painter.setFont(small)
        painter.setPen(MUTED)
        painter.drawText(thumb, Qt.AlignmentFlag.AlignCenter, QCoreApplication.translate("CardPainter", "商品图"))
        text = inner.adjusted(THUMB + PAD, 0, 0, 0)
        painter.setFont(font)
        painter.setPen(TEXT)
        title = QFontMetrics(font).elidedText(head, Qt.TextElideMode.ElideRight, 2 * text.width() - 20)
        painter.drawText(QRect(text.left(), text.top(), text.width(), 2 * line),
                         int(Qt.TextFlag.TextWordWrap) | int(Qt.AlignmentFlag.AlignLeft), title)
        painter.setFont(bold)
        painter.setPen(PRICE)
        painter.drawText(QRect(text.left(), text.top() + 2 * line + 4, text.width() // 2, line),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, middle)
        painter.setFont(small)
        painter.setPen(MUTED)
        painter.drawText(QRect(text.left() + text.width() // 2, text.top() + 2 * line + 4, text.width() // 2, line),
                         Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, foot)
        painter.restore()
        return
    reminder = isinstance(card, PayReminderCard)
    if reminder:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(REMIND)
        painter.drawRoundedRect(QRect(rect.left(), rect.top() + 6, 4, rect.height() - 12), 2, 2)
    painter.setFont(bold)
    painter.setPen(REMIND if reminder else TEXT)
    painter.drawText(QRect(inner.left(), inner.top(), inner.width(), line),
                     Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, head)
    painter.setFont(font)
    painter.setPen(PRICE if reminder or (isinstance(card, OrderCard) and card.state == "unpaid") else TEXT)
    painter.drawText(QRect(inner.left(), inner.top() + line + 4, inner.width(), line),
                     Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, middle)
    painter.setFont(small)
    painter.setPen(MUTED)
    painter.drawText(QRect(inner.left(), inner.top() + 2 * line + 8, inner.width(), line),
                     Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                     QFontMetrics(small).elidedText(foot, Qt.TextElideMode.ElideRight, inner.width()))
    painter.restore()
