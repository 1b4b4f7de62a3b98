"""Paints the rows of the reception list: section headers and conversations (CONSOLE.md §1).

Everything that does not change from paint to paint (avatars, badges, the header button) is
drawn once into a pixmap cache keyed by its content and the device pixel ratio; fonts, their
metrics and time labels are cached too. ``ReceptionView`` calls ``paint_header``/``paint_row``
directly (no ``QStyleOptionViewItem``, no flag arithmetic per row); ``paint()`` is the same for
any other item view.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QModelIndex, QPersistentModelIndex, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPainterPath, QPixmap
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from console.reception.emoji import with_emoji
from console.reception.model import Conversation, Kind, Section
from console.ui.labels import initials, preview_text, time_label, timer_label
from console.ui.reception_model import ConversationRole, CountRole, SectionRole, is_section

ROW_HEIGHT = 60
HEADER_HEIGHT = 32
AVATAR = 38
MARGIN = 10
ROW_SIZE = QSize(240, ROW_HEIGHT)
HEADER_SIZE = QSize(240, HEADER_HEIGHT)
CLEARABLE = frozenset({Section.BOT_REPLIED, Section.REPLIED})
COLLAPSIBLE = frozenset(set(Section) - {Section.PENDING})
# Reply timers (CONSOLE.md §6): the platform grades the 3-minute response rate, and Qianniu
# reminds at 100 s. A waiting time turns amber at WAIT_AMBER and red at WAIT_RED seconds.
WAIT_AMBER = 100.0
WAIT_RED = 180.0

AVATAR_COLOURS = ("#5b8def", "#2bb3a3", "#f29c38", "#9b6bdf", "#e2607f", "#4fa3d1", "#7fb347", "#d98545")
BADGE_COLOURS = {"商": "#8a5cd6", "平": "#e8590c", "群": "#1c9bd8"}

TEXT = QColor("#1f2933")
MUTED = QColor("#7b8794")
SELECTED = QColor("#e3edfb")
HOVER = QColor("#f3f6fa")
HEADER_BG = QColor("#f2f4f7")
UNREAD = QColor("#f0483e")
WAIT_AMBER_COLOUR = QColor("#d97706")
WAIT_COLOURS = (MUTED, WAIT_AMBER_COLOUR, UNREAD)  # by wait level: fine, amber, red
WHITE = QColor("#ffffff")

# Enum members and flag combinations used on every paint, looked up once: building a flag
# (``state & State_Selected``) or reading one from an option constructs a Python enum each time.
ALIGN_VCENTER = Qt.AlignmentFlag.AlignVCenter
ALIGN_CENTER = Qt.AlignmentFlag.AlignCenter
ELIDE_RIGHT = Qt.TextElideMode.ElideRight
ANTIALIASING = QPainter.RenderHint.Antialiasing
NO_PEN = Qt.PenStyle.NoPen
DEMIBOLD = QFont.Weight.DemiBold
NORMAL = QFont.Weight.Normal
STATE_SELECTED = QStyle.StateFlag.State_Selected.value
STATE_MOUSE_OVER = QStyle.StateFlag.State_MouseOver.value
TIME_LABELS_MAX = 4096
ROW_CACHE = 64  # painted rows kept: more than a screenful, a few MB


Labels = tuple[str, str, int]  # a row's time, its waiting time, its wait level


def wait_level(waited: float) -> int:
    """0 while fine, 1 from WAIT_AMBER seconds (amber), 2 from WAIT_RED (red)."""
    return 2 if waited >= WAIT_RED else 1 if waited >= WAIT_AMBER else 0


def badges_of(conversation: Conversation) -> tuple[str, ...]:
    """Badges come from the server's account kind only, never from the name (seed 003)."""
    return {Kind.MERCHANT: ("商",), Kind.STAFF: ("平",), Kind.GROUP: ("群",)}.get(conversation.kind, ())


class _Fonts:
    """The fonts of a row and a header derived from the view's font, with their metrics."""

    __slots__ = ("base", "bold", "bold_metrics", "small", "small_metrics", "normal", "normal_metrics", "demibold",
                 "demibold_metrics")

    def __init__(self, base: QFont) -> None:
        self.base = QFont(base)
        self.bold = QFont(base)
        self.bold.setBold(True)
        self.bold_metrics = QFontMetrics(self.bold)
        self.small = QFont(base)
        self.small.setPointSizeF(max(base.pointSizeF() - 1.5, 7.0))
        self.small_metrics = QFontMetrics(self.small)
        self.normal = QFont(base)
        self.normal.setWeight(NORMAL)
        self.normal_metrics = QFontMetrics(self.normal)
        self.demibold = QFont(base)
        self.demibold.setWeight(DEMIBOLD)
        self.demibold_metrics = QFontMetrics(self.demibold)


