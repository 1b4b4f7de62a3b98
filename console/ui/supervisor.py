"""The supervisor's view (客服主管): team tiles, agents, queues, "why" and transfer (CONSOLE.md §3).

The room of issue 14 (CONSOLE.md §7): every queue, agent and conversation is picked from a list,
never typed. Clicking a queue lists its buyers in order, clicking an agent its open
conversations (both re-asked on every team update, so they stay live); the pick list
(``room_picker.py``) opens a conversation read-only with why, transfer and close."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from PySide6.QtCore import QDate, QModelIndex, QSettings, QSortFilterProxyModel, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from console.exports import audit_rows, write_day
from console.protocol.messages import AuditEntry, AuditLog, Conversation, DayCharts, DayReport, QueuedBuyer
from console.ui.audit_view import AuditView
from console.ui.day_view import DayView
from console.ui.kpi_tiles import KpiTilesBar
from console.ui.labels import language, time_label
from console.ui.reasons import event_text, reason_text, target_text
from console.ui.room_models import PickKind, picks_from_conversations, picks_from_queue
from console.ui.room_picker import MonitorDialog, RoomPicker
from console.ui.shifts_view import ShiftsView
from console.ui.state import ConsoleState
from console.ui.status_controls import status_title
from console.ui.team_data import AgentLine, DecisionLine, TeamData
from console.ui.team_models import AgentTableModel, QueueTableModel, SortRole, queue_title
from console.ui.whatif_view import WhatIfView


def _table(model: AgentTableModel | QueueTableModel | QSortFilterProxyModel, parent: QWidget) -> QTableView:
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


POLL_MS = 5000  # the room's audit log, shifts and pictures are at most this old (the server keeps pictures 5 s)
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
    queue_picked = Signal(str)  # pool: list its buyers
    agent_picked = Signal(str)  # agent: list its open conversations
    monitor_requested = Signal(str, str)  # conversation, buyer name: open it read-only
    close_requested = Signal(str)  # conversation
    report_requested = Signal(str)  # the report rows of a day (YYYY-MM-DD), to export
    audit_requested = Signal(object)  # today's audit entries after this id (None: all of them)
    day_charts_requested = Signal()  # today's pictures
    report_written = Signal(list)  # the paths written (str)

    def __init__(self, settings: QSettings, user: str, clock: Callable[[], float],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("supervisorView")
        self._clock = clock
        self.team = TeamData()
        self.tiles = KpiTilesBar(settings, user, key="team_kpi_order", filterable=False, parent=self)
        self.agents = AgentTableModel(self, clock)
        self.agents_sorted = QSortFilterProxyModel(self)
        self.agents_sorted.setSourceModel(self.agents)
        self.agents_sorted.setSortRole(SortRole)
        self.queues = QueueTableModel(self)
        self.agent_table = _table(self.agents_sorted, self)
        self.agents_sorted.setSortLocaleAware(True)  # names by the locale's collation
        header = self.agent_table.horizontalHeader()
        # fourteen columns in the window's width: long titles wrap onto a second line
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignCenter | Qt.AlignmentFlag(Qt.TextFlag.TextWordWrap.value))
        header.setMinimumHeight(2 * header.fontMetrics().height() + 8)
        self.agent_table.setSortingEnabled(True)
        self.agent_table.sortByColumn(1, Qt.SortOrder.AscendingOrder)  # online first, then suspended, offline
        self.queue_table = _table(self.queues, self)
        self.picker = RoomPicker(clock, self)
        self.why_dialog: WhyDialog | None = None
        self.transfer_dialog: TransferDialog | None = None
        self.showing: tuple[PickKind, str] | None = None  # the queue or agent the pick list shows
        self.monitor_dialog: MonitorDialog | None = None
        self.close_box: QMessageBox | None = None  # the 结束会话 confirmation, while open
        self.export_day = QDateEdit(QDate.currentDate(), self)
        self.export_day.setObjectName("exportDay")
        self.export_day.setCalendarPopup(True)
        self.export_day.setDisplayFormat("yyyy-MM-dd")
        self.export_day.setMaximumDate(QDate.currentDate())
        self.export_day.setToolTip(self.tr("导出哪一天（店铺时区）"))
        self.export_day_touched = False  # the supervisor picked a day: a new "today" leaves it alone
        self.export_button = QPushButton(self.tr("导出报表…"), self)
        self.export_button.setObjectName("exportButton")
        self.export_button.setToolTip(self.tr("每个会话一行、每位客服一行，另附审计日志；XLSX 或 CSV"))
        self.export_note = QLabel(self)
        self.report_dialog: QFileDialog | None = None

        tiles_box = QGroupBox(self.tr("团队接待数据"), self)
        tiles_layout = QHBoxLayout(tiles_box)
        tiles_layout.addWidget(self.tiles, 1)
        export_column = QVBoxLayout()
        export_column.addWidget(self.export_note)
        tiles_layout.addLayout(export_column)
        self.export_note.setWordWrap(True)
        self.export_note.setMaximumWidth(self.export_button.sizeHint().width() * 2)
        agents_box = QGroupBox(self.tr("客服"), self)
        QVBoxLayout(agents_box).addWidget(self.agent_table)
        queues_box = QGroupBox(self.tr("排队"), self)
        QVBoxLayout(queues_box).addWidget(self.queue_table)
        bottom = QHBoxLayout()
        bottom.addWidget(queues_box, 2)
        bottom.addWidget(self.picker, 3)
        floor = QWidget(self)  # 现场: what is going on now (the room of the first part of issue 14)
        floor_layout = QVBoxLayout(floor)
        floor_layout.setContentsMargins(0, 0, 0, 0)
        floor_layout.addWidget(agents_box, 3)
        floor_layout.addLayout(bottom, 3)
        self.day_view = DayView(self)
        self.shifts_view = ShiftsView(self)
        self.audit_view = AuditView(self)
        self.whatif_view = WhatIfView(self)
        self.pages = QTabWidget(self)
        self.pages.setObjectName("roomPages")
        self.pages.addTab(floor, self.tr("现场"))
        self.pages.addTab(self.day_view, self.tr("今日图表"))
        self.pages.addTab(self.shifts_view, self.tr("班次"))
        self.pages.addTab(self.audit_view, self.tr("审计日志"))
        self.pages.addTab(self.whatif_view, self.tr("策略推演"))
        export_bar = QWidget(self.pages)  # the day to export and its button, beside the pages' tabs
        export_layout = QHBoxLayout(export_bar)
        export_layout.setContentsMargins(0, 0, 0, 4)
        export_layout.addWidget(self.export_day)
        export_layout.addWidget(self.export_button)
        self.pages.setCornerWidget(export_bar, Qt.Corner.TopRightCorner)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 12, 12)
        layout.addWidget(tiles_box)
        layout.addWidget(self.pages, 1)
        self.audit_day = ""  # the local day the audit entries are of (answers of another day reset them)
        self.audit_zone = ZoneInfo("Asia/Shanghai")
        self.audit_opening: list[AuditEntry] = []
        self.audit_now: float | None = None  # the server's clock at its last answer (shifts end there)
        self.poll = QTimer(self)  # the audit log, shifts and pictures stay live: asked again every few seconds
        self.poll.setInterval(POLL_MS)

        self.tiles.refresh_requested.connect(self.refresh_requested)
        self.picker.timer.timeout.connect(self.agents.tick)  # how long in a status, the longest wait
        self.agent_table.selectionModel().currentRowChanged.connect(self._on_agent_table_current_changed)
        self.agent_table.clicked.connect(self._on_agent_table_current_changed)
        self.queue_table.selectionModel().currentRowChanged.connect(self._on_queue_table_current_changed)
        self.queue_table.clicked.connect(self._on_queue_table_current_changed)
        self.picker.monitor_requested.connect(self.monitor_requested)
        self.picker.why_requested.connect(self.why_requested)
        self.picker.transfer_asked.connect(self.ask_transfer)
        self.picker.close_requested.connect(self.confirm_close)
        self.export_button.clicked.connect(self._on_export_button_clicked)
        self.export_day.userDateChanged.connect(self._on_export_day_user_date_changed)
        self.poll.timeout.connect(self.refresh_room)
        self.pages.currentChanged.connect(self._on_pages_current_changed)

    # -- fed by the main window --------------------------------------------------------------------

    def start_polling(self) -> None:
        """Ask for the audit log (and the pictures when shown) now and every few seconds."""
        self.refresh_room()
        self.poll.start()

    def refresh_room(self) -> None:
        self.audit_requested.emit(self.audit_view.model.last_id() if self.audit_day else None)
        if self.pages.currentWidget() is self.day_view:
            self.day_charts_requested.emit()

    def show_audit(self, log: AuditLog) -> None:
        """New audit entries (all of a new day's, or those after the last one held)."""
        model = self.audit_view.model
        self.audit_now = log.now
        model.add_names(log.buyers, log.groups)  # names, never internal ids (issue 14)
        if log.day != self.audit_day:
            if not self.export_day_touched or self.export_day.date().toString("yyyy-MM-dd") == self.audit_day:
                self._set_export_day(log.day)  # "today" is the shop's (its timezone, the server's clock)
            self.audit_day = log.day
            self.audit_zone = ZoneInfo(log.timezone)
            model.set_zone(self.audit_zone)
            self.audit_opening = list(log.opening)
            model.reset(log.entries)
        else:
            model.append(log.entries)
        self._redraw_shifts()
        if log.more:  # more than one answer holds: the rest right away
            self.audit_requested.emit(model.last_id())

    def show_day_charts(self, day: str, charts: DayCharts) -> None:
        self.day_view.show_charts(day, charts)

    def _redraw_shifts(self) -> None:
        if not self.audit_day:
            return
        day = date.fromisoformat(self.audit_day)
        start = datetime(day.year, day.month, day.day, tzinfo=self.audit_zone)
        end = start + timedelta(days=1)
        agents = [(a.id, a.name) for a in self.team.agents]
        now = self.audit_now if self.audit_now is not None else self._clock()
        self.shifts_view.chart.show_day(agents, start.timestamp(), end.timestamp(), now,
                                        self.audit_opening, self.audit_view.model.entries(), self.audit_zone)

    def show_team(self, team: TeamData) -> None:
        self.team = team
        self.audit_view.model.set_names({a.id: a.name for a in team.agents})
        self._redraw_shifts()
        self.tiles.show_tiles(team.tiles)
        self.agents.set_rows(team.agents)
        self.queues.set_rows(team.queues)
        self._ask_again()  # the pick list is live: asked again on every (coalesced) team update

    def show_queue(self, pool: str, buyers: Sequence[QueuedBuyer]) -> None:
        if self.showing != (PickKind.QUEUE, pool):
            return  # an answer for a list no longer shown
        title = next((q.title for q in self.team.queues if q.name == pool), "")
        heading = self.tr("排队：%1 · %2 人").replace("%1", queue_title(pool, title)).replace("%2", str(len(buyers)))
        self.picker.show_picks(PickKind.QUEUE, pool, heading, picks_from_queue(buyers, self._clock()))

    def show_agent_conversations(self, agent: str, conversations: Sequence[Conversation]) -> None:
        if self.showing != (PickKind.AGENT, agent):
            return
        name = next((a.name for a in self.team.agents if a.id == agent), agent)
        heading = self.tr("客服：%1 · %2 个会话").replace("%1", name).replace("%2", str(len(conversations)))
        self.picker.show_picks(PickKind.AGENT, agent, heading, picks_from_conversations(conversations))

    def set_conversation(self, conversation: str) -> None:
        """The conversation opened elsewhere: selected in the pick list when it is there."""
        self.picker.select(conversation)

    def show_decisions(self, conversation: str, decisions: Sequence[DecisionLine]) -> None:
        names = {a.id: a.name for a in self.team.agents}
        if self.why_dialog is not None:
            self.why_dialog.close()
        self.why_dialog = WhyDialog(self._display_name(conversation), decisions, names, self._clock, self)
        self.why_dialog.open()

    def ask_transfer(self, conversation: str) -> None:
        dialog = TransferDialog(conversation, self.team.agents, self)
        dialog.setWindowTitle(self.tr("转接：%1").replace("%1", self._display_name(conversation)))
        dialog.accepted.connect(self._on_transfer_dialog_accepted)
        self.transfer_dialog = dialog
        dialog.open()

    def open_monitor(self, conversation: str, name: str, state: ConsoleState) -> MonitorDialog:
        """The conversation read-only (its history comes by the open path), with why, transfer, close."""
        if self.monitor_dialog is not None:
            self.monitor_dialog.close()
        dialog = MonitorDialog(conversation, name, state, self._clock, self)
        dialog.why_requested.connect(self.why_requested)
        dialog.transfer_asked.connect(self.ask_transfer)
        dialog.close_requested.connect(self.confirm_close)
        self.monitor_dialog = dialog
        dialog.open()
        return dialog

    def confirm_close(self, conversation: str) -> None:
        """结束会话 from the room asks first: it ends another agent's session."""
        box = QMessageBox(QMessageBox.Icon.Question, self.tr("结束会话"),
                          self.tr("结束与 %1 的会话？买家会收到会话结束的通知。").replace(
                              "%1", self._display_name(conversation)),
                          QMessageBox.StandardButton.Ok | QMessageBox.StandardButton.Cancel, self)
        box.button(QMessageBox.StandardButton.Ok).setText(self.tr("结束会话"))
        box.button(QMessageBox.StandardButton.Cancel).setText(self.tr("取消"))
        box.accepted.connect(lambda: self.close_requested.emit(conversation))
        self.close_box = box
        box.open()

    def save_report(self, report: DayReport) -> None:
        """The day's rows came: ask where to write them, as XLSX or CSV."""
        dialog = QFileDialog(self, self.tr("导出报表"), f"fenliu-{report.day}.xlsx")
        dialog.setObjectName("reportDialog")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setOption(QFileDialog.Option.DontUseNativeDialog)  # the same dialog on every desktop
        dialog.setNameFilters([self.tr("Excel 工作簿 (*.xlsx)"), self.tr("CSV 文件 (*.csv)")])
        dialog.fileSelected.connect(lambda path: self.write_report(
            report, Path(path), "csv" if dialog.selectedNameFilter().endswith("(*.csv)") else "xlsx"))
        dialog.filterSelected.connect(lambda chosen: dialog.setDefaultSuffix("csv" if chosen.endswith("(*.csv)") else "xlsx"))
        dialog.setDefaultSuffix("xlsx")
        self.report_dialog = dialog
        dialog.open()

    def write_report(self, report: DayReport, path: Path, fmt: str) -> list[Path]:
        """Write the rows (``console/exports.py``, the same writer as ``fenliu report``)."""
        try:
            written = write_day(path, fmt, report.conversations, report.agents, ZoneInfo(report.timezone),
                                lang="en" if language() == "en" else "zh_CN",
                                audit=audit_rows(report.audit, report.agent_names, report.buyers))
        except OSError as exc:
            self.export_note.setText(self.tr("无法写入：%1").replace("%1", str(exc)))
            return []
        self.export_note.setText(self.tr("已导出：%1").replace("%1", "，".join(p.name for p in written)))
        self.report_written.emit([str(p) for p in written])
        return written

    # -- slots ---------------------------------------------------------------------------------------

    def _display_name(self, conversation: str) -> str:
        """A buyer's name when the pick list holds it (the id is internal, issue 14)."""
        return next((p.name for p in self.picker.model.picks() if p.id == conversation), conversation)

    def _set_export_day(self, day: str) -> None:
        shown = QDate.fromString(day, "yyyy-MM-dd")
        if shown.isValid():
            self.export_day.setMaximumDate(shown)
            self.export_day.setDate(shown)
            self.export_day_touched = False

    def _on_export_day_user_date_changed(self, _day: QDate) -> None:
        self.export_day_touched = True

    def _on_export_button_clicked(self) -> None:
        day = self.export_day.date().toString("yyyy-MM-dd")
        self.export_note.setText(self.tr("正在读取 %1 的数据…").replace("%1", day))
        self.report_requested.emit(day)

    def _on_pages_current_changed(self, _index: int) -> None:
        if self.pages.currentWidget() is self.day_view:
            self.day_charts_requested.emit()  # at once, not at the next poll
        elif self.pages.currentWidget() is self.whatif_view and not self.whatif_view.editor.toPlainText():
            self.whatif_view.policy_requested.emit()  # the editor starts from the policy in force

    def _ask_again(self) -> None:
        if self.showing is None:
            return
        kind, source = self.showing
        (self.queue_picked if kind is PickKind.QUEUE else self.agent_picked).emit(source)

    def _on_agent_table_current_changed(self, index: QModelIndex) -> None:
        if index.isValid():
            agent = self.agents.row(self.agents_sorted.mapToSource(index).row()).id
            if self.showing != (PickKind.AGENT, agent):
                self.showing = (PickKind.AGENT, agent)
                self.agent_picked.emit(agent)

    def _on_queue_table_current_changed(self, index: QModelIndex) -> None:
        if index.isValid():
            pool = self.queues.row(index.row()).name
            if self.showing != (PickKind.QUEUE, pool):
                self.showing = (PickKind.QUEUE, pool)
                self.queue_picked.emit(pool)

    def _on_transfer_dialog_accepted(self) -> None:
        dialog = self.transfer_dialog
        if dialog is not None:
            self.transfer_requested.emit(dialog.conversation, dialog.chosen_agent())

    def current_agent(self) -> str | None:
        index = self.agent_table.currentIndex()
        return self.agents.row(self.agents_sorted.mapToSource(index).row()).id if index.isValid() else None
