"""The strip above the reception list that says a KPI filter is on, with a way out."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget


def tile_title(tile: str) -> str:
    titles = {
        "received_today": QCoreApplication.translate("Tiles", "今日接待"),
        "not_ordered": QCoreApplication.translate("Tiles", "未下单"),
        "not_paid": QCoreApplication.translate("Tiles", "未付款"),
        "paid": QCoreApplication.translate("Tiles", "已付款"),
        "conversion": QCoreApplication.translate("Tiles", "询单转化率"),
        "satisfaction_yesterday": QCoreApplication.translate("Tiles", "昨日满意度"),
        "response_3min_yesterday": QCoreApplication.translate("Tiles", "昨日3分钟响应率"),
        "avg_response_yesterday": QCoreApplication.translate("Tiles", "昨日平均响应时长"),
    }
    return titles.get(tile, tile)


class FilterBar(QFrame):
    cleared = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("filterBar")
        self.label = QLabel(self)
        self.clear_button = QPushButton(self.tr("清除筛选"), self)
        self.clear_button.setObjectName("clearFilter")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 4, 6, 4)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.clear_button)
        self.clear_button.clicked.connect(self.cleared)
        self.hide()

    def show_filter(self, tile: str, count: int) -> None:
        """Shown while a filter is on; ``tile == ""`` hides it."""
        if not tile:
            self.hide()
            return
        self.label.setText(self.tr("筛选：%1（%2 人）").replace("%1", tile_title(tile)).replace("%2", str(count)))
        self.show()
