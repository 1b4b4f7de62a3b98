"""The day in pictures (issue 14, CONSOLE.md §7), drawn with pyqtgraph.

Four plots of the series the server computes (``get_day_charts``, ``console.reception.
day_charts``): arrivals per 5 minutes with the queue's peak over them, the 3-minute response
rate per hour, each agent's load, and the share of each routing reason. Why pyqtgraph: it is
pure Python on Qt's graphics view (PySide6 supported), draws thousands of points with numpy
arrays in well under a frame, and updating a plot is ``setData`` on items that stay: a redraw
every few seconds replaces arrays, never rebuilds the scene, so the console's loop does not stall.

The x axis is the local hour of the day (0-24).

A redraw is cheap because it changes as little as it can (bench/room_day.py; docs/BENCHMARKS.md):
the items stay and only those whose series changed get new data; the y ranges are set by hand to
a round ceiling, so the axes re-tick (and the layout moves) only when a ceiling is crossed; and
the axes, legends and titles paint from a cached pixmap (``DeviceCoordinateCache``), which Qt
redraws only when the item itself changes: replaying their text and grid on every repaint was
most of the old redraw's time.
"""

from __future__ import annotations

import os

os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")  # the binding the console uses, never another

import numpy as np  # noqa: E402 - after the binding is chosen
import pyqtgraph as pg  # noqa: E402
from PySide6.QtWidgets import QGraphicsItem, QLabel, QVBoxLayout, QWidget  # noqa: E402

from console.protocol.messages import DayCharts  # noqa: E402
from console.ui.reasons import reason_text  # noqa: E402

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf")
HOUR_S = 3600.0


def _hours(count: int, bucket_s: float, offset: float = 0.5) -> np.ndarray:
    """The middle of each bucket, in hours since midnight."""
    return (np.arange(count, dtype=float) + offset) * bucket_s / HOUR_S


def ceiling(top: float) -> float:
    """A round top for a y axis at or above ``top`` (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 times a
    power of ten; 5 at least), so that the range, hence the axis' ticks and width, changes only
    when the series crosses it, and a plot keeps at least 4/5 of its height for the data."""
    if top <= 5:
        return 5.0
    step = 10.0 ** np.floor(np.log10(top))
    for k in (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0):
        if k * step >= top:
            return float(round(k * step, 6))
    return float(10 * step)  # not reached


def _same(item: object, new: dict[str, np.ndarray]) -> bool:
    """Whether ``item`` already holds these arrays (remembered on it by ``_remember``)."""
    old: dict[str, np.ndarray] | None = getattr(item, "_fenliu_data", None)
    return old is not None and old.keys() == new.keys() and all(np.array_equal(old[k], v) for k, v in new.items())


def _remember(item: object, new: dict[str, np.ndarray]) -> None:
    item._fenliu_data = new  # type: ignore[attr-defined]


