"""在线 / 挂起 / 离线, the load and the connection state: always on screen (CONSOLE.md §2)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QButtonGroup, QComboBox, QHBoxLayout, QLabel, QMessageBox, QToolButton, QWidget

STATUSES = ("online", "suspended", "offline")
STATUS_KEYS = {"online": "Ctrl+1", "suspended": "Ctrl+2", "offline": "Ctrl+3"}
# Signed into several shops, Ctrl+1..9 switch shops (issue 15): the statuses move to Ctrl+Alt+1/2/3.
SEVERAL_SHOPS_STATUS_KEYS = {"online": "Ctrl+Alt+1", "suspended": "Ctrl+Alt+2", "offline": "Ctrl+Alt+3"}


def status_title(status: str) -> str:
    return {
        "online": QCoreApplication.translate("Status", "在线"),
        "suspended": QCoreApplication.translate("Status", "挂起"),
        "offline": QCoreApplication.translate("Status", "离线"),
    }[status]


def connection_title(connection: str) -> str:
    return {
        "connecting": QCoreApplication.translate("Connection", "连接中…"),
        "online": QCoreApplication.translate("Connection", "已连接"),
        "reconnecting": QCoreApplication.translate("Connection", "重连中…"),
        "offline": QCoreApplication.translate("Connection", "未连接"),
    }.get(connection, connection)


class StatusControls(QWidget):
    """Asks for a status change (``status_requested``); shows what the server says it is."""

    status_requested = Signal(str)
    status_for_all_requested = Signal(str)  # the scope is 全部店铺 (issue 15)

    def __init__(self, waiting_count: Callable[[], int], parent: QWidget | None = None, *,
                 keys: dict[str, str] = STATUS_KEYS) -> None:
        super().__init__(parent)
        self.setObjectName("statusControls")
        self._waiting_count = waiting_count
        self._waiting_all: Callable[[], int] | None = None
        self.scope: QComboBox | None = None  # 本店 / 全部店铺, when signed into several shops
        self.status = "offline"
        self.buttons: dict[str, QToolButton] = {}
        self.shortcuts: dict[str, QShortcut] = {}
        self._group = QButtonGroup(self)
        self._group.setExclusive(True)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        for position, status in enumerate(STATUSES):
            button = QToolButton(self)
            button.setObjectName(f"status_{status}")
            button.setProperty("segment", ("first", "middle", "last")[position])
            button.setText(status_title(status))
            button.setCheckable(True)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            button.setToolTip(self.tr("%1 (%2)").replace("%1", status_title(status))
                              .replace("%2", QKeySequence(keys[status]).toString(
                                  QKeySequence.SequenceFormat.NativeText)))
            self._group.addButton(button, position)
            layout.addWidget(button)
            self.buttons[status] = button
            shortcut = QShortcut(QKeySequence(keys[status]), self)
            shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
            shortcut.activated.connect(lambda s=status: self.request(s))
            self.shortcuts[status] = shortcut
        self._layout = layout
        layout.addSpacing(14)
        self.load_label = QLabel(self)
        self.load_label.setObjectName("loadLabel")
        layout.addWidget(self.load_label)
        layout.addSpacing(14)
        self.connection_label = QLabel(self)
        self.connection_label.setObjectName("connectionLabel")
        layout.addWidget(self.connection_label)
        self.offline_dialog: QMessageBox | None = None
        self._group.idClicked.connect(self._on_group_id_clicked)
        self.show_status("offline", 0, 0)
        self.show_connection("connecting")

    def enable_all_shops(self, waiting_all: Callable[[], int]) -> None:
        """Signed into several shops: a scope choice, 本店 or 全部店铺 (the status of every shop at
        once); ``waiting_all`` counts the waiting buyers of every shop for the offline question."""
        self._waiting_all = waiting_all
        self.scope = QComboBox(self)
        self.scope.setObjectName("statusScope")
        self.scope.addItem(self.tr("本店"), "shop")
        self.scope.addItem(self.tr("全部店铺"), "all")
        self.scope.setToolTip(self.tr("状态只改本店，或同时改全部店铺"))
        self._layout.insertWidget(len(STATUSES), self.scope)

    @property
    def for_all_shops(self) -> bool:
        return self.scope is not None and self.scope.currentData() == "all"

    # -- fed by the main window --------------------------------------------------------------------

    def show_status(self, status: str, load: int, cap: int) -> None:
        self.status = status
        self.buttons[status].setChecked(True)
        self.setProperty("status", status)
        self.load_label.setText(self.tr("接待中 %1/%2").replace("%1", str(load)).replace("%2", str(cap)))
        self.load_label.setToolTip(self.tr("当前接待 / 接待上限"))
        self._restyle(self)

    def show_connection(self, connection: str, served_at: str = "") -> None:
        """``served_at``: host:port of the server the shop's connection was sent to (issue 15)."""
        text = "● " + connection_title(connection)
        tip = ""
        if served_at and connection == "online":
            text += self.tr("（已转到 %1）").replace("%1", served_at)
            tip = self.tr("本店由服务器 %1 接待：您填写的服务器把连接转到了那里。断线后仍先连您填写的服务器。").replace(
                "%1", served_at)
        self.connection_label.setText(text)
        self.connection_label.setToolTip(tip)
        self.connection_label.setProperty("connection", connection)
        self._restyle(self.connection_label)

    # -- requests --------------------------------------------------------------------------------

    def request(self, status: str) -> None:
        """Ask for a status; going offline with buyers waiting asks first (R3.3)."""
        if self.for_all_shops:
            assert self._waiting_all is not None
            self.buttons[self.status].setChecked(True)  # each shop's page shows what its server says
            waiting = self._waiting_all()
            if status == "offline" and waiting > 0:
                self._ask_offline(waiting)
                return
            self.status_for_all_requested.emit(status)
            return
        if status == self.status:
            self.buttons[status].setChecked(True)
            return
        waiting = self._waiting_count()
        if status == "offline" and waiting > 0:
            self._ask_offline(waiting)
            return
        self.buttons[self.status].setChecked(True)  # stays until the server confirms
        self.status_requested.emit(status)

    def _ask_offline(self, waiting: int) -> None:
        self.buttons[self.status].setChecked(True)
        dialog = QMessageBox(QMessageBox.Icon.Question, self.tr("确认离线"),
                             (self.tr("全部店铺还有 %1 位买家在等待回复。离线后他们将被分配给各店的其他同事（R3.3）。\n"
                                      "确定全部店铺离线吗？") if self.for_all_shops else
                              self.tr("还有 %1 位买家在等待回复。离线后他们将被分配给其他同事（R3.3）。\n确定离线吗？"))
                             .replace("%1", str(waiting)),
                             QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, self)
        dialog.button(QMessageBox.StandardButton.Yes).setText(self.tr("离线"))
        dialog.button(QMessageBox.StandardButton.Cancel).setText(self.tr("取消"))
        dialog.setDefaultButton(QMessageBox.StandardButton.Cancel)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.finished.connect(self._on_offline_dialog_finished)
        self.offline_dialog = dialog
        dialog.open()  # not exec(): no nested event loop under qasync

    def _on_offline_dialog_finished(self, result: int) -> None:
        dialog, self.offline_dialog = self.offline_dialog, None
        if dialog is not None:
            dialog.deleteLater()
        if result == QMessageBox.StandardButton.Yes:
            (self.status_for_all_requested if self.for_all_shops else self.status_requested).emit("offline")

    def _on_group_id_clicked(self, position: int) -> None:
        self.request(STATUSES[position])

    @staticmethod
    def _restyle(widget: QWidget) -> None:
        widget.style().unpolish(widget)
        widget.style().polish(widget)
        for child in widget.findChildren(QWidget):
            child.style().unpolish(child)
            child.style().polish(child)
