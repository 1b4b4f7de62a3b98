"""Paints a message as a chat bubble: the buyer on the left, the agent and the bot on the right.

An image message (issue 13) is its thumbnail in the bubble, sized from the image's own
dimensions so the row never changes height when the thumbnail arrives; until then (it is
fetched and decoded off the UI thread by ``Thumbnails``) a grey box says ``[图片]``."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter
from PySide6.QtWidgets import QAbstractItemView, QStyledItemDelegate, QStyleOptionViewItem

from console.reception.emoji import with_emoji
from console.reception.model import Author, Message, MessageKind
from console.ui.card_painter import card_size, paint_card
from console.ui.labels import time_label
from console.ui.message_model import DeliveryRole, FailureRole, MessageRole
from console.ui.state import Delivery
from console.ui.thumbnails import Thumbnails

PAD = 10  # inside a bubble
GAP = 14  # between the view's edge and a bubble
META = 18  # the name/time line above a bubble
STATUS = 16  # the delivery line under our own bubbles
SHARE = 0.68  # widest bubble, as a share of the view
PICTURE = 200  # the largest side of an image in a bubble

BUBBLE = {Author.BUYER: QColor("#ffffff"), Author.AGENT: QColor("#d8ebff"), Author.BOT: QColor("#ece6fb")}
BORDER = {Author.BUYER: QColor("#dde3ea"), Author.AGENT: QColor("#b9d7f7"), Author.BOT: QColor("#d6cbf3")}
MUTED = QColor("#7b8794")
FAILED = QColor("#d92d20")


def picture_size(message: Message) -> QSize:
    """The thumbnail's size in the bubble: the image's own proportions, at most PICTURE a side."""
    if message.image is None:
        return QSize(PICTURE, PICTURE // 2)
    width, height = message.image.width, message.image.height
    scale = min(1.0, PICTURE / max(width, height))
    return QSize(max(24, round(width * scale)), max(24, round(height * scale)))


def delivery_label(delivery: Delivery, failure: str = "") -> str:
    """The line under one of our own replies that the server has not confirmed."""
    if delivery == Delivery.FAILED:
        return QCoreApplication.translate("BubbleDelegate", "未发送：%1").replace("%1", failure)
    if delivery == Delivery.QUEUED:
        return QCoreApplication.translate("BubbleDelegate", "离线，连接恢复后发送")
    return QCoreApplication.translate("BubbleDelegate", "发送中…")


class BubbleDelegate(QStyledItemDelegate):
    def __init__(self, view: QAbstractItemView, clock: Callable[[], float], buyer_name: Callable[[], str],
                 agent_name: Callable[[str | None], str], thumbnails: Thumbnails | None = None,
                 local_image: Callable[[str], bytes | None] = lambda client_id: None) -> None:
        super().__init__(view)
        self._view = view
        self._clock = clock
        self._buyer_name = buyer_name
        self._agent_name = agent_name
        self._thumbnails = thumbnails
        self._local_image = local_image
        if thumbnails is not None:
            thumbnails.ready.connect(self._on_thumbnails_ready)

    def _on_thumbnails_ready(self, sha256: str) -> None:
        self._view.viewport().update()

    def _text_width(self) -> int:
        return max(120, int(self._view.viewport().width() * SHARE) - 2 * PAD)

    def _text_rect(self, message: Message, font: QFont) -> QRect:
        if message.kind is MessageKind.IMAGE:
            size = picture_size(message)
            return QRect(0, 0, size.width(), size.height())
        if message.card is not None:  # a card takes its own room (card_painter)
            size = card_size(message.card, font)
            return QRect(0, 0, size.width() - 2 * PAD, size.height() - 2 * PAD)
        metrics = QFontMetrics(font)
        return metrics.boundingRect(QRect(0, 0, self._text_width(), 100_000),
                                    int(Qt.TextFlag.TextWordWrap) | int(Qt.AlignmentFlag.AlignLeft), with_emoji(message.text))

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        message: Message = index.data(MessageRole)
        if message.author == Author.SYSTEM:
            return QSize(self._view.viewport().width(), 28)
        text = self._text_rect(message, option.font)  # type: ignore[attr-defined]
        extra = STATUS if index.data(DeliveryRole) != Delivery.CONFIRMED else 0
        return QSize(self._view.viewport().width(), META + text.height() + 2 * PAD + extra + 8)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> None:
        message: Message = index.data(MessageRole)
        delivery: Delivery = index.data(DeliveryRole)
        rect: QRect = option.rect  # type: ignore[attr-defined]
        font = QFont(option.font)  # type: ignore[attr-defined]
        small = QFont(font)
        small.setPointSizeF(max(font.pointSizeF() - 1.5, 7.0))
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if message.author == Author.SYSTEM:
            painter.setFont(small)
            painter.setPen(MUTED)
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, message.text)
            painter.restore()
            return
        mine = message.author in (Author.AGENT, Author.BOT)
        text = self._text_rect(message, font)
        width = text.width() + 2 * PAD
        left = rect.right() - GAP - width if mine else rect.left() + GAP
        meta = QRect(rect.left() + GAP, rect.top() + 2, rect.width() - 2 * GAP, META - 2)
        if message.author == Author.BOT:
            who = QCoreApplication.translate("BubbleDelegate", "机器人")
        elif message.author == Author.AGENT:
            who = self._agent_name(message.agent)
        else:
            who = self._buyer_name()
        stamp = time_label(message.at, self._clock())
        painter.setFont(small)
        painter.setPen(QColor("#6d28d9") if message.author == Author.BOT else MUTED)
        align = Qt.AlignmentFlag.AlignRight if mine else Qt.AlignmentFlag.AlignLeft
        painter.drawText(meta, align | Qt.AlignmentFlag.AlignVCenter, f"{who}  {stamp}" if not mine else f"{stamp}  {who}")
        bubble = QRect(left, rect.top() + META, width, text.height() + 2 * PAD)
        painter.setPen(BORDER[message.author])
        painter.setBrush(BUBBLE[message.author])
        painter.drawRoundedRect(bubble, 8, 8)
        if message.card is not None:
            paint_card(painter, bubble, message.card, font)
        else:
            painter.setFont(font)
            painter.setPen(QColor("#1f2933"))
            inner = bubble.adjusted(PAD, PAD, -PAD, -PAD)
            if message.kind is MessageKind.IMAGE:
                self._paint_picture(painter, inner, message, small)
            else:
                painter.drawText(inner, int(Qt.TextFlag.TextWordWrap) | int(Qt.AlignmentFlag.AlignLeft),
                                 with_emoji(message.text))
        if delivery != Delivery.CONFIRMED:
            painter.setFont(small)
            label = delivery_label(delivery, str(index.data(FailureRole) or ""))
            painter.setPen(FAILED if delivery == Delivery.FAILED else
                           QColor("#c27c0e") if delivery == Delivery.QUEUED else MUTED)
            painter.drawText(QRect(rect.left() + GAP, bubble.bottom() + 2, rect.width() - 2 * GAP, STATUS),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, label)
        painter.restore()

    def _paint_picture(self, painter: QPainter, target: QRect, message: Message, font: QFont) -> None:
        image = self._thumbnail(message)
        if image is not None and not image.isNull():
            painter.drawImage(target, image)
            return
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor("#e4e7eb"))
        painter.drawRoundedRect(target, 4, 4)
        painter.setFont(font)
        painter.setPen(MUTED)
        broken = message.image is not None and self._thumbnails is not None and \
            message.image.sha256 in self._thumbnails.broken
        painter.drawText(target, Qt.AlignmentFlag.AlignCenter,
                         QCoreApplication.translate("BubbleDelegate", "图片无法显示") if broken else message.text)

    def _thumbnail(self, message: Message) -> QImage | None:
        """The decoded thumbnail, or None while it is fetched and decoded (asked for here, once)."""
        if self._thumbnails is None or message.image is None:
            return None
        image = self._thumbnails.thumbnail(message.image.sha256)
        if image is None:
            local = self._local_image(message.client_id) if message.client_id is not None else None
            self._thumbnails.request(message.conversation, message.image.sha256, local=local)
        return image
