"""Paints the rows of the reception list: section headers and conversations (CONSOLE.md §1).

Everything that does not change from paint to paint (avatars, badges, the header button) is
drawn once into a pixmap cache keyed by its content and the device pixel ratio.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QModelIndex, QPersistentModelIndex, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPainterPath, QPixmap
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from console.reception.model import Conversation, Kind, Section
from console.ui.labels import initials, time_label, wait_label
from console.ui.reception_model import ConversationRole, CountRole, SectionRole, is_section

ROW_HEIGHT = 60
HEADER_HEIGHT = 32
AVATAR = 38
MARGIN = 10
ROW_SIZE = QSize(240, ROW_HEIGHT)
HEADER_SIZE = QSize(240, HEADER_HEIGHT)
CLEARABLE = frozenset({Section.BOT_REPLIED, Section.REPLIED})
COLLAPSIBLE = frozenset(set(Section) - {Section.PENDING})
LONG_WAIT = 120.0  # seconds after which the waiting time turns red

AVATAR_COLOURS = ("#5b8def", "#2bb3a3", "#f29c38", "#9b6bdf", "#e2607f", "#4fa3d1", "#7fb347", "#d98545")
BADGE_COLOURS = {"商": "#8a5cd6", "平": "#e8590c", "群": "#1c9bd8"}

TEXT = QColor("#1f2933")
MUTED = QColor("#7b8794")
SELECTED = QColor("#e3edfb")
HOVER = QColor("#f3f6fa")
HEADER_BG = QColor("#f2f4f7")
UNREAD = QColor("#f0483e")
WAIT_OK = QColor("#c27c0e")


def badges_of(conversation: Conversation) -> tuple[str, ...]:
    """Badges come from the server's account kind only, never from the name (seed 003)."""
    return {Kind.MERCHANT: ("商",), Kind.STAFF: ("平",), Kind.GROUP: ("群",)}.get(conversation.kind, ())