class ReceptionDelegate(QStyledItemDelegate):
    def __init__(self, clock: Callable[[], float], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._clock = clock
        self._pixmaps: dict[tuple[object, ...], QPixmap] = {}
        self._fonts: dict[str, _Fonts] = {}
        self._rows: dict[tuple[object, ...], QPixmap] = {}  # painted rows, least recently painted first
        self._stamps: dict[int, str] = {}  # minute of last_at -> time label, for the current minute
        self._stamps_minute = -1
        self.collapsed_sections: set[Section] = set()  # kept in step by the view, for the arrows
        self._shown: dict[str, Labels] = {}  # conversation id -> the time labels last painted

    # -- geometry shared with the view (hit testing) -----------------------------------------------

    @staticmethod
    def clear_button_rect(row: QRect) -> QRect:
        return QRect(row.right() - 64, row.top() + 5, 56, row.height() - 10)

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        # ReceptionView lays out from these two heights alone; for any other view, no data() call.
        return HEADER_SIZE if is_section(index) else ROW_SIZE

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> None:
        rect: QRect = option.rect  # type: ignore[attr-defined]
        font: QFont = option.font  # type: ignore[attr-defined]
        if is_section(index):
            self.paint_header(painter, rect, index, font)
        else:
            state = option.state.value  # type: ignore[attr-defined]
            self.paint_row(painter, rect, index, font, selected=bool(state & STATE_SELECTED),
                           hovered=bool(state & STATE_MOUSE_OVER))  # drawn directly: no background known

    def paint_row(self, painter: QPainter, rect: QRect, index: QModelIndex | QPersistentModelIndex, font: QFont, *,
                  selected: bool = False, hovered: bool = False, background: QColor | None = None) -> None:
        """One conversation row: its ``Conversation`` is the only thing asked of the model.

        With a ``background`` (the view's, opaque) the row is drawn once into a pixmap kept
        while the row looks the same (same conversation, labels, size, state): a live list
        repaints mostly unchanged rows shifted by an insert or a move.
        """
        conversation = index.data(ConversationRole)
        if conversation is None:
            return
        labels = self._labels(conversation, self._clock())
        self._shown[conversation.id] = labels
        if background is None:
            painter.save()
            painter.setRenderHint(ANTIALIASING)
            self._paint_row(painter, rect, font, conversation, selected, hovered, labels)
            painter.restore()
            return
        ratio = painter.device().devicePixelRatioF()
        key = (conversation, labels, rect.width(), rect.height(), selected, hovered, background.rgba(), ratio,
               font.key())
        pixmap = self._rows.pop(key, None)
        if pixmap is None:
            pixmap = self._new_pixmap(rect.size(), ratio)
            pixmap.fill(background)
            p = QPainter(pixmap)
            p.setRenderHint(ANTIALIASING)
            self._paint_row(p, QRect(0, 0, rect.width(), rect.height()), font, conversation, selected, hovered, labels)
            p.end()
            if len(self._rows) >= ROW_CACHE:
                del self._rows[next(iter(self._rows))]  # the least recently painted
        self._rows[key] = pixmap  # (re)inserted last: the dict's order is the recency
        painter.drawPixmap(rect.topLeft(), pixmap)

    # -- section headers -------------------------------------------------------------------------

    def paint_header(self, painter: QPainter, rect: QRect, index: QModelIndex | QPersistentModelIndex,
                     base: QFont) -> None:
        painter.save()
        painter.setRenderHint(ANTIALIASING)
        section: Section | None = index.data(SectionRole)
        painter.fillRect(rect, HEADER_BG)
        x = rect.left() + MARGIN
        fonts = self._fonts_for(base)
        if section in COLLAPSIBLE:
            painter.setPen(MUTED)
            painter.setFont(fonts.base)
            arrow = "▸" if section in self.collapsed_sections else "▾"
            painter.drawText(QRect(x, rect.top(), 14, rect.height()), ALIGN_VCENTER, arrow)
        x += 16
        painter.setFont(fonts.bold)
        painter.setPen(TEXT)
        title = str(index.data(Qt.ItemDataRole.DisplayRole))
        width = fonts.bold_metrics.horizontalAdvance(title)
        painter.drawText(QRect(x, rect.top(), width + 2, rect.height()), ALIGN_VCENTER, title)
        painter.setFont(fonts.base)
        painter.setPen(MUTED)
        painter.drawText(QRect(x + width + 6, rect.top(), 60, rect.height()), ALIGN_VCENTER,
                         f"({index.data(CountRole)})")
        if section in CLEARABLE:
            button = self.clear_button_rect(rect)
            painter.drawPixmap(button.topLeft(), self._clear_button(button.size(), painter.device().devicePixelRatioF(),
                                                                     fonts.base))
        painter.restore()

    def _clear_button(self, size: QSize, ratio: float, font: QFont) -> QPixmap:
        text = QCoreApplication.translate("ReceptionDelegate", "清扫")
        key = ("clear", text, size.width(), size.height(), ratio)
        pixmap = self._pixmaps.get(key)
        if pixmap is None:
            pixmap = self._new_pixmap(size, ratio)
            p = QPainter(pixmap)
            p.setRenderHint(ANTIALIASING)
            p.setPen(QColor("#c5ccd6"))
            p.setBrush(QColor("#ffffff"))
            p.drawRoundedRect(QRectF(0.5, 0.5, size.width() - 1, size.height() - 1), 4, 4)
            p.setPen(QColor("#52606d"))
            p.setFont(font)
            p.drawText(QRect(0, 0, size.width(), size.height()), ALIGN_CENTER, text)
            p.end()
            self._pixmaps[key] = pixmap
        return pixmap

    # -- conversation rows -----------------------------------------------------------------------

    def labels_changed(self, conversation: Conversation, now: float) -> bool:
        """Whether the row would look different now than when it was last painted (the reply
        timer's tick repaints only those rows)."""
        return self._shown.get(conversation.id) != self._labels(conversation, now)

    def forget_shown(self) -> None:
        """Drop the record of painted labels (rows that left the list)."""
        self._shown.clear()

    def _labels(self, conversation: Conversation, now: float) -> Labels:
        """What a row shows that depends on the time: its time, its waiting time and its level
        (0 fine, 1 amber from WAIT_AMBER, 2 red from WAIT_RED)."""
        stamp = self._time_label(conversation.last_at, now) if conversation.last_at else ""
        if conversation.section != Section.PENDING or conversation.waiting_since is None:
            return stamp, "", 0
        waited = now - conversation.waiting_since
        wait = QCoreApplication.translate("ReceptionDelegate", "等待 %1").replace("%1", timer_label(waited))
        return stamp, wait, wait_level(waited)

    def _paint_row(self, painter: QPainter, rect: QRect, base: QFont, conversation: Conversation, selected: bool,
                   hovered: bool, labels: Labels) -> None:
        stamp, wait, level = labels
        if selected:
            painter.fillRect(rect, SELECTED)
        elif hovered:
            painter.fillRect(rect, HOVER)
        ratio = painter.device().devicePixelRatioF()
        fonts = self._fonts_for(base)
        left = rect.left() + MARGIN
        top = rect.top() + (rect.height() - AVATAR) // 2
        painter.drawPixmap(left, top, self._avatar(conversation, ratio, fonts.base))
        x = left + AVATAR + MARGIN
        right = rect.right() - MARGIN
        line1 = QRect(x, rect.top() + 9, right - x, 20)
        line2 = QRect(x, rect.top() + 31, right - x, 20)

        small, small_metrics = fonts.small, fonts.small_metrics
        painter.setFont(small)
        painter.setPen(MUTED)
        stamp_width = small_metrics.horizontalAdvance(stamp)
        painter.drawText(QRect(right - stamp_width, line1.top(), stamp_width, line1.height()), ALIGN_VCENTER, stamp)

        badges = badges_of(conversation)
        badge_space = sum(self._badge(b, ratio, small).width() / ratio + 4 for b in badges)
        if conversation.unread:
            name_font, metrics = fonts.demibold, fonts.demibold_metrics
        else:
            name_font, metrics = fonts.normal, fonts.normal_metrics
        painter.setFont(name_font)
        painter.setPen(TEXT)
        name_room = max(0, line1.width() - stamp_width - 8 - int(badge_space))
        name = metrics.elidedText(conversation.name, ELIDE_RIGHT, name_room)
        painter.drawText(QRect(x, line1.top(), name_room, line1.height()), ALIGN_VCENTER, name)
        bx = float(x + metrics.horizontalAdvance(name) + 5)
        for badge in badges:
            pixmap = self._badge(badge, ratio, small)
            painter.drawPixmap(int(bx), line1.top() + (line1.height() - int(pixmap.height() / ratio)) // 2, pixmap)
            bx += pixmap.width() / ratio + 4

        tail: int = right
        painter.setFont(small)
        if conversation.unread:
            text = "99+" if conversation.unread > 99 else str(conversation.unread)
            width = max(18, small_metrics.horizontalAdvance(text) + 10)
            bubble = QRect(tail - width, line2.top() + 1, width, 18)
            painter.setPen(NO_PEN)
            painter.setBrush(UNREAD)
            painter.drawRoundedRect(bubble, 9, 9)
            painter.setPen(WHITE)
            painter.drawText(bubble, ALIGN_CENTER, text)
            tail = int(bubble.left() - 6)
        if wait:
            width = small_metrics.horizontalAdvance(wait)
            painter.setPen(WAIT_COLOURS[level])
            painter.drawText(QRect(tail - width, line2.top(), width, line2.height()), ALIGN_VCENTER, wait)
            tail -= width + 8

        painter.setPen(MUTED)
        preview_room = max(0, tail - x)
        preview = small_metrics.elidedText(" ".join(with_emoji(preview_text(conversation.last_text)).split()), ELIDE_RIGHT,
                                             preview_room)
        painter.drawText(QRect(x, line2.top(), preview_room, line2.height()), ALIGN_VCENTER, preview)

    def _time_label(self, at: float, now: float) -> str:
        """``time_label`` depends only on the minutes of both times: cached for the current minute
        (formatting a local time reads the timezone, a slow call on every row otherwise)."""
        minute = int(now // 60)
        if minute != self._stamps_minute or len(self._stamps) > TIME_LABELS_MAX:
            self._stamps.clear()
            self._stamps_minute = minute
        key = int(at // 60)
        stamp = self._stamps.get(key)
        if stamp is None:
            stamp = self._stamps[key] = time_label(at, now)
        return stamp

    def _fonts_for(self, base: QFont) -> _Fonts:
        key = base.key()
        fonts = self._fonts.get(key)
        if fonts is None:
            fonts = self._fonts[key] = _Fonts(base)
        return fonts

    def _avatar(self, conversation: Conversation, ratio: float, font: QFont) -> QPixmap:
        letters = initials(conversation.name)
        colour = AVATAR_COLOURS[int(hashlib.md5(conversation.id.encode()).hexdigest()[:6], 16) % len(AVATAR_COLOURS)]
        key = ("avatar", letters, colour, ratio)
        pixmap = self._pixmaps.get(key)
        if pixmap is None:
            pixmap = self._new_pixmap(QSize(AVATAR, AVATAR), ratio)
            p = QPainter(pixmap)
            p.setRenderHint(ANTIALIASING)
            path = QPainterPath()
            path.addEllipse(QRectF(0, 0, AVATAR, AVATAR))
            p.fillPath(path, QColor(colour))
            bold = QFont(font)
            bold.setBold(True)
            bold.setPointSizeF(font.pointSizeF() + (1 if len(letters) == 1 else -1))
            p.setFont(bold)
            p.setPen(WHITE)
            p.drawText(QRect(0, 0, AVATAR, AVATAR), ALIGN_CENTER, letters)
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
            p.setRenderHint(ANTIALIASING)
            colour = QColor(BADGE_COLOURS.get(text, "#7b8794"))
            p.setPen(colour)
            p.setBrush(QColor(colour.red(), colour.green(), colour.blue(), 28))
            p.drawRoundedRect(QRectF(0.5, 0.5, size.width() - 1, size.height() - 1), 3, 3)
            p.setFont(font)
            p.drawText(QRect(0, 0, size.width(), size.height()), ALIGN_CENTER, text)
            p.end()
            self._pixmaps[key] = pixmap
        return pixmap

    @staticmethod
    def _new_pixmap(size: QSize, ratio: float) -> QPixmap:
        pixmap = QPixmap(int(size.width() * ratio), int(size.height() * ratio))
        pixmap.setDevicePixelRatio(ratio)
        pixmap.fill(Qt.GlobalColor.transparent)
        return pixmap
