"""One console signed into several shops (issue 15, Feige's multi-shop login).

Each shop is a page: today's main window with its own client, state and connection (each resumes
on its own after a network loss), shown in a stack under a shop bar. The bar shows every shop's
unread count and connection; Ctrl+1..9 switch shops (then the pages' status keys are Ctrl+Alt+1/2/3
and the pinned phrases Alt+1..9: ``MainWindow(several_shops=True)``). The status control's
全部店铺 choice sets the status of every shop at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QColor, QIcon, QKeySequence, QPainter, QPixmap, QShortcut
from PySide6.QtWidgets import QHBoxLayout, QMainWindow, QStackedWidget, QTabBar, QToolButton, QVBoxLayout, QWidget

from console.ui.icons import app_icon
from console.ui.main_window import MainWindow
from console.ui.state import Backend, ConsoleState
from console.ui.status_controls import connection_title, status_title

MAX_SHOP_KEYS = 9  # Ctrl+1..9
UNREAD_COLOR = QColor("#d4380d")
STATUS_COLORS = {"online": "#52c41a", "suspended": "#faad14", "offline": "#bfbfbf"}  # the tab's dot


def status_dot(status: str, size: int = 10) -> QIcon:
    """A round dot in the status's colour: each shop's status at a glance on the shop bar."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(STATUS_COLORS.get(status, STATUS_COLORS["offline"])))
    painter.drawEllipse(0, 0, size, size)
    painter.end()
    return QIcon(pixmap)


@dataclass
class ShopPage:
    shop: str
    state: ConsoleState
    backend: Backend
    window: MainWindow


class ShopsWindow(QMainWindow):
    """The shop bar over a stack of shop pages."""

    add_shop_requested = Signal()  # 添加店铺…: whoever logs in calls ``add_page``
    shop_switched = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("shopsWindow")
        self.setWindowIcon(app_icon())
        self.pages: list[ShopPage] = []
        bar = QWidget(self)
        bar.setObjectName("shopBar")
        bar_layout = QHBoxLayout(bar)
        bar_layout.setContentsMargins(8, 4, 8, 0)
        bar_layout.setSpacing(6)
        self.tabs = QTabBar(bar)
        self.tabs.setObjectName("shopTabs")
        self.tabs.setExpanding(False)
        self.tabs.setDrawBase(False)
        self.add_button = QToolButton(bar)
        self.add_button.setObjectName("addShop")
        self.add_button.setText(self.tr("＋ 添加店铺"))
        self.add_button.setToolTip(self.tr("再登录一个店铺的账号"))
        bar_layout.addWidget(self.tabs)
        bar_layout.addWidget(self.add_button)
        bar_layout.addStretch(1)
        self.stack = QStackedWidget(self)
        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(bar)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)
        self.shortcuts: list[QShortcut] = []
        for n in range(1, MAX_SHOP_KEYS + 1):
            shortcut = QShortcut(QKeySequence(f"Ctrl+{n}"), self)
            shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
            shortcut.activated.connect(lambda i=n - 1: self.switch_to(i))
            self.shortcuts.append(shortcut)
        self.tabs.currentChanged.connect(self._on_tabs_current_changed)
        self.add_button.clicked.connect(self.add_shop_requested)
        self._update_title()

    # -- pages ---------------------------------------------------------------------------------------

    def add_page(self, page: ShopPage) -> None:
        window = page.window
        window.setWindowFlags(Qt.WindowType.Widget)  # a page, not a window of its own
        self.pages.append(page)
        self.stack.addWidget(window)
        index = self.tabs.addTab(page.shop)
        state = page.state
        for signal in (state.snapshot_loaded, state.conversation_removed, state.conversation_updated):
            signal.connect(lambda *_, p=page: self._refresh(p))
        state.connection_changed.connect(lambda *_, p=page: self._refresh(p))
        state.status_changed.connect(lambda *_, p=page: self._refresh(p))
        window.status_for_all_requested.connect(self.set_status_for_all)
        window.controls.enable_all_shops(self.waiting_total)
        assert window.controls.scope is not None
        window.controls.scope.currentIndexChanged.connect(self._on_scope_current_index_changed)
        self._refresh(page)
        if index == 0:
            self.switch_to(0)

    def switch_to(self, index: int) -> None:
        """Ctrl+n: the n-th shop (a key past the last shop does nothing)."""
        if 0 <= index < len(self.pages):
            self.tabs.setCurrentIndex(index)

    @property
    def current(self) -> ShopPage | None:
        index = self.stack.currentIndex()
        return self.pages[index] if 0 <= index < len(self.pages) else None

    # -- counts and status ---------------------------------------------------------------------------

    def unread(self, index: int) -> int:
        return self.pages[index].state.unread_total()

    def waiting_total(self) -> int:
        return sum(page.state.waiting_count() for page in self.pages)

    def set_status_for_all(self, status: str) -> None:
        """全部店铺: the same status asked of every shop's server (each confirms on its own)."""
        for page in self.pages:
            page.backend.set_status(status)

    def _refresh(self, page: ShopPage) -> None:
        index = self.pages.index(page)
        unread = page.state.unread_total()
        self.tabs.setTabText(index, f"{page.shop} ({unread})" if unread else page.shop)
        connection = str(page.state.connection)
        key = f"Ctrl+{index + 1}" if index < MAX_SHOP_KEYS else ""
        self.tabs.setTabIcon(index, status_dot(page.state.status))
        self.tabs.setTabToolTip(index, self.tr("%1 · %5 · 未读 %2 · %3 %4").replace("%1", page.shop)
                                .replace("%2", str(unread)).replace("%3", connection_title(connection))
                                .replace("%4", key).replace("%5", status_title(page.state.status)).strip())
        if connection != "online":
            self.tabs.setTabTextColor(index, QColor("#8c8c8c"))
        else:
            self.tabs.setTabTextColor(index, UNREAD_COLOR if unread else QColor())
        self._update_title()

    def _update_title(self) -> None:
        total = sum(page.state.unread_total() for page in self.pages)
        title = self.tr("分流接待台 · %1 个店铺").replace("%1", str(len(self.pages)))
        self.setWindowTitle(f"({total}) {title}" if total else title)

    def _on_tabs_current_changed(self, index: int) -> None:
        if 0 <= index < len(self.pages):
            self.stack.setCurrentIndex(index)
            self.pages[index].window.reception.setFocus()
            self.shop_switched.emit(index)

    def _on_scope_current_index_changed(self, index: int) -> None:
        """One scope for every page: 全部店铺 chosen in one shop stays chosen in the others."""
        for page in self.pages:
            scope = page.window.controls.scope
            if scope is not None and scope.currentIndex() != index:
                scope.blockSignals(True)
                scope.setCurrentIndex(index)
                scope.blockSignals(False)

    def closeEvent(self, event: QCloseEvent) -> None:
        for page in self.pages:
            page.window.close()  # each page saves what it remembers
        super().closeEvent(event)
