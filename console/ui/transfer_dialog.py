"""转接… for the agent (issue 12): pick a colleague or a group, write a note, send (R3.5).

Keys only: the dialog opens on the list with the first available colleague selected (Up/Down to
choose), Tab to the note, Enter sends, Esc cancels. The list fills when the server's
``colleagues`` answer arrives (``show_targets``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QListView,
    QVBoxLayout,
    QWidget,
)

from console.protocol.messages import MAX_TRANSFER_NOTE
from console.ui.status_controls import status_title
from console.ui.transfer_targets import TransferTarget

TargetRole = Qt.ItemDataRole.UserRole + 1
_Index = QModelIndex | QPersistentModelIndex


class TransferTargetModel(QAbstractListModel):
    """The colleagues and groups of the transfer dialog, in the order given (available first)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._targets: list[TransferTarget] = []

    def set_targets(self, targets: Sequence[TransferTarget]) -> None:
        self.beginResetModel()
        self._targets = list(targets)
        self.endResetModel()

    def target(self, row: int) -> TransferTarget:
        return self._targets[row]

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._targets)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._targets):
            return None
        target = self._targets[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self.text(target)
        if role == Qt.ItemDataRole.ToolTipRole:
            if target.kind == "group":
                return self.tr("按该组的分配方式给组内客服；满员时在该组排队") if target.queues else self.tr(
                    "按该组的分配方式给组内客服；满员时不能转接")
            return None if target.selectable else self.tr("离线的同事不能接收转接")
        if role == TargetRole:
            return target
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        if self._targets[index.row()].selectable:
            return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren
        return Qt.ItemFlag.ItemNeverHasChildren

    def text(self, target: TransferTarget) -> str:
        if target.kind == "group":
            return self.tr("%1（分组）").replace("%1", target.name)
        return f"{target.name}  ·  {status_title(target.status)}  ·  {target.load}/{target.cap}"


class AgentTransferDialog(QDialog):
    """One transfer: ``transfer_requested(conversation, agent, group, note)`` when sent."""

    transfer_requested = Signal(str, str, str, str)  # conversation, agent or "", group or "", note

    def __init__(self, conversation: str, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("agentTransferDialog")
        self.conversation = conversation
        self.setWindowTitle(self.tr("转接：%1").replace("%1", name))
        self.model = TransferTargetModel(self)
        self.targets = QListView(self)
        self.targets.setObjectName("transferTargets")
        self.targets.setModel(self.model)
        self.targets.setSelectionMode(QListView.SelectionMode.SingleSelection)
        self.hint = QLabel(self.tr("正在读取同事列表…"), self)
        self.note = QLineEdit(self)
        self.note.setObjectName("transferNote")
        self.note.setMaxLength(MAX_TRANSFER_NOTE)
        self.note.setPlaceholderText(self.tr("给接手同事的备注（选填，最多 %1 字）").replace("%1", str(MAX_TRANSFER_NOTE)))
        self.count = QLabel(self)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        self.send_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.send_button.setText(self.tr("转接"))
        self.send_button.setEnabled(False)
        self.send_button.setDefault(True)
        self.send_button.setAutoDefault(False)
        cancel = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        cancel.setText(self.tr("取消"))
        cancel.setAutoDefault(False)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(self.tr("转接给（空闲的同事在前）："), self))
        layout.addWidget(self.targets, 1)
        layout.addWidget(self.hint)
        layout.addWidget(QLabel(self.tr("备注（接手的同事会看到，买家看不到）："), self))
        layout.addWidget(self.note)
        layout.addWidget(self.count, 0, Qt.AlignmentFlag.AlignRight)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(max(420, self.fontMetrics().horizontalAdvance(self.windowTitle()) + 180))
        self.resize(460, 420)
        self._show_count()
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.note.textChanged.connect(self._show_count)
        self.targets.selectionModel().selectionChanged.connect(self._on_selection_changed)
        self.targets.doubleClicked.connect(self.accept)
        self.targets.setFocus()

    def show_targets(self, targets: Sequence[TransferTarget]) -> None:
        """The server's answer: fill the list and select the first colleague who can take a buyer."""
        self.model.set_targets(targets)
        if not targets:
            self.hint.setText(self.tr("没有可以转接的同事或分组"))
        else:
            self.hint.setText(self.tr("离线的同事不能接收转接") if any(not t.selectable for t in targets) else "")
        for row in range(self.model.rowCount()):
            if self.model.target(row).selectable:
                self.targets.setCurrentIndex(self.model.index(row))
                break
        self.hint.setVisible(bool(self.hint.text()))

    def chosen(self) -> TransferTarget | None:
        index = self.targets.currentIndex()
        if not index.isValid() or not self.targets.selectionModel().isSelected(index):
            return None
        target = self.model.target(index.row())
        return target if target.selectable else None

    def accept(self) -> None:
        target = self.chosen()
        if target is None:
            return  # nothing chosen yet: the dialog stays open
        agent, group = (target.id, "") if target.kind == "agent" else ("", target.id)
        self.transfer_requested.emit(self.conversation, agent, group, self.note.text().strip())
        super().accept()

    def _on_selection_changed(self) -> None:
        self.send_button.setEnabled(self.chosen() is not None)

    def _show_count(self) -> None:
        self.count.setText(f"{len(self.note.text())}/{MAX_TRANSFER_NOTE}")
