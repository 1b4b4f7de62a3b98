"""The open conversation's history as a list model, with our unconfirmed replies in it."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from console.reception.model import Message
from console.ui.state import Delivery

MessageRole = Qt.ItemDataRole.UserRole  # the Message
DeliveryRole = Qt.ItemDataRole.UserRole + 1  # Delivery: confirmed, sending, queued, failed
FailureRole = Qt.ItemDataRole.UserRole + 2  # why the server refused our reply ("" if it did not)

AnyIndex = QModelIndex | QPersistentModelIndex


class MessageModel(QAbstractListModel):
    def __init__(self, delivery: Callable[[Message], Delivery], parent: QObject | None = None,
                 failure: Callable[[Message], str] | None = None) -> None:
        super().__init__(parent)
        self._delivery = delivery
        self._failure = failure
        self._messages: list[Message] = []

    def set_messages(self, messages: Iterable[Message]) -> None:
        """Another conversation opened: a new list."""
        self.beginResetModel()
        self._messages = list(messages)
        self.endResetModel()

    def add(self, message: Message) -> None:
        """A new message, or the server's copy of one of our replies (same client_id)."""
        if message.client_id is not None:
            for row, current in enumerate(self._messages):
                if current.client_id == message.client_id:
                    self._messages[row] = message
                    index = self.index(row, 0)
                    self.dataChanged.emit(index, index)
                    return
        row = len(self._messages)
        self.beginInsertRows(QModelIndex(), row, row)
        self._messages.append(message)
        self.endInsertRows()

    def message(self, row: int) -> Message:
        return self._messages[row]

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._messages)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._messages):
            return None
        message = self._messages[index.row()]
        if role == MessageRole:
            return message
        if role == Qt.ItemDataRole.DisplayRole:
            return message.text
        if role == DeliveryRole:
            return self._delivery(message)
        if role == FailureRole:
            return self._failure(message) if self._failure is not None else ""
        return None