class DayView(QWidget):
    """The 今日图表 page: four plots, updated in place by ``show_charts``."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("dayView")
        # no antialiasing: curves of 288 points each paint in a third of the time (bench/room_day.py)
        pg.setConfigOptions(antialias=False, foreground="#444444")
        self.note = QLabel(self)
        self.graphs = pg.GraphicsLayoutWidget(self)
        self.graphs.setBackground("w")
        layout = QVBoxLayout(self)
        layout.addWidget(self.note)
        layout.addWidget(self.graphs, 1)

        self.arrivals_plot = self.graphs.addPlot(row=0, col=0, title=self.tr("每5分钟进线与排队峰值"))
        self.arrivals_plot.addLegend(offset=(8, 8))
        self.arrivals_bars = pg.BarGraphItem(x=[], height=[], width=5 / 60 * 0.85, brush="#7aa6d6",
                                             name=self.tr("进线"))
        self.arrivals_plot.addItem(self.arrivals_bars)
        self.queue_line = self.arrivals_plot.plot([], [], pen=pg.mkPen("#d62728", width=2), name=self.tr("排队"))

        self.rate_plot = self.graphs.addPlot(row=0, col=1, title=self.tr("每小时3分钟回复率"))
        self.rate_bars = pg.BarGraphItem(x=[], height=[], width=0.8, brush="#2f9e5b")
        self.rate_plot.addItem(self.rate_bars)
        self.rate_plot.setYRange(0, 100)
        self.rate_plot.setLabel("left", "%")

        self.load_plot = self.graphs.addPlot(row=1, col=0, title=self.tr("客服接待量"))
        self.load_legend = self.load_plot.addLegend(offset=(8, 8), colCount=2)
        self.load_lines: dict[str, pg.PlotDataItem] = {}

        self.reasons_plot = self.graphs.addPlot(row=1, col=1, title=self.tr("分配原因占比"))
        self.reasons_bars = pg.BarGraphItem(x0=[], y=[], height=0.6, width=[], brush="#9467bd")
        self.reasons_plot.addItem(self.reasons_bars)
        self.reasons_plot.invertY(True)

        for plot in (self.arrivals_plot, self.rate_plot, self.load_plot):
            plot.setLabel("bottom", self.tr("时"))
            plot.showGrid(x=True, y=True, alpha=0.2)
            plot.setXRange(0, 24, padding=0.01)
            plot.setMouseEnabled(x=True, y=False)
        self.reasons_plot.setMouseEnabled(x=False, y=False)
        self.reasons_plot.hideButtons()
        for plot in (self.arrivals_plot, self.rate_plot, self.load_plot, self.reasons_plot):
            plot.hideButtons()  # the "A" auto-range button would undo the round y ceilings
            for name in ("left", "bottom"):
                plot.getAxis(name).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
            plot.titleLabel.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        for legend in (self.arrivals_plot.legend, self.load_legend):
            legend.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.charts: DayCharts | None = None
        self.day = ""
        self._y_tops: dict[int, float] = {}  # id(plot) -> the y ceiling set
        self._reason_ticks: list[tuple[float, str]] = []

    def show_charts(self, day: str, charts: DayCharts) -> None:
        """New series: the data of the items whose series changed is replaced in place (no item is
        created unless an agent is new). The same series again (the server keeps an answer 5 s; a
        quiet shop) paint nothing."""
        if charts == self.charts and day == self.day:
            return
        self.charts, self.day = charts, day
        arrived = sum(charts.arrivals)
        self.note.setText(self.tr("%1 · 进线 %2 · 排队峰值 %3").replace("%1", day).replace("%2", str(arrived))
                          .replace("%3", str(max(charts.queue, default=0))))
        n = len(charts.arrivals)
        self._bars(self.arrivals_bars, x=_hours(n, charts.bucket_s), height=np.asarray(charts.arrivals, dtype=float))
        self._line(self.queue_line, _hours(len(charts.queue), charts.bucket_s), np.asarray(charts.queue, dtype=float))
        self._y_top(self.arrivals_plot, max(max(charts.arrivals, default=0), max(charts.queue, default=0)))

        rates = [(i + 0.5, 100.0 * r) for i, r in enumerate(charts.response_3min) if r is not None]
        self._bars(self.rate_bars, x=np.asarray([x for x, _ in rates], dtype=float),
                   height=np.asarray([h for _, h in rates], dtype=float))

        seen = set()
        for i, agent in enumerate(charts.load):
            seen.add(agent.agent)
            line = self.load_lines.get(agent.agent)
            if line is None:
                pen = pg.mkPen(PALETTE[i % len(PALETTE)], width=1.5)
                line = self.load_plot.plot([], [], pen=pen, name=agent.name or agent.agent, stepMode=None)
                self.load_lines[agent.agent] = line
            self._line(line, _hours(len(agent.load), charts.bucket_s), np.asarray(agent.load, dtype=float))
        for agent in [a for a in self.load_lines if a not in seen]:  # left the policy
            line = self.load_lines.pop(agent)
            self.load_legend.removeItem(line)
            self.load_plot.removeItem(line)
        self._y_top(self.load_plot, max((max(a.load, default=0) for a in charts.load), default=0))

        total = sum(r.count for r in charts.reasons) or 1
        shares = [100.0 * r.count / total for r in charts.reasons]
        self._bars(self.reasons_bars, x0=np.zeros(len(shares)), y=np.arange(len(shares), dtype=float),
                   width=np.asarray(shares, dtype=float))
        ticks = [(float(i), f"{reason_text(r.reason)} {share:.0f}%") for i, (r, share) in
                 enumerate(zip(charts.reasons, shares, strict=True))]
        if ticks != self._reason_ticks:  # a new label re-ticks the axis and may move the layout: only then
            if len(ticks) != len(self._reason_ticks):
                self.reasons_plot.setYRange(-0.5, max(0.5, len(shares) - 0.5), padding=0.02)
            self._reason_ticks = ticks
            self.reasons_plot.getAxis("left").setTicks([ticks])
        top = ceiling(max(shares, default=100.0))
        if self._y_tops.get(id(self.reasons_plot)) != top:
            self._y_tops[id(self.reasons_plot)] = top
            self.reasons_plot.setXRange(0, top, padding=0.02)

    @staticmethod
    def _bars(item: pg.BarGraphItem, **data: np.ndarray) -> None:
        if not _same(item, data):
            _remember(item, data)
            item.setOpts(**data)

    @staticmethod
    def _line(item: pg.PlotDataItem, x: np.ndarray, y: np.ndarray) -> None:
        data = {"x": x, "y": y}
        if not _same(item, data):
            _remember(item, data)
            item.setData(x, y)

    def _y_top(self, plot: pg.PlotItem, top: float) -> None:
        """The y range 0 to a round ceiling, set only when the ceiling moves."""
        rounded = ceiling(top)
        if self._y_tops.get(id(plot)) != rounded:
            self._y_tops[id(plot)] = rounded
            plot.setYRange(0, rounded, padding=0.02)