class ReceptionDelegate(QStyledItemDelegate):
    def __init__(self, clock: Callable[[], float], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._clock = clock
        self._pixmaps: dict[tuple[object, ...], QPixmap] = {}
        self.collapsed_sections: set[Section] = set()  # kept in step by the view, for the arrows

    # -- geometry shared with the view (hit testing) -----------------------------------------------

    @staticmethod
    def clear_button_rect(row: QRect) -> QRect:
        return QRect(row.right() - 64, row.top() + 5, 56, row.height() - 10)

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        # Asked for every row on each relayout of the list: no data() call, shared sizes.
        return HEADER_SIZE if is_section(index) else ROW_SIZE

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> None:
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if is_section(index):
            self._paint_header(painter, option, index)
        else:
            conversation = index.data(ConversationRole)
            if conversation is not None:
                self._paint_row(painter, option, conversation)
        painter.restore()

    # -- section headers -------------------------------------------------------------------------

    def _paint_header(self, painter: QPainter, option: QStyleOptionViewItem,
                      index: QModelIndex | QPersistentModelIndex) -> None:
        rect: QRect = option.rect  # type: ignore[attr-defined]
        section: Section | None = index.data(SectionRole)
        painter.fillRect(rect, HEADER_BG)
        x = rect.left() + MARGIN
        font = QFont(option.font)  # type: ignore[attr-defined]
        if section in COLLAPSIBLE:
            painter.setPen(MUTED)
            painter.setFont(font)
            arrow = "▸" if section in self.collapsed_sections else "▾"
            painter.drawText(QRect(x, rect.top(), 14, rect.height()), Qt.AlignmentFlag.AlignVCenter, arrow)
        x += 16
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(TEXT)
        title = str(index.data(Qt.ItemDataRole.DisplayRole))
        width = QFontMetrics(font).horizontalAdvance(title)
        painter.drawText(QRect(x, rect.top(), width + 2, rect.height()), Qt.AlignmentFlag.AlignVCenter, title)
        font.setBold(False)
        painter.setFont(font)
        painter.setPen(MUTED)
        painter.drawText(QRect(x + width + 6, rect.top(), 60, rect.height()), Qt.AlignmentFlag.AlignVCenter,
                         f"({index.data(CountRole)})")
        if section in CLEARABLE:
            button = self.clear_button_rect(rect)
            painter.drawPixmap(button.topLeft(), self._clear_button(button.size(), painter.device().devicePixelRatioF(),
                                                                     font))

    def _clear_button(self, size: QSize, ratio: float, font: QFont) -> QPixmap:
        text = QCoreApplication.translate("ReceptionDelegate", "清扫")
        key = ("clear", text, size.width(), size.height(), ratio)
        pixmap = self._pixmaps.get(key)
        if pixmap is None:
            pixmap = self._new_pixmap(size, ratio)
            p = QPainter(pixmap)
            p.setRenderHint(QPainter.RenderHint.Antialiasing)
            p.setPen(QColor("#c5ccd6"))
            p.setBrush(QColor("#ffffff"))
            p.drawRoundedRect(QRectF(0.5, 0.5, size.width() - 1, size.height() - 1), 4, 4)
            p.setPen(QColor("#52606d"))
            p.setFont(font)
            p.drawText(QRect(0, 0, size.width(), size.height()), Qt.AlignmentFlag.AlignCenter, text)
            p.end()
            self._pixmaps[key] = pixmap
        return pixmap

    # -- conversation rows -----------------------------------------------------------------------

    def _paint_row(self, painter: QPainter, option: QStyleOptionViewItem, conversation: Conversation) -> None:
        rect: QRect = option.rect  # type: ignore[attr-defined]
        state = option.state  # type: ignore[attr-defined]
        if state & QStyle.StateFlag.State_Selected:
            painter.fillRect(rect, SELECTED)
        elif state & QStyle.StateFlag.State_MouseOver:
            painter.fillRect(rect, HOVER)
        ratio = painter.device().devicePixelRatioF()
        base = QFont(option.font)  # type: ignore[attr-defined]
        left = rect.left() + MARGIN
        top = rect.top() + (rect.height() - AVATAR) // 2
        painter.drawPixmap(left, top, self._avatar(conversation, ratio, base))
        x = left + AVATAR + MARGIN
        right = rect.right() - MARGIN
        line1 = QRect(x, rect.top() + 9, right - x, 20)
        line2 = QRect(x, rect.top() + 31, right - x, 20)
        now = self._clock()

        small = QFont(base)
        small.setPointSizeF(max(base.pointSizeF() - 1.5, 7.0))
        painter.setFont(small)
        painter.setPen(MUTED)
        stamp = time_label(conversation.last_at, now) if conversation.last_at else ""
        stamp_width = QFontMetrics(small).horizontalAdvance(stamp)
        painter.drawText(QRect(right - stamp_width, line1.top(), stamp_width, line1.height()),
                         Qt.AlignmentFlag.AlignVCenter, stamp)

        badges = badges_of(conversation)
        badge_space = sum(self._badge(b, ratio, small).width() / ratio + 4 for b in badges)
        name_font = QFont(base)
        name_font.setWeight(QFont.Weight.DemiBold if conversation.unread else QFont.Weight.Normal)
        painter.setFont(name_font)
        painter.setPen(TEXT)
        metrics = QFontMetrics(name_font)
        name_room = max(0, line1.width() - stamp_width - 8 - int(badge_space))
        name = metrics.elidedText(conversation.name, Qt.TextElideMode.ElideRight, name_room)
        painter.drawText(QRect(x, line1.top(), name_room, line1.height()), Qt.AlignmentFlag.AlignVCenter, name)
        bx = float(x + metrics.horizontalAdvance(name) + 5)
        for badge in badges:
            pixmap = self._badge(badge, ratio, small)
            painter.drawPixmap(int(bx), line1.top() + (line1.height() - int(pixmap.height() / ratio)) // 2, pixmap)
            bx += pixmap.width() / ratio + 4

        tail: int = right
        painter.setFont(small)
        if conversation.unread:
            text = "99+" if conversation.unread > 99 else str(conversation.unread)
            width = max(18, QFontMetrics(small).horizontalAdvance(text) + 10)
            bubble = QRect(tail - width, line2.top() + 1, width, 18)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(UNREAD)
            painter.drawRoundedRect(bubble, 9, 9)
            painter.setPen(QColor("#ffffff"))
            painter.drawText(bubble, Qt.AlignmentFlag.AlignCenter, text)
            tail = int(bubble.left() - 6)
        if conversation.section == Section.PENDING and conversation.waiting_since is not None:
            waited = now - conversation.waiting_since
            text = QCoreApplication.translate("ReceptionDelegate", "等待 %1").replace("%1", wait_label(waited))
            width = QFontMetrics(small).horizontalAdvance(text)
            painter.setPen(UNREAD if waited >= LONG_WAIT else WAIT_OK)
            painter.drawText(QRect(tail - width, line2.top(), width, line2.height()), Qt.AlignmentFlag.AlignVCenter, text)
            tail -= width + 8

        painter.setPen(MUTED)
        preview_room = max(0, tail - x)
        preview = QFontMetrics(small).elidedText(" ".join(conversation.last_text.split()),
                                                 Qt.TextElideMode.ElideRight, preview_room)
        painter.drawText(QRect(x, line2.top(), preview_room, line2.height()), Qt.AlignmentFlag.AlignVCenter, preview)

    def _avatar(self, conversation: Conversation, ratio: float, font: QFont) -> QPixmap:
        letters = initials(conversation.name)
        colour = AVATAR_COLOURS[int(hashlib.md5(conversation.id.encode()).hexdigest()[:6], 16) % len(AVATAR_COLOURS)]
        key = ("avatar", letters, colour, ratio)
        pixmap = self._pixmaps.get(key)
        if pixmap is None:
            pixmap = self._new_pixmap(QSize(AVATAR, AVATAR), ratio)
            p = QPainter(pixmap)
            p.setRenderHint(QPainter.RenderHint.Antialiasing)
            path = QPainterPath()
            path.addEllipse(QRectF(0, 0, AVATAR, AVATAR))
            p.fillPath(path, QColor(colour))
            bold = QFont(font)
            bold.setBold(True)
            bold.setPointSizeF(font.pointSizeF() + (1 if len(letters) == 1 else -1))
            p.setFont(bold)
            p.setPen(QColor("#ffffff"))
            p.drawText(QRect(0, 0, AVATAR, AVATAR), Qt.AlignmentFlag.AlignCenter, letters)
            p.end()
            self._pixmaps[key] = pixmap
        return pixmap

    def _badge(self, text: str, ratio: float, font: QFont) -> QPixmap:
        key = ("badge", text, ratio, font.pointSizeF())
        pixmap = self._pixmaps.get(key)
        if pixmap is None:
            size = QSize(QFontMetrics(font).horizontalAdvance(text) + 6, QFontMetrics(font).height() + 2)
            pixmap = self._new_pixmap(size, ratio)
            p = QPainter(pixmap)
            p.setRenderHint(QPainter.RenderHint.Antialiasing)
            colour = QColor(BADGE_COLOURS.get(text, "#7b8794"))
            p.setPen(colour)
            p.setBrush(QColor(colour.red(), colour.green(), colour.blue(), 28))
            p.drawRoundedRect(QRectF(0.5, 0.5, size.width() - 1, size.height() - 1), 3, 3)
            p.setFont(font)
            p.drawText(QRect(0, 0, size.width(), size.height()), Qt.AlignmentFlag.AlignCenter, text)
            p.end()
            self._pixmaps[key] = pixmap
        return pixmap

    @staticmethod
    def _new_pixmap(size: QSize, ratio: float) -> QPixmap:
        pixmap = QPixmap(int(size.width() * ratio), int(size.height() * ratio))
        pixmap.setDevicePixelRatio(ratio)
        pixmap.fill(Qt.GlobalColor.transparent)
        return pixmap
