"""The supervisor's view (客服主管): team tiles, agents, queues, "why" and transfer (CONSOLE.md §3)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QSettings, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from console.ui.kpi_tiles import KpiTilesBar
from console.ui.labels import time_label
from console.ui.reasons import event_text, reason_text, target_text
from console.ui.status_controls import status_title
from console.ui.team_data import AgentLine, DecisionLine, TeamData
from console.ui.team_models import AgentTableModel, QueueTableModel


def _table(model: AgentTableModel | QueueTableModel, parent: QWidget) -> QTableView:
    view = QTableView(parent)
    view.setModel(model)
    view.verticalHeader().hide()
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.setShowGrid(False)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
    return view


class WhyDialog(QDialog):
    """Every routing decision about one buyer, oldest first, in plain words (R2.3)."""

    def __init__(self, conversation: str, decisions: Sequence[DecisionLine], agent_names: dict[str, str],
                 clock: Callable[[], float], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("whyDialog")
        self.setWindowTitle(self.tr("分配原因：%1").replace("%1", conversation))
        self.table = QTableWidget(len(decisions), 5, self)
        self.table.setHorizontalHeaderLabels(
            [self.tr("时间"), self.tr("结果"), self.tr("去向"), self.tr("原因"), self.tr("规则")])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        now = clock()
        for row, decision in enumerate(sorted(decisions, key=lambda d: d.t)):
            cells = (time_label(decision.t, now), event_text(decision.event), target_text(decision.to, agent_names),
                     reason_text(decision.why), decision.rule)
            for column, text in enumerate(cells):
                self.table.setItem(row, column, QTableWidgetItem(text))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        if not decisions:
            layout.addWidget(QLabel(self.tr("没有这位买家的分配记录"), self))
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(720, 300)


TITLE_BAR_EXTRA = 180  # pixels of a title bar that are not the title (icon, buttons, margins)


class TransferDialog(QDialog):
    """Pick the agent a buyer's session goes to (allowed even to an offline agent, R3.2)."""

    def __init__(self, conversation: str, agents: Sequence[AgentLine], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("transferDialog")
        self.conversation = conversation
        self.setWindowTitle(self.tr("转接：%1").replace("%1", conversation))
        self.agents = QComboBox(self)
        for agent in agents:
            self.agents.addItem(f"{agent.name}  ·  {status_title(agent.status)}  ·  {agent.load}/{agent.cap}", agent.id)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText(self.tr("转接"))
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(self.tr("取消"))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(self.tr("转接给："), self))
        layout.addWidget(self.agents)
        layout.addWidget(buttons)
        # The title bar also holds the icon and the window buttons: room for the whole title.
        self.setMinimumWidth(max(360, self.fontMetrics().horizontalAdvance(self.windowTitle()) + TITLE_BAR_EXTRA))

    def chosen_agent(self) -> str:
        return str(self.agents.currentData())


class SupervisorView(QWidget):
    why_requested = Signal(str)  # conversation
    transfer_requested = Signal(str, str)  # conversation, agent
    refresh_requested = Signal()

    def __init__(self, settings: QSettings, user: str, clock: Callable[[], float],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("supervisorView")
        self._clock = clock
        self.team = TeamData()
        self.tiles = KpiTilesBar(settings, user, key="team_kpi_order", filterable=False, parent=self)
        self.agents = AgentTableModel(self)
        self.queues = QueueTableModel(self)
        self.agent_table = _table(self.agents, self)
        self.queue_table = _table(self.queues, self)
        self.buyer = QLineEdit(self)
        self.buyer.setPlaceholderText(self.tr("买家 ID"))
        self.why_button = QPushButton(self.tr("分配原因"), self)
        self.transfer_button = QPushButton(self.tr("转接…"), self)
        self.why_dialog: WhyDialog | None = None
        self.transfer_dialog: TransferDialog | None = None

        tiles_box = QGroupBox(self.tr("团队接待数据"), self)
        QVBoxLayout(tiles_box).addWidget(self.tiles)
        agents_box = QGroupBox(self.tr("客服"), self)
        QVBoxLayout(agents_box).addWidget(self.agent_table)
        queues_box = QGroupBox(self.tr("排队"), self)
        QVBoxLayout(queues_box).addWidget(self.queue_table)
        buyer_box = QGroupBox(self.tr("会话"), self)
        buyer_layout = QVBoxLayout(buyer_box)
        buyer_layout.addWidget(self.buyer)
        row = QHBoxLayout()
        row.addWidget(self.why_button)
        row.addWidget(self.transfer_button)
        buyer_layout.addLayout(row)
        buyer_layout.addStretch(1)
        bottom = QHBoxLayout()
        bottom.addWidget(queues_box, 2)
        bottom.addWidget(buyer_box, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 12, 12)
        layout.addWidget(tiles_box)
        layout.addWidget(agents_box, 3)
        layout.addLayout(bottom, 2)

        self.tiles.refresh_requested.connect(self.refresh_requested)
        self.why_button.clicked.connect(self._on_why_button_clicked)
        self.transfer_button.clicked.connect(self._on_transfer_button_clicked)
        self.buyer.returnPressed.connect(self._on_why_button_clicked)

    # -- fed by the main window --------------------------------------------------------------------

    def show_team(self, team: TeamData) -> None:
        self.team = team
        self.tiles.show_tiles(team.tiles)
        self.agents.set_rows(team.agents)
        self.queues.set_rows(team.queues)

    def set_conversation(self, conversation: str) -> None:
        self.buyer.setText(conversation)

    def show_decisions(self, conversation: str, decisions: Sequence[DecisionLine]) -> None:
        names = {a.id: a.name for a in self.team.agents}
        if self.why_dialog is not None:
            self.why_dialog.close()
        self.why_dialog = WhyDialog(conversation, decisions, names, self._clock, self)
        self.why_dialog.open()

    def ask_transfer(self, conversation: str) -> None:
        dialog = TransferDialog(conversation, self.team.agents, self)
        dialog.accepted.connect(self._on_transfer_dialog_accepted)
        self.transfer_dialog = dialog
        dialog.open()

    # -- slots ---------------------------------------------------------------------------------------

    def _on_why_button_clicked(self) -> None:
        conversation = self.buyer.text().strip()
        if conversation:
            self.why_requested.emit(conversation)

    def _on_transfer_button_clicked(self) -> None:
        conversation = self.buyer.text().strip()
        if conversation:
            self.ask_transfer(conversation)

    def _on_transfer_dialog_accepted(self) -> None:
        dialog = self.transfer_dialog
        if dialog is not None:
            self.transfer_requested.emit(dialog.conversation, dialog.chosen_agent())

    def current_agent(self) -> str | None:
        index = self.agent_table.currentIndex()
        return self.agents.row(index.row()).id if index.isValid() else None


