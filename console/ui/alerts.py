"""Telling the agent something needs them (CONSOLE.md §6, Alerts).

Three kinds, each with its own short sound (resources/sounds, drawn by scripts/make_sounds.py):
a new buyer given to me, a new message from a buyer already waiting, and the slow-reply
reminder. When the window is not the active one, a tray notification names the buyer and the
taskbar entry flashes (``QApplication.alert``). Everything can be muted at once or kind by
kind; the choices live in QSettings.

Sounds play through ``QSoundEffect`` (QtMultimedia, from PySide6-Addons) when the module loads
and the system has an audio output; otherwise (no audio device, the offscreen platform of tests
and self-tests, or the desktop bundle, which leaves QtMultimedia out) the system beep stands in.
"""

from __future__ import annotations

import logging
from enum import StrEnum

from PySide6.QtCore import QLoggingCategory, QObject, QSettings, QUrl
from PySide6.QtGui import QGuiApplication, QIcon
from PySide6.QtWidgets import QApplication, QSystemTrayIcon, QWidget

from console.paths import resources_dir
from console.reception.model import Conversation
from console.ui.labels import preview_text

log = logging.getLogger(__name__)


class AlertKind(StrEnum):
    NEW_BUYER = "new_buyer"
    NEW_MESSAGE = "new_message"
    REMINDER = "reminder"


# QSettings keys: "alerts/sound" predates the other kinds and keeps meaning the new-buyer sound.
SOUND_KEYS = {AlertKind.NEW_BUYER: "alerts/sound", AlertKind.NEW_MESSAGE: "alerts/sound_message",
              AlertKind.REMINDER: "alerts/sound_reminder"}
MUTE_KEY = "alerts/mute"
TASKBAR_KEY = "alerts/taskbar"


def sound_file(kind: AlertKind) -> str:
    return str(resources_dir() / "sounds" / f"{kind.value}.wav")


class Sounds(QObject):
    """Plays the alert sounds: ``QSoundEffect`` where there is audio, the system beep elsewhere."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._effects: dict[AlertKind, QObject] | None = None  # made on the first play

    def play(self, kind: AlertKind) -> None:
        if self._effects is None:
            self._effects = self._load()
        effect = self._effects.get(kind)
        if effect is None:
            QApplication.beep()
            return
        effect.play()  # type: ignore[attr-defined]

    def _load(self) -> dict[AlertKind, QObject]:
        if QGuiApplication.platformName() == "offscreen":  # nobody to hear it (tests, self-test)
            return {}
        # QtMultimedia lists every optional codec library it does not find (VA-API, PipeWire): not
        # the agent's business. Its other messages stay.
        QLoggingCategory.setFilterRules("qt.multimedia.symbolsresolver=false\nqt.multimedia.ffmpeg.info=false")
        try:
            from PySide6.QtMultimedia import QMediaDevices, QSoundEffect
        except ImportError as exc:  # PySide6-Addons missing, or a system library (libpulse) missing
            log.info("alert sounds: QtMultimedia unavailable (%s); the system beep stands in", exc)
            return {}
        if not QMediaDevices.audioOutputs():
            log.info("alert sounds: no audio output; the system beep stands in")
            return {}
        effects: dict[AlertKind, QObject] = {}
        for kind in AlertKind:
            effect = QSoundEffect(self)
            effect.setSource(QUrl.fromLocalFile(sound_file(kind)))
            effect.setVolume(0.8)
            effects[kind] = effect
        return effects


class Alerter(QObject):
    def __init__(self, window: QWidget, settings: QSettings, icon: QIcon, parent: QObject | None = None,
                 sounds: Sounds | None = None) -> None:
        super().__init__(parent)
        self._window = window
        self._settings = settings
        self._sounds = sounds or Sounds(self)
        self.count = 0  # new-buyer alerts given, for tests and the status bar
        self.reminders = 0  # slow-reply reminders given
        self.played: list[AlertKind] = []  # the sounds asked for, in order (tests look)
        self.notified: list[str] = []  # tray notification titles, in order
        self.tray: QSystemTrayIcon | None = None
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.tray = QSystemTrayIcon(icon, self)
            self.tray.setToolTip(self.tr("分流 接待台"))
            self.tray.show()

    # -- settings ------------------------------------------------------------------------------

    @property
    def muted(self) -> bool:
        return bool(self._settings.value(MUTE_KEY, False, bool))

    @muted.setter
    def muted(self, on: bool) -> None:
        self._settings.setValue(MUTE_KEY, on)

    def sound_on(self, kind: AlertKind) -> bool:
        return bool(self._settings.value(SOUND_KEYS[kind], True, bool))

    def set_sound(self, kind: AlertKind, on: bool) -> None:
        self._settings.setValue(SOUND_KEYS[kind], on)

    @property
    def sound(self) -> bool:
        """The new-buyer sound (the 提醒 menu's first switch)."""
        return self.sound_on(AlertKind.NEW_BUYER)

    @sound.setter
    def sound(self, on: bool) -> None:
        self.set_sound(AlertKind.NEW_BUYER, on)

    @property
    def taskbar(self) -> bool:
        """Tray notifications and the taskbar flash while the window is not active."""
        return bool(self._settings.value(TASKBAR_KEY, True, bool))

    @taskbar.setter
    def taskbar(self, on: bool) -> None:
        self._settings.setValue(TASKBAR_KEY, on)

    # -- alerts --------------------------------------------------------------------------------

    def new_buyer(self, conversation: Conversation) -> None:
        """A buyer has just started waiting for a reply from me."""
        if self._alert(AlertKind.NEW_BUYER, self.tr("新的待回复买家"), f"{conversation.name}：{preview_text(conversation.last_text)}"):
            self.count += 1

    def new_message(self, conversation: Conversation) -> None:
        """A buyer already waiting wrote again."""
        self._alert(AlertKind.NEW_MESSAGE, self.tr("买家新消息"), f"{conversation.name}：{preview_text(conversation.last_text)}")

    def slow_reply(self, conversation: Conversation, waited: int) -> None:
        """A buyer of mine has waited long (the slow-reply reminder): named in the tray."""
        self.reminders += 1
        self._alert(AlertKind.REMINDER, self.tr("慢回复提醒"),
                    self.tr("%1 已等待 %2 秒").replace("%1", conversation.name).replace("%2", str(waited)),
                    QSystemTrayIcon.MessageIcon.Warning)

    def _alert(self, kind: AlertKind, title: str, text: str,
               icon: QSystemTrayIcon.MessageIcon = QSystemTrayIcon.MessageIcon.Information) -> bool:
        """Sound and (when the window is inactive) notify; whether anything was given."""
        if self.muted:
            return False
        given = False
        if self.sound_on(kind):
            given = True
            self.played.append(kind)
            self._sounds.play(kind)
        if self.taskbar and not self._window.isActiveWindow():
            given = True
            self.notified.append(title)
            QApplication.alert(self._window, 0)  # the taskbar entry flashes until the window is activated
            if self.tray is not None:
                self.tray.showMessage(title, text, icon, 8000 if kind is AlertKind.REMINDER else 5000)
        elif self.taskbar:
            given = True  # the window is in front: the agent sees the row arrive
        return given
