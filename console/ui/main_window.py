"""The agent's main window. Every signal of the console is connected in ``_connect_signals``."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from PySide6.QtCore import QPoint, QSettings, Qt
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMenu,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from console.reception.model import Conversation, Section
from console.ui.alerts import Alerter
from console.ui.backend import Backend, ConsoleState
from console.ui.conversation_pane import ConversationPane
from console.ui.filter_bar import FilterBar
from console.ui.icons import app_icon
from console.ui.kpi_tiles import KpiTilesBar
from console.ui.reception_delegate import ReceptionDelegate
from console.ui.reception_model import ReceptionModel
from console.ui.reception_view import ReceptionView
from console.ui.search_dialog import SearchDialog
from console.ui.search_model import SearchSource
from console.ui.status_controls import StatusControls
from console.ui.supervisor import SupervisorView
from console.ui.team_data import DecisionLine, TeamData

SUPERVISOR_ROLES = frozenset({"supervisor", "main"})


class MainWindow(QMainWindow):
    def __init__(self, state: ConsoleState, backend: Backend, settings: QSettings, clock: Callable[[], float],
                 parent: QWidget | None = None, *, search: SearchSource | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.setWindowIcon(app_icon())
        self.state = state
        self.backend = backend
        self.settings = settings
        self.clock = clock
        self._pending: set[str] = set()  # pending conversations seen, to alert on new ones only

        grouped = bool(settings.value(f"{state.agent}/grouped", True, bool))
        self.model = ReceptionModel(self, grouped=grouped)
        self.delegate = ReceptionDelegate(clock, self)
        self.reception = ReceptionView(self.model, self.delegate, self)
        self.filter_bar = FilterBar(self)
        self.pane = ConversationPane(state, clock, self)
        self.controls = StatusControls(state.waiting_count, self)
        self.tiles = KpiTilesBar(settings, state.agent, parent=self)
        self.alerter = Alerter(self, settings, app_icon(), self)
        self.supervisor: SupervisorView | None = None
        self.search_source = search
        self.search_dialog: SearchDialog | None = None  # made on first Ctrl+F, then kept
        self.tabs: QTabWidget | None = None
        if state.role in SUPERVISOR_ROLES:
            self.supervisor = SupervisorView(settings, state.agent, clock, self)

        self._build_layout()
        self._build_menus(grouped)
        self._connect_signals()
        self._update_title()

    # -- building ------------------------------------------------------------------------------------

    def _build_layout(self) -> None:
        top = QFrame(self)
        top.setObjectName("topBar")
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(12, 8, 12, 8)
        top_layout.setSpacing(8)
        first = QHBoxLayout()
        self.agent_label = QLabel(self.state.agent_name, top)
        self.agent_label.setObjectName("agentName")
        first.addWidget(self.agent_label)
        first.addSpacing(12)
        first.addWidget(self.controls)
        first.addStretch(1)
        top_layout.addLayout(first)
        top_layout.addWidget(self.tiles)

        left = QWidget(self)
        left.setObjectName("receptionPanel")
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.setSpacing(0)
        left_layout.addWidget(self.filter_bar)
        left_layout.addWidget(self.reception, 1)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(left)
        splitter.addWidget(self.pane)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([340, 800])
        left.setMinimumWidth(280)

        body: QWidget = splitter
        if self.supervisor is not None:
            self.tabs = QTabWidget(self)
            self.tabs.addTab(splitter, self.tr("接待"))
            self.tabs.addTab(self.supervisor, self.tr("团队"))
            body = self.tabs
        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(top)
        layout.addWidget(body, 1)
        self.setCentralWidget(central)
        self.resize(1280, 800)

    def _build_menus(self, grouped: bool) -> None:
        view = self.menuBar().addMenu(self.tr("视图"))
        self.grouping_action = QAction(self.tr("接待列表分组"), self, checkable=True, checked=grouped)
        self.grouping_action.setShortcut("Ctrl+G")
        self.first_pending_action = QAction(self.tr("跳到等待最久的买家"), self)
        self.first_pending_action.setShortcut("Ctrl+Up")
        self.first_pending_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)  # the view owns the key
        self.search_action = QAction(self.tr("搜索会话…"), self)
        self.search_action.setShortcut("Ctrl+F")
        self.search_action.setEnabled(self.search_source is not None)
        view.addAction(self.grouping_action)
        view.addAction(self.first_pending_action)
        view.addAction(self.search_action)

        alerts = self.menuBar().addMenu(self.tr("提醒"))
        self.sound_action = QAction(self.tr("新买家声音提醒"), self, checkable=True, checked=self.alerter.sound)
        self.taskbar_action = QAction(self.tr("新买家任务栏提醒"), self, checkable=True, checked=self.alerter.taskbar)
        alerts.addAction(self.sound_action)
        alerts.addAction(self.taskbar_action)

        language = self.menuBar().addMenu(self.tr("语言"))
        self.language_actions = QActionGroup(self)
        current = str(self.settings.value("language", ""))
        for code, title in (("zh_CN", "中文"), ("en", "English")):
            action = QAction(title, self, checkable=True, checked=(current or "zh_CN") == code)
            action.setData(code)
            self.language_actions.addAction(action)
            language.addAction(action)

    def _connect_signals(self) -> None:
        state = self.state
        state.snapshot_loaded.connect(self._on_state_snapshot_loaded)
        state.conversation_updated.connect(self._on_state_conversation_updated)
        state.conversation_removed.connect(self._on_state_conversation_removed)
        state.message_added.connect(self.pane.add_message)
        state.history_loaded.connect(self.pane.reload_history)
        state.status_changed.connect(self.controls.show_status)
        state.status_changed.connect(self._on_state_status_changed)
        state.kpis_updated.connect(self.tiles.show_tiles)
        state.connection_changed.connect(self.controls.show_connection)
        state.filter_loaded.connect(self.model.set_filter)
        state.error_reported.connect(self._on_state_error_reported)

        self.model.filter_changed.connect(self.filter_bar.show_filter)
        self.filter_bar.cleared.connect(self.model.clear_filter)
        self.reception.conversation_opened.connect(self._on_reception_conversation_opened)
        self.reception.section_clear_requested.connect(self._on_reception_section_clear_requested)
        self.reception.conversation_menu_requested.connect(self._on_reception_conversation_menu_requested)
        self.first_pending_action.triggered.connect(self.reception.jump_to_first_pending)
        self.search_action.triggered.connect(self._on_search_action_triggered)

        self.pane.reply_submitted.connect(self._on_pane_reply_submitted)
        self.pane.close_requested.connect(self.backend.close)
        self.pane.claim_requested.connect(self.backend.claim)
        self.controls.status_requested.connect(self.backend.set_status)
        self.tiles.filter_requested.connect(self.backend.filter_buyers)
        self.tiles.refresh_requested.connect(self.backend.request_kpis)

        self.grouping_action.toggled.connect(self._on_grouping_action_toggled)
        self.sound_action.toggled.connect(self._on_sound_action_toggled)
        self.taskbar_action.toggled.connect(self._on_taskbar_action_toggled)
        self.language_actions.triggered.connect(self._on_language_actions_triggered)

        if self.supervisor is not None:
            state.team_updated.connect(self._on_state_team_updated)
            state.decisions_loaded.connect(self._on_state_decisions_loaded)
            self.supervisor.why_requested.connect(self.backend.why)
            self.supervisor.transfer_requested.connect(self.backend.transfer)
            self.supervisor.refresh_requested.connect(self.backend.get_team)

    # -- state ---------------------------------------------------------------------------------------

    def _on_state_snapshot_loaded(self) -> None:
        conversations = self.state.conversations.values()
        self.model.load(conversations)
        self._pending = {c.id for c in conversations if c.section == Section.PENDING}
        if self.pane.conversation is not None:
            current = self.state.conversations.get(self.pane.conversation.id)
            if current is None:
                self.pane.clear()
            else:
                self.pane.update_conversation(current)
        self._update_title()

    def _on_state_conversation_updated(self, conversation: Conversation) -> None:
        self.model.queue_update(conversation)
        self.pane.update_conversation(conversation)
        if conversation.section == Section.PENDING and not conversation.cleared:
            if conversation.id not in self._pending:
                self._pending.add(conversation.id)
                self.alerter.new_buyer(conversation)
        else:
            self._pending.discard(conversation.id)
        self._update_title()

    def _on_state_conversation_removed(self, conversation: str) -> None:
        self.model.queue_remove(conversation)
        self._pending.discard(conversation)
        if self.pane.conversation is not None and self.pane.conversation.id == conversation:
            self.pane.clear()
        self._update_title()

    def _on_state_status_changed(self, status: str, load: int, cap: int) -> None:
        self._update_title()

    def _on_state_team_updated(self, team: TeamData) -> None:
        if self.supervisor is not None:
            self.supervisor.show_team(team)

    def _on_state_decisions_loaded(self, conversation: str, decisions: list[DecisionLine]) -> None:
        if self.supervisor is not None:
            self.supervisor.show_decisions(conversation, decisions)

    def _on_state_error_reported(self, text: str) -> None:
        self.statusBar().showMessage(text, 8000)

    # -- user actions --------------------------------------------------------------------------------

    def _on_reception_conversation_opened(self, conversation: str) -> None:
        current = self.state.conversations.get(conversation)
        if current is None:
            return
        self.pane.show_conversation(current)
        if self.supervisor is not None:
            self.supervisor.set_conversation(conversation)
        self.backend.open_conversation(conversation)

    def _on_reception_section_clear_requested(self, section: Section) -> None:
        self.state.mark_section_cleared(section)  # optimistic; the server confirms
        self.backend.clear_section(section)

    def _on_reception_conversation_menu_requested(self, conversation: str, at: QPoint) -> None:
        menu = QMenu(self)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.addAction(self.tr("结束会话"), lambda: self.backend.close(conversation))
        if self.supervisor is not None:
            supervisor = self.supervisor
            menu.addAction(self.tr("分配原因"), lambda: self.backend.why(conversation))
            menu.addAction(self.tr("转接…"), lambda: supervisor.ask_transfer(conversation))
        menu.popup(at)

    def _on_pane_reply_submitted(self, conversation: str, text: str) -> None:
        client_id = uuid.uuid4().hex
        self.state.add_local_reply(conversation, text, client_id, self.clock())  # the row moves at once
        self.backend.reply(conversation, text, client_id)

    def _on_search_action_triggered(self) -> None:
        if self.search_source is None:
            return
        if self.search_dialog is None:  # issue 13: its replies take the pane's path, opens the list's
            self.search_dialog = SearchDialog(self.state, self.search_source, self.clock, self)
            self.search_dialog.reply_submitted.connect(self._on_pane_reply_submitted)
            self.search_dialog.conversation_opened.connect(self._on_reception_conversation_opened)
        self.search_dialog.show()
        self.search_dialog.raise_()
        self.search_dialog.activateWindow()
        self.search_dialog.query.setFocus()
        self.search_dialog.query.selectAll()

    def _on_grouping_action_toggled(self, grouped: bool) -> None:
        self.model.set_grouped(grouped)
        self.settings.setValue(f"{self.state.agent}/grouped", grouped)

    def _on_sound_action_toggled(self, on: bool) -> None:
        self.alerter.sound = on

    def _on_taskbar_action_toggled(self, on: bool) -> None:
        self.alerter.taskbar = on

    def _on_language_actions_triggered(self, action: QAction) -> None:
        self.settings.setValue("language", action.data())
        self.statusBar().showMessage(self.tr("语言将在重新启动后切换"), 8000)

    # -- window ----------------------------------------------------------------------------------------

    def _update_title(self) -> None:
        unread = self.state.unread_total()
        title = self.tr("分流接待台 · %1").replace("%1", self.state.agent_name)
        self.setWindowTitle(f"({unread}) {title}" if unread else title)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.model.flush()
        self.settings.sync()
        super().closeEvent(event)
