"""Shift timelines in the room (issue 14, CONSOLE.md §7): one bar per agent across the day.

Spans come from ``console.reception.shifts`` over the audit log's status entries (the room keeps
the day's entries for the audit page; this view reads the same ones: one copy). Each row: the
agent's name, a bar of green (在线), amber (挂起) and grey (离线) spans over the day's hours, and
how long online and suspended with the number of breaks. Painted directly: a team of a hundred
agents is a hundred rectangles' worth of spans, no widgets per span.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QScrollArea, QWidget

from console.protocol.messages import AuditAction, AuditEntry
from console.reception.shifts import OFFLINE, ONLINE, SUSPENDED, Change, Shift, shifts
from console.ui.labels import local_zone, wait_label

COLORS = {ONLINE: QColor("#2f9e5b"), SUSPENDED: QColor("#e3a72f"), OFFLINE: QColor("#dcdfe4")}
ROW_H = 30
AXIS_H = 24
NAME_W = 110
SUMMARY_W = 300
MARGIN = 8


def changes_of(entries: Sequence[AuditEntry]) -> list[Change]:
    return [Change(e.at, e.subject, e.value) for e in entries if e.action is AuditAction.STATUS]


class ShiftsChart(QWidget):
    """The painted timelines (inside ``ShiftsView``'s scroll area)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("shiftsChart")
        self.shifts: list[Shift] = []
        self.names: dict[str, str] = {}
        self.start = 0.0
        self.end = 86400.0
        self.now = 0.0
        self.zone: tzinfo = local_zone()  # the shop's (show_day)

    def show_day(self, agents: Sequence[tuple[str, str]], start: float, end: float, now: float,
                 opening: Sequence[AuditEntry], entries: Sequence[AuditEntry], zone: tzinfo | None = None) -> None:
        """Recompute every agent's spans (``agents``: id and name, in the table's order); the axis
        in ``zone`` (the shop's)."""
        self.names = dict(agents)
        if zone is not None:
            self.zone = zone
        self.start, self.end, self.now = start, end, now
        first = {e.subject: e.value for e in opening if e.action is AuditAction.STATUS}
        self.shifts = shifts([a for a, _ in agents], start, end, now, first, changes_of(entries))
        self.setMinimumHeight(self.sizeHint().height())
        self.updateGeometry()
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(900, AXIS_H + ROW_H * max(1, len(self.shifts)) + MARGIN)

    def summary(self, shift: Shift) -> str:
        return (self.tr("在线 %1 · 挂起 %2 · 休息 %3 次")
                .replace("%1", wait_label(shift.seconds(ONLINE)))
                .replace("%2", wait_label(shift.seconds(SUSPENDED)))
                .replace("%3", str(shift.breaks)))

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        palette = self.palette()
        left = NAME_W
        width = max(10.0, self.width() - NAME_W - SUMMARY_W - MARGIN)
        span_s = max(1.0, self.end - self.start)

        def x(at: float) -> float:
            return left + (at - self.start) / span_s * width

        painter.setPen(palette.color(palette.ColorRole.PlaceholderText))
        zone = self.zone
        for hour in range(0, 25, 2):  # the axis: every two hours
            at = self.start + hour * 3600.0
            if at > self.end:
                break
            px = x(at)
            painter.drawLine(int(px), AXIS_H - 4, int(px), AXIS_H + ROW_H * len(self.shifts))
            label = datetime.fromtimestamp(at, zone).strftime("%H:%M") if hour < 24 else "24:00"
            painter.drawText(QRectF(px - 30, 0, 60, AXIS_H - 6), Qt.AlignmentFlag.AlignCenter, label)
        if self.start <= self.now < self.end:
            painter.setPen(QColor("#d9534f"))
            painter.drawLine(int(x(self.now)), AXIS_H - 4, int(x(self.now)), AXIS_H + ROW_H * len(self.shifts))
        text = palette.color(palette.ColorRole.WindowText)
        for row, shift in enumerate(self.shifts):
            top = AXIS_H + row * ROW_H
            painter.setPen(text)
            painter.drawText(QRectF(MARGIN, top, NAME_W - 2 * MARGIN, ROW_H),
                             Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                             self.names.get(shift.agent) or shift.agent)
            for span in shift.spans:
                rect = QRectF(x(span.start), top + 6, max(1.0, x(span.end) - x(span.start)), ROW_H - 12)
                painter.fillRect(rect, COLORS.get(span.status, COLORS[OFFLINE]))
            painter.drawText(QRectF(left + width + MARGIN, top, SUMMARY_W, ROW_H),
                             Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, self.summary(shift))
        painter.end()


class ShiftsView(QScrollArea):
    """The 班次 page: the timelines, scrolled when the team is tall."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("shiftsView")
        self.chart = ShiftsChart(self)
        self.setWidget(self.chart)
        self.setWidgetResizable(True)
