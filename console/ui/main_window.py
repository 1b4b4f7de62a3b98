"""The agent's main window. Every signal of the console is connected in ``_connect_signals``."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable

from PySide6.QtCore import QPoint, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from console.protocol.messages import BuyerPanel, SessionInfo
from console.reception.model import Conversation, ImageRef, Message, Section
from console.ui import reminder
from console.ui.alerts import Alerter, AlertKind
from console.ui.buyer_panel import BuyerPanelView, SessionDialog
from console.ui.conversation_pane import ConversationPane
from console.ui.filter_bar import FilterBar
from console.ui.icons import app_icon
from console.ui.kpi_tiles import KpiTilesBar
from console.ui.phrase_book import PhraseBook
from console.ui.phrase_manager import PhraseManager
from console.ui.reception_delegate import ReceptionDelegate
from console.ui.reception_model import ReceptionModel
from console.ui.reception_view import ReceptionView
from console.ui.reminder import SlowReplyReminder
from console.ui.search_dialog import SearchDialog
from console.ui.search_model import SearchSource
from console.ui.state import Backend, ConsoleState
from console.ui.status_controls import SEVERAL_SHOPS_STATUS_KEYS, STATUS_KEYS, StatusControls
from console.ui.supervisor import SupervisorView
from console.ui.team_data import DecisionLine, TeamData
from console.ui.thumbnails import Thumbnails, image_size
from console.ui.transfer_dialog import AgentTransferDialog
from console.ui.transfer_targets import TransferTarget

SUPERVISOR_ROLES = frozenset({"supervisor", "main"})
FIRST_PENDING_KEYS = "Ctrl+Up"  # CONSOLE.md §1
TRANSFER_KEYS = "Ctrl+T"  # 转接… the open conversation (issue 12)
TICK_MS = 1000  # the reply timers count in seconds


class MainWindow(QMainWindow):
    status_for_all_requested = Signal(str)  # 全部店铺 chosen in the status control (issue 15)

    def __init__(self, state: ConsoleState, backend: Backend, settings: QSettings, clock: Callable[[], float],
                 parent: QWidget | None = None, *, search: SearchSource | None = None,
                 phrases: PhraseBook | None = None, several_shops: bool = False) -> None:
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.setWindowIcon(app_icon())
        self.state = state
        self.backend = backend
        self.settings = settings
        self.clock = clock
        # Pending conversations seen, with the time of their latest message: a new one alerts as a
        # new buyer, a later message on one as a new message.
        self._pending: dict[str, float] = {}
        self.reminder = SlowReplyReminder(settings)
        self.tick = QTimer(self)  # the reply timers: one tick a second for the list and the reminder
        self.tick.setInterval(TICK_MS)

        grouped = bool(settings.value(f"{state.agent}/grouped", True, bool))
        # The list reads the conversations where the state keeps them: one copy in the console.
        self.model = ReceptionModel(self, grouped=grouped, source=lambda: state.conversations)
        self.delegate = ReceptionDelegate(clock, self)
        self.reception = ReceptionView(self.model, self.delegate, self)
        self.filter_bar = FilterBar(self)
        self.phrases = phrases  # quick replies (快捷短语): the reply box's "/" and Ctrl+1..9, the manager
        self.phrase_manager: PhraseManager | None = None  # made on first use, then kept
        self.thumbnails = Thumbnails(state, backend.fetch_image, self)  # images in the conversation (issue 13)
        self.pane = ConversationPane(state, clock, self, phrases=phrases, thumbnails=self.thumbnails)
        if several_shops:
            self.pane.use_alt_for_pinned()
        self.buyer_panel = BuyerPanelView(self._agent_names, self)
        self.session_dialog: SessionDialog | None = None  # the past session shown read-only, while open
        # Signed into several shops, Ctrl+1..9 switch shops (the shops window's): the statuses take
        # Ctrl+Alt+1/2/3 and the pinned phrases Alt+1..9 (issue 15, README "Keys").
        self.several_shops = several_shops
        self.controls = StatusControls(state.waiting_count, self,
                                       keys=SEVERAL_SHOPS_STATUS_KEYS if several_shops else STATUS_KEYS)
        self.tiles = KpiTilesBar(settings, state.agent, parent=self)
        self.alerter = Alerter(self, settings, app_icon(), self)
        self.supervisor: SupervisorView | None = None
        self.close_dialog: QMessageBox | None = None  # the 结束会话 confirmation, while open
        self.transfer_dialog: AgentTransferDialog | None = None  # the agent's 转接… dialog, while open
        self._why_asked: set[str] = set()  # conversations whose "why" dialog the supervisor asked for
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
        splitter.addWidget(self.buyer_panel)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setStretchFactor(2, 0)
        splitter.setSizes([340, 640, 300])
        splitter.setCollapsible(2, True)
        self.buyer_panel.setVisible(bool(self.settings.value(f"{self.state.agent}/buyer_panel", True, bool)))
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
        # The keyboard route: the list, the reply box, 发送; Shift+Tab from the box back to the list.
        QWidget.setTabOrder(self.reception, self.pane.input)
        QWidget.setTabOrder(self.pane.input, self.pane.send_button)
        self.resize(1280, 800)

    def _build_menus(self, grouped: bool) -> None:
        view = self.menuBar().addMenu(self.tr("视图"))
        self.grouping_action = QAction(self.tr("接待列表分组"), self, checkable=True, checked=grouped)
        self.grouping_action.setShortcut("Ctrl+G")
        self.first_pending_action = QAction(self.tr("跳到等待最久的买家"), self)
        # The one owner of Ctrl+Up (issue 12, defect 1): on the window, so it works from any widget
        # of it and when none has the focus; the menu only shows it.
        self.first_pending_action.setShortcut(FIRST_PENDING_KEYS)
        self.first_pending_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.addAction(self.first_pending_action)
        self.search_action = QAction(self.tr("搜索会话…"), self)
        self.search_action.setShortcut("Ctrl+F")
        self.search_action.setEnabled(self.search_source is not None)
        self.buyer_panel_action = QAction(self.tr("买家信息面板"), self, checkable=True,
                                          checked=self.buyer_panel.isVisibleTo(self))
        self.buyer_panel_action.setShortcut("Ctrl+Shift+I")
        self.addAction(self.buyer_panel_action)
        view.addAction(self.grouping_action)
        view.addAction(self.buyer_panel_action)
        view.addAction(self.first_pending_action)
        view.addAction(self.search_action)

        phrases = self.menuBar().addMenu(self.tr("快捷短语"))
        self.phrases_action = QAction(self.tr("管理快捷短语…"), self)
        self.phrases_action.setEnabled(self.phrases is not None)
        phrases.addAction(self.phrases_action)

        alerts = self.menuBar().addMenu(self.tr("提醒"))
        self.mute_action = QAction(self.tr("静音"), self, checkable=True, checked=self.alerter.muted)
        self.mute_action.setShortcut("Ctrl+Shift+M")
        self.addAction(self.mute_action)
        self.sound_action = QAction(self.tr("新买家声音提醒"), self, checkable=True, checked=self.alerter.sound)
        self.message_sound_action = QAction(self.tr("新消息声音提醒"), self, checkable=True,
                                            checked=self.alerter.sound_on(AlertKind.NEW_MESSAGE))
        self.reminder_sound_action = QAction(self.tr("慢回复提醒声音"), self, checkable=True,
                                             checked=self.alerter.sound_on(AlertKind.REMINDER))
        self.taskbar_action = QAction(self.tr("窗口不在前台时：托盘通知和任务栏闪烁"), self, checkable=True,
                                      checked=self.alerter.taskbar)
        alerts.addAction(self.mute_action)
        alerts.addSeparator()
        alerts.addAction(self.sound_action)
        alerts.addAction(self.message_sound_action)
        alerts.addAction(self.reminder_sound_action)
        alerts.addAction(self.taskbar_action)
        reminder_menu = alerts.addMenu(self.tr("慢回复提醒"))
        self.reminder_actions = QActionGroup(self)
        current_reminder = self.reminder.seconds
        for seconds in reminder.CHOICES:
            title = self.tr("关闭") if seconds == 0 else self.tr("等待 %1 秒时").replace("%1", str(seconds))
            action = QAction(title, self, checkable=True, checked=seconds == current_reminder)
            action.setData(seconds)
            self.reminder_actions.addAction(action)
            reminder_menu.addAction(action)

        session = self.menuBar().addMenu(self.tr("会话"))
        self.transfer_action = QAction(self.tr("转接…"), self)
        self.transfer_action.setShortcut(TRANSFER_KEYS)
        self.transfer_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.addAction(self.transfer_action)
        session.addAction(self.transfer_action)

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
        state.connection_changed.connect(lambda connection: self.controls.show_connection(connection, state.served_at))
        state.filter_loaded.connect(self.model.set_filter)
        state.error_reported.connect(self._on_state_error_reported)
        state.decisions_loaded.connect(self._on_state_decisions_loaded)
        state.panel_loaded.connect(self._on_state_panel_loaded)
        state.session_loaded.connect(self._on_state_session_loaded)
        self.buyer_panel.note_added.connect(self.backend.add_note)
        self.buyer_panel.note_removed.connect(self.backend.remove_note)
        self.buyer_panel.tag_added.connect(self.backend.add_tag)
        self.buyer_panel.tag_removed.connect(self.backend.remove_tag)
        self.buyer_panel.session_requested.connect(self.backend.get_session)
        self.buyer_panel.card_requested.connect(self.backend.send_card)  # 发送订单 / 催付 (issue 13)
        self.pane.card_requested.connect(self.backend.send_card)  # a product from the picker
        self.pane.product_picker.search_requested.connect(self.backend.search_catalog)
        state.catalog_loaded.connect(self.pane.product_picker.show_products)
        self.buyer_panel_action.toggled.connect(self._on_buyer_panel_action_toggled)

        self.model.filter_changed.connect(self.filter_bar.show_filter)
        self.filter_bar.cleared.connect(self.model.clear_filter)
        self.reception.conversation_opened.connect(self._on_reception_conversation_opened)
        self.reception.section_clear_requested.connect(self._on_reception_section_clear_requested)
        self.reception.conversation_menu_requested.connect(self._on_reception_conversation_menu_requested)
        self.first_pending_action.triggered.connect(self.reception.jump_to_first_pending)
        self.search_action.triggered.connect(self._on_search_action_triggered)
        self.phrases_action.triggered.connect(self._on_phrases_action_triggered)
        self.pane.phrase_failed.connect(self._on_state_error_reported)
        if self.phrases is not None:
            self.phrases.failed.connect(self._on_state_error_reported)
        self.transfer_action.triggered.connect(self._on_transfer_action_triggered)
        state.colleagues_loaded.connect(self._on_state_colleagues_loaded)

        self.pane.reply_submitted.connect(self._on_pane_reply_submitted)
        self.pane.image_submitted.connect(self._on_pane_image_submitted)
        self.pane.image_retry_requested.connect(self._on_pane_image_retry_requested)
        self.pane.image_refused.connect(self._on_state_error_reported)
        self.pane.close_requested.connect(self.ask_close)
        self.pane.claim_requested.connect(self.backend.claim)
        self.controls.status_requested.connect(self.backend.set_status)
        self.controls.status_for_all_requested.connect(self.status_for_all_requested)
        self.tiles.filter_requested.connect(self.backend.filter_buyers)
        self.tiles.refresh_requested.connect(self.backend.request_kpis)

        self.grouping_action.toggled.connect(self._on_grouping_action_toggled)
        self.sound_action.toggled.connect(self._on_sound_action_toggled)
        self.mute_action.toggled.connect(self._on_mute_action_toggled)
        self.message_sound_action.toggled.connect(self._on_message_sound_action_toggled)
        self.reminder_sound_action.toggled.connect(self._on_reminder_sound_action_toggled)
        self.taskbar_action.toggled.connect(self._on_taskbar_action_toggled)
        self.language_actions.triggered.connect(self._on_language_actions_triggered)
        self.reminder_actions.triggered.connect(self._on_reminder_actions_triggered)
        self.tick.timeout.connect(self._on_tick_timeout)
        self.tick.start()

        if self.supervisor is not None:
            state.team_updated.connect(self._on_state_team_updated)
            self.supervisor.why_requested.connect(self.ask_why)
            self.supervisor.transfer_requested.connect(self.backend.transfer)
            self.supervisor.refresh_requested.connect(self.backend.get_team)
            # the room (issue 14): pick lists, the read-only monitor, close from the room
            state.queue_loaded.connect(self.supervisor.show_queue)
            state.agent_conversations_loaded.connect(self.supervisor.show_agent_conversations)
            self.supervisor.queue_picked.connect(self.backend.queue_buyers)
            self.supervisor.agent_picked.connect(self.backend.agent_conversations)
            self.supervisor.monitor_requested.connect(self._on_supervisor_monitor_requested)
            self.supervisor.close_requested.connect(self.backend.close)
            self.supervisor.report_requested.connect(self.backend.day_report)
            state.report_loaded.connect(self.supervisor.save_report)
            # the rest of the room (issue 14): the audit log and shifts, the day in pictures
            self.supervisor.audit_requested.connect(self.backend.audit)
            self.supervisor.day_charts_requested.connect(self.backend.day_charts)
            state.audit_loaded.connect(self.supervisor.show_audit)
            state.day_charts_loaded.connect(self.supervisor.show_day_charts)
            whatif = self.supervisor.whatif_view  # what-if: edit, try on today's traffic, apply (confirmed)
            whatif.policy_requested.connect(self.backend.get_policy)
            whatif.run_requested.connect(self.backend.whatif_start)
            whatif.cancel_requested.connect(self.backend.whatif_cancel)
            whatif.apply_requested.connect(self.backend.apply_policy)
            state.policy_loaded.connect(whatif.show_policy)
            state.whatif_started.connect(whatif.started)
            state.whatif_refused.connect(whatif.refused)
            state.whatif_updated.connect(whatif.show_update)
            state.policy_applied.connect(whatif.applied)
            self.supervisor.start_polling()

    # -- state ---------------------------------------------------------------------------------------

    def _on_state_snapshot_loaded(self) -> None:
        conversations = self.state.conversations.values()
        self.model.load()
        self._pending = {c.id: c.last_at for c in conversations if c.section == Section.PENDING}
        if self.pane.conversation is not None:
            current = self.state.conversations.get(self.pane.conversation.id)
            if current is None:
                self.pane.clear()
                self.buyer_panel.show_panel(None)
            else:
                self.pane.update_conversation(current)
        self._update_title()

    def _on_state_conversation_updated(self, conversation: Conversation) -> None:
        self.model.queue_update(conversation)
        self.pane.update_conversation(conversation)
        if conversation.section == Section.PENDING and not conversation.cleared:
            seen = self._pending.get(conversation.id)
            self._pending[conversation.id] = conversation.last_at
            mine = conversation.holder == f"agent:{self.state.agent}"
            if seen is None:
                self.alerter.new_buyer(conversation)
            elif conversation.last_at > seen and conversation.unread and mine:
                self.alerter.new_message(conversation)
        else:
            self._pending.pop(conversation.id, None)
            self.reminder.forget(conversation.id)
        self._update_title()

    def _on_state_conversation_removed(self, conversation: str) -> None:
        self.model.queue_remove(conversation)
        self._pending.pop(conversation, None)
        self.reminder.forget(conversation)
        if self.pane.conversation is not None and self.pane.conversation.id == conversation:
            self.pane.clear()
            self.buyer_panel.show_panel(None)
        self._update_title()

    def _on_state_status_changed(self, status: str, load: int, cap: int) -> None:
        self._update_title()

    def _on_state_team_updated(self, team: TeamData) -> None:
        if self.supervisor is not None:
            self.supervisor.show_team(team)

    def _on_state_decisions_loaded(self, conversation: str, decisions: list[DecisionLine]) -> None:
        if self.supervisor is not None and conversation in self._why_asked:
            self._why_asked.discard(conversation)
            self.supervisor.show_decisions(conversation, decisions)

    def ask_why(self, conversation: str) -> None:
        """The supervisor's "why" dialog (every decision about the buyer)."""
        self._why_asked.add(conversation)
        self.backend.why(conversation)

    def _on_supervisor_monitor_requested(self, conversation: str, name: str) -> None:
        if self.supervisor is not None:
            self.supervisor.open_monitor(conversation, name, self.state)
            self.backend.monitor(conversation)

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
        if self.buyer_panel.conversation != conversation:
            self.buyer_panel.show_panel(None)
        self.backend.open_conversation(conversation)
        self.backend.get_panel(conversation)  # the buyer panel, and why this buyer came to me

    # -- the buyer panel -----------------------------------------------------------------------------

    def _agent_names(self) -> dict[str, str]:
        names = {a.id: a.name for a in self.state.team.agents}
        names[self.state.agent] = self.state.agent_name
        return names

    def _on_state_panel_loaded(self, panel: BuyerPanel) -> None:
        """The panel asked for on opening, or pushed when it changed: shown if it is the open buyer's."""
        if self.pane.conversation is None or self.pane.conversation.id != panel.conversation:
            return
        self.buyer_panel.show_panel(panel)
        self.pane.show_reason(panel.conversation, panel.why)

    def _on_state_session_loaded(self, conversation: str, session: SessionInfo, messages: list[Message]) -> None:
        current = self.state.conversations.get(conversation)
        if self.session_dialog is not None:  # one past session at a time
            self.session_dialog.close()
            self.session_dialog.deleteLater()
        self.session_dialog = SessionDialog(current.name if current is not None else conversation, session, messages,
                                            self.clock, self._agent_names(), self)
        self.session_dialog.show()

    def _on_buyer_panel_action_toggled(self, shown: bool) -> None:
        self.buyer_panel.setVisible(shown)
        self.settings.setValue(f"{self.state.agent}/buyer_panel", shown)

    def _on_reception_section_clear_requested(self, section: Section) -> None:
        self.state.mark_section_cleared(section)  # optimistic; the server confirms
        self.backend.clear_section(section)

    def _on_reception_conversation_menu_requested(self, conversation: str, at: QPoint) -> None:
        menu = QMenu(self)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.addAction(self.tr("结束会话"), lambda: self.ask_close(conversation))
        if self.may_transfer(conversation):
            menu.addAction(self.tr("转接…"), lambda: self.ask_transfer(conversation))
        if self.supervisor is not None:
            menu.addAction(self.tr("分配原因"), lambda: self.ask_why(conversation))
        menu.popup(at)

    def may_transfer(self, conversation: str) -> bool:
        """The holder transfers its own open sessions; a supervisor any open one (R3.5)."""
        current = self.state.conversations.get(conversation)
        if current is None or not current.open or current.holder is None:
            return False
        return self.supervisor is not None or current.holder == f"agent:{self.state.agent}"

    def ask_transfer(self, conversation: str) -> None:
        """转接…: the dialog asks the server whom it can go to, then sends the choice and the note."""
        if not self.may_transfer(conversation):
            self.statusBar().showMessage(self.tr("只能转接您正在接待的会话"), 8000)
            return
        if self.transfer_dialog is not None:
            self.transfer_dialog.close()
        current = self.state.conversations[conversation]
        dialog = AgentTransferDialog(conversation, current.name or conversation, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.transfer_requested.connect(self._on_transfer_dialog_transfer_requested)
        dialog.finished.connect(self._on_transfer_dialog_finished)
        self.transfer_dialog = dialog
        dialog.open()
        self.backend.get_colleagues()

    def _on_transfer_action_triggered(self) -> None:
        if self.pane.conversation is not None:
            self.ask_transfer(self.pane.conversation.id)

    def _on_state_colleagues_loaded(self, targets: list[TransferTarget]) -> None:
        if self.transfer_dialog is not None:
            self.transfer_dialog.show_targets(targets)

    def _on_transfer_dialog_transfer_requested(self, conversation: str, agent: str, group: str, note: str) -> None:
        self.backend.transfer(conversation, agent or None, group or None, note)

    def _on_transfer_dialog_finished(self) -> None:
        self.transfer_dialog = None

    def ask_close(self, conversation: str) -> None:
        """结束会话 asks first (issue 12, defect 2); the reply box is locked once confirmed."""
        current = self.state.conversations.get(conversation)
        name = current.name if current is not None else conversation
        dialog = QMessageBox(QMessageBox.Icon.Question, self.tr("结束会话"),
                             self.tr("结束与 %1 的会话吗？结束后不能再回复，买家再次来信时会重新分配。")
                             .replace("%1", name),
                             QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, self)
        dialog.button(QMessageBox.StandardButton.Yes).setText(self.tr("结束会话"))
        dialog.button(QMessageBox.StandardButton.Cancel).setText(self.tr("取消"))
        dialog.setDefaultButton(QMessageBox.StandardButton.Cancel)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.finished.connect(lambda result: self._on_close_dialog_finished(conversation, result))
        self.close_dialog = dialog
        dialog.open()  # not exec(): no nested event loop under qasync

    def _on_close_dialog_finished(self, conversation: str, result: int) -> None:
        dialog, self.close_dialog = self.close_dialog, None
        if dialog is not None:
            dialog.deleteLater()
        if result != QMessageBox.StandardButton.Yes:
            return
        if self.pane.conversation is not None and self.pane.conversation.id == conversation:
            self.pane.lock_input()
        self.backend.close(conversation)

    def _on_pane_reply_submitted(self, conversation: str, text: str) -> None:
        client_id = uuid.uuid4().hex
        self.state.add_local_reply(conversation, text, client_id, self.clock())  # the row moves at once
        self.backend.reply(conversation, text, client_id)

    def _on_pane_image_submitted(self, conversation: str, data: bytes) -> None:
        """Issue 13: shown at once from its own bytes, sent, kept until the server confirms it."""
        found = image_size(data)  # the header only: the bubble's proportions
        if found is None:
            self._on_state_error_reported(self.tr("不是可发送的图片（支持 PNG、JPEG、GIF、WebP）"))
            return
        fmt, width, height = found
        local = ImageRef(sha256=hashlib.sha256(data).hexdigest(), mime=f"image/{fmt}", width=width, height=height,
                         size=len(data))
        client_id = uuid.uuid4().hex
        self.state.add_local_image(conversation, data, local, client_id, self.clock())
        self.backend.send_image(conversation, data, client_id)

    def _on_pane_image_retry_requested(self, client_id: str) -> None:
        again = self.state.retry_image(client_id)
        if again is not None:
            self.backend.send_image(again[0], again[1], client_id)

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

    def _on_phrases_action_triggered(self) -> None:
        if self.phrases is None:
            return
        if self.phrase_manager is None:
            # signed into several shops, Ctrl+1..9 switch shops: the pinned phrases are on Alt (issue 15)
            self.phrase_manager = PhraseManager(self.phrases, self, pinned_key="Alt" if self.several_shops else "Ctrl")
        self.phrase_manager.show()
        self.phrase_manager.raise_()
        self.phrase_manager.activateWindow()

    def _on_grouping_action_toggled(self, grouped: bool) -> None:
        self.model.set_grouped(grouped)
        self.settings.setValue(f"{self.state.agent}/grouped", grouped)

    def _on_sound_action_toggled(self, on: bool) -> None:
        self.alerter.sound = on

    def _on_mute_action_toggled(self, on: bool) -> None:
        self.alerter.muted = on
        self.statusBar().showMessage(self.tr("提醒已静音") if on else self.tr("提醒已恢复"), 4000)

    def _on_message_sound_action_toggled(self, on: bool) -> None:
        self.alerter.set_sound(AlertKind.NEW_MESSAGE, on)

    def _on_reminder_sound_action_toggled(self, on: bool) -> None:
        self.alerter.set_sound(AlertKind.REMINDER, on)

    def _on_taskbar_action_toggled(self, on: bool) -> None:
        self.alerter.taskbar = on

    def _on_reminder_actions_triggered(self, action: QAction) -> None:
        self.reminder.seconds = int(action.data())

    def _on_tick_timeout(self) -> None:
        now = self.clock()
        self.reception.refresh_waits(now)
        self.remind_slow_replies(now)

    def remind_slow_replies(self, now: float) -> list[str]:
        """Name our buyers who have waited the reminder's limit, once per wait (CONSOLE.md §6)."""
        pending = (self.state.conversations.get(c) for c in self._pending)
        due = self.reminder.due(now, (c for c in pending if c is not None), f"agent:{self.state.agent}")
        for conversation in due:
            self.alerter.slow_reply(conversation, int(now - (conversation.waiting_since or now)))
        names = [c.name for c in due]
        if names:
            self.statusBar().showMessage(self.tr("%1 等待已超过 %2 秒，请尽快回复")
                                         .replace("%1", "、".join(names)).replace("%2", str(self.reminder.seconds)),
                                         15000)
        return names

    def _on_language_actions_triggered(self, action: QAction) -> None:
        self.settings.setValue("language", action.data())
        self.statusBar().showMessage(self.tr("语言将在重新启动后切换"), 8000)

    # -- window ----------------------------------------------------------------------------------------

    def _update_title(self) -> None:
        unread = self.state.unread_total()
        title = self.tr("分流接待台 · %1").replace("%1", self.state.agent_name)
        self.setWindowTitle(f"({unread}) {title}" if unread else title)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.tick.stop()
        self.model.flush()
        self.settings.sync()
        super().closeEvent(event)
