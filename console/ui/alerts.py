"""Telling the agent a new buyer is waiting: a sound and a taskbar/tray alert, each switchable."""

from __future__ import annotations

from PySide6.QtCore import QObject, QSettings
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QSystemTrayIcon, QWidget

from console.reception.model import Conversation


class Alerter(QObject):
    def __init__(self, window: QWidget, settings: QSettings, icon: QIcon, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._window = window
        self._settings = settings
        self.count = 0  # alerts given, for tests and the status bar
        self.reminders = 0  # slow-reply reminders given
        self.tray: QSystemTrayIcon | None = None
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.tray = QSystemTrayIcon(icon, self)
            self.tray.setToolTip(self.tr("分流 接待台"))
            self.tray.show()

    @property
    def sound(self) -> bool:
        return bool(self._settings.value("alerts/sound", True, bool))

    @sound.setter
    def sound(self, on: bool) -> None:
        self._settings.setValue("alerts/sound", on)

    @property
    def taskbar(self) -> bool:
        return bool(self._settings.value("alerts/taskbar", True, bool))

    @taskbar.setter
    def taskbar(self, on: bool) -> None:
        self._settings.setValue("alerts/taskbar", on)

    def new_buyer(self, conversation: Conversation) -> None:
        """A buyer has just started waiting for a reply."""
        if not (self.sound or self.taskbar):
            return
        self.count += 1
        if self.sound:
            QApplication.beep()
        if self.taskbar:
            QApplication.alert(self._window, 0)
            if self.tray is not None and not self._window.isActiveWindow():
                self.tray.showMessage(self.tr("新的待回复买家"), f"{conversation.name}：{conversation.last_text}",
                                      QSystemTrayIcon.MessageIcon.Information, 5000)

    def slow_reply(self, conversation: Conversation, waited: int) -> None:
        """A buyer of ours has waited long (the slow-reply reminder): named in the tray."""
        self.reminders += 1
        if self.tray is not None and not self._window.isActiveWindow():
            self.tray.showMessage(self.tr("慢回复提醒"),
                                  self.tr("%1 已等待 %2 秒").replace("%1", conversation.name).replace("%2", str(waited)),
                                  QSystemTrayIcon.MessageIcon.Warning, 8000)
        if not self._window.isActiveWindow():
            QApplication.alert(self._window, 0)
