"""The slow-reply reminder (CONSOLE.md §6): which of my waiting buyers to name, once per wait.

Qianniu reminds at 100 s; the platform grades replies within 180 s. The limit is the agent's
choice (off, 60, 100 or 150 s), kept in QSettings. The main window asks ``due`` on its one-second
tick and tells the agent (status bar, alert) about the buyers it returns.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QSettings

from console.reception.model import Conversation

CHOICES = (0, 60, 100, 150)  # seconds of waiting before the reminder; 0 is off
DEFAULT = 100
KEY = "alerts/reminder_seconds"


class SlowReplyReminder:
    def __init__(self, settings: QSettings) -> None:
        self._settings = settings
        self._reminded: dict[str, float] = {}  # conversation -> the wait (waiting_since) reminded of

    @property
    def seconds(self) -> int:
        """Seconds of waiting before the reminder; 0 when it is off."""
        return int(self._settings.value(KEY, DEFAULT, int))

    @seconds.setter
    def seconds(self, value: int) -> None:
        self._settings.setValue(KEY, int(value))

    def due(self, now: float, conversations: Iterable[Conversation], holder: str) -> list[Conversation]:
        """The waiting buyers held by ``holder`` who reached the limit and were not reminded of
        in this wait; each is remembered as reminded."""
        limit = self.seconds
        if limit <= 0:
            return []
        due: list[Conversation] = []
        for conversation in conversations:
            since = conversation.waiting_since
            if conversation.holder != holder or since is None or now - since < limit:
                continue
            if self._reminded.get(conversation.id) != since:
                self._reminded[conversation.id] = since
                due.append(conversation)
        return due

    def forget(self, conversation: str) -> None:
        """The buyer stopped waiting (answered, gone): a later wait is reminded of again."""
        self._reminded.pop(conversation, None)
