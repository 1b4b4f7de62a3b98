"""The room's pick list and the read-only monitor (issue 14, CONSOLE.md §7: pick, never type).

``RoomPicker`` shows the buyers of the queue or the conversations of the agent the supervisor
clicked, filtered by buyer name; a double-click (or 查看) opens ``MonitorDialog``, the
conversation read-only with why, transfer and close. Neither talks to the server: they say what
the supervisor asked for, and the main window wires that to the backend.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QModelIndex, QSortFilterProxyModel, Qt, QTimer, Signal, SignalInstance
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListView,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from console.protocol.messages import Message
from console.ui.bubble_delegate import BubbleDelegate
from console.ui.message_model import MessageModel
from console.ui.room_models import Pick, PickKind, PickModel, SortRole
from console.ui.state import ConsoleState

TICK_MS = 1000  # waits age once a second


class RoomPicker(QGroupBox):
    """A queue's buyers or an agent's conversations, to pick from; see the module docstring."""

    monitor_requested = Signal(str, str)  # conversation, buyer name
    why_requested = Signal(str)
    transfer_asked = Signal(str)
    close_requested = Signal(str)

    def __init__(self, clock: Callable[[], float], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("roomPicker")
        self.setTitle(self.tr("买家"))
        self.model = PickModel(clock, self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SortRole)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.proxy.setFilterKeyColumn(self.model.name_column)
        self.heading = QLabel(self.tr("点击排队或客服，查看其中的买家"), self)
        self.heading.setObjectName("pickerHeading")
        self.filter = QLineEdit(self)
        self.filter.setObjectName("pickerFilter")
        self.filter.setPlaceholderText(self.tr("按买家名称筛选"))
        self.filter.setClearButtonEnabled(True)
        self.table = QTableView(self)
        self.table.setObjectName("pickerTable")
        self.table.setModel(self.proxy)
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setSortingEnabled(False)  # a queue's order is its meaning
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.monitor_button = QPushButton(self.tr("查看"), self)
        self.why_button = QPushButton(self.tr("分配原因"), self)
        self.transfer_button = QPushButton(self.tr("转接…"), self)
        self.close_button = QPushButton(self.tr("结束会话"), self)
        self.timer = QTimer(self)
        self.timer.setInterval(TICK_MS)

        buttons = QHBoxLayout()
        for button in (self.monitor_button, self.why_button, self.transfer_button, self.close_button):
            buttons.addWidget(button)
        top = QHBoxLayout()
        top.addWidget(self.heading, 1)
        top.addWidget(self.filter, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)

        self.filter.textChanged.connect(self._on_filter_text_changed)
        self.table.doubleClicked.connect(self._on_table_double_clicked)
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)
        self.proxy.modelReset.connect(self._update_buttons)
        self.monitor_button.clicked.connect(self._on_monitor_button_clicked)
        self.why_button.clicked.connect(lambda: self._emit_for_current(self.why_requested))
        self.transfer_button.clicked.connect(lambda: self._emit_for_current(self.transfer_asked))
        self.close_button.clicked.connect(lambda: self._emit_for_current(self.close_requested))
        self.timer.timeout.connect(self.model.tick)
        self.timer.start()
        self._update_buttons()

    # -- fed by the supervisor view --------------------------------------------------------------

    def show_picks(self, kind: PickKind, source: str, heading: str, picks: Sequence[Pick]) -> None:
        """The list of one queue or agent (the same one again: a live update, selection kept)."""
        current = self.current()
        self.heading.setText(heading)
        self.model.show(kind, source, picks)
        self.proxy.setFilterKeyColumn(self.model.name_column)
        if current is not None:
            self.select(current.id)
        self._update_buttons()

    def current(self) -> Pick | None:
        index = self.table.currentIndex()
        if not index.isValid() or not self.table.selectionModel().isSelected(index):
            return None
        return self.model.pick(self.proxy.mapToSource(index).row())

    def visible_names(self) -> list[str]:
        """The names the list shows now, top to bottom (after the filter)."""
        column = self.model.name_column
        return [str(self.proxy.index(r, column).data()) for r in range(self.proxy.rowCount())]

    # -- slots -----------------------------------------------------------------------------------

    def select(self, conversation: str) -> None:
        for row in range(self.proxy.rowCount()):
            index = self.proxy.index(row, 0)
            if self.model.pick(self.proxy.mapToSource(index).row()).id == conversation:
                self.table.selectRow(row)
                return

    def _on_filter_text_changed(self, text: str) -> None:
        self.proxy.setFilterFixedString(text.strip())
        self._update_buttons()

    def _on_table_double_clicked(self, index: QModelIndex) -> None:
        pick = self.model.pick(self.proxy.mapToSource(index).row())
        self.monitor_requested.emit(pick.id, pick.name)

    def _on_monitor_button_clicked(self) -> None:
        pick = self.current()
        if pick is not None:
            self.monitor_requested.emit(pick.id, pick.name)

    def _emit_for_current(self, signal: SignalInstance) -> None:
        pick = self.current()
        if pick is not None:
            signal.emit(pick.id)

    def _update_buttons(self) -> None:
        chosen = self.current() is not None
        for button in (self.monitor_button, self.why_button, self.transfer_button):
            button.setEnabled(chosen)
        # R3.2: only a session an agent holds can be closed from here, not a queue place
        self.close_button.setEnabled(chosen and self.model.kind is PickKind.AGENT)


class MonitorDialog(QDialog):
    """One conversation, read-only, live (the supervisor's monitor), with why, transfer and close."""

    why_requested = Signal(str)
    transfer_asked = Signal(str)
    close_requested = Signal(str)

    def __init__(self, conversation: str, name: str, state: ConsoleState, clock: Callable[[], float],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("monitorDialog")
        self.conversation = conversation
        self.name = name
        self._state = state
        self.setWindowTitle(self.tr("查看会话：%1").replace("%1", name))
        self.messages = MessageModel(state.delivery, self, state.failure)
        self.history = QListView(self)
        self.history.setObjectName("monitorHistory")
        self.history.setModel(self.messages)
        self.history.setItemDelegate(BubbleDelegate(self.history, clock, lambda: self.name, self._agent_name))
        self.history.setResizeMode(QListView.ResizeMode.Adjust)
        self.history.setUniformItemSizes(False)
        self.history.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.history.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.history.setWordWrap(True)
        self.notice = QLabel(self.tr("只读：主管查看中，回复请转接给客服"), self)
        self.why_button = QPushButton(self.tr("分配原因"), self)
        self.transfer_button = QPushButton(self.tr("转接…"), self)
        self.close_button = QPushButton(self.tr("结束会话"), self)
        self.done_button = QPushButton(self.tr("关闭"), self)
        buttons = QHBoxLayout()
        for button in (self.why_button, self.transfer_button, self.close_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.done_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.notice)
        layout.addWidget(self.history, 1)
        layout.addLayout(buttons)
        self.resize(640, 560)

        self.why_button.clicked.connect(lambda: self.why_requested.emit(conversation))
        self.transfer_button.clicked.connect(lambda: self.transfer_asked.emit(conversation))
        self.close_button.clicked.connect(lambda: self.close_requested.emit(conversation))
        self.done_button.clicked.connect(self.accept)
        state.history_loaded.connect(self._on_state_history_loaded)
        state.message_added.connect(self._on_state_message_added)
        self._on_state_history_loaded(conversation)

    def _agent_name(self, agent: str | None) -> str:
        names = {a.id: a.name for a in self._state.team.agents}
        return names.get(agent or "", agent or "")

    def _on_state_history_loaded(self, conversation: str) -> None:
        if conversation == self.conversation:
            self.messages.set_messages(self._state.messages.get(conversation, []))
            self.history.scrollToBottom()

    def _on_state_message_added(self, message: Message) -> None:
        if message.conversation == self.conversation:
            self.messages.add(message)
            self.history.scrollToBottom()
