"""The open conversation: header, history and the reply box (CONSOLE.md §1).

Ctrl+Enter or 发送 hands the text to whoever listens (``reply_submitted``); the main window
records it as an optimistic local reply and asks the backend to send it.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QListView,
    QPlainTextEdit,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from console.protocol.messages import DecisionInfo
from console.reception.model import Conversation, Message
from console.ui.bubble_delegate import BubbleDelegate
from console.ui.message_model import MessageModel
from console.ui.reasons import reason_text, target_text
from console.ui.reception_delegate import badges_of
from console.ui.state import ConsoleState

SEND_KEYS = "Ctrl+Enter"


class ReplyEdit(QPlainTextEdit):
    """The input box: Ctrl+Enter (or Ctrl+Return) submits, Enter makes a new line."""

    submitted = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and \
                event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.submitted.emit()
            event.accept()
            return
        super().keyPressEvent(event)


class ConversationPane(QWidget):
    reply_submitted = Signal(str, str)  # conversation id, text
    close_requested = Signal(str)
    claim_requested = Signal(str)

    def __init__(self, state: ConsoleState, clock: Callable[[], float], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("conversationPane")
        self._state = state
        self.conversation: Conversation | None = None
        self.messages = MessageModel(state.delivery, self, state.failure)

        self.placeholder = QLabel(self.tr("从左侧选择一个会话开始接待\nCtrl+↑ 跳到等待最久的买家"), self)
        self.placeholder.setObjectName("placeholder")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)

        self.title = QLabel(self)
        self.title.setObjectName("conversationTitle")
        self.reason = QLabel(self)  # why the buyer came to this agent (CONSOLE.md §6, buyer panel)
        self.reason.setObjectName("conversationReason")
        self.claim_button = QPushButton(self.tr("认领"), self)
        self.close_button = QPushButton(self.tr("结束会话"), self)
        self.history = QListView(self)
        self.history.setObjectName("history")
        self.history.setModel(self.messages)
        self.history.setItemDelegate(BubbleDelegate(self.history, clock, self._buyer_name, self._agent_name))
        self.history.setResizeMode(QListView.ResizeMode.Adjust)
        self.history.setUniformItemSizes(False)
        self.history.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.history.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.history.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.history.setWordWrap(True)
        self.input = ReplyEdit(self)
        self.input.setObjectName("replyInput")
        self.input.setTabChangesFocus(True)  # Tab leaves the box (issue 12, defect 7); replies need no tabs
        self.input.setPlaceholderText(self.tr("输入回复，Ctrl+Enter 发送"))
        self.input.setFixedHeight(96)
        self.send_button = QPushButton(self.tr("发送"), self)
        self.send_button.setObjectName("sendButton")
        self.send_button.setToolTip(self.tr("发送 (%1)").replace("%1", SEND_KEYS))

        header = QHBoxLayout()
        header.setContentsMargins(14, 8, 10, 8)
        titles = QVBoxLayout()
        titles.setSpacing(0)
        titles.addWidget(self.title)
        titles.addWidget(self.reason)
        header.addLayout(titles, 1)
        header.addWidget(self.claim_button)
        header.addWidget(self.close_button)
        footer = QHBoxLayout()
        footer.addStretch(1)
        footer.addWidget(self.send_button)
        page = QWidget(self)
        column = QVBoxLayout(page)
        column.setContentsMargins(0, 0, 0, 8)
        column.setSpacing(6)
        column.addLayout(header)
        column.addWidget(self.history, 1)
        column.addWidget(self.input)
        footer.setContentsMargins(10, 0, 10, 0)
        column.addLayout(footer)
        column.setStretch(1, 1)
        self.input.setContentsMargins(10, 0, 10, 0)
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.placeholder)
        self.stack.addWidget(page)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.stack)

        self.input.submitted.connect(self._on_input_submitted)
        self.send_button.clicked.connect(self._on_input_submitted)
        self.close_button.clicked.connect(self._on_close_button_clicked)
        self.claim_button.clicked.connect(self._on_claim_button_clicked)
        self.messages.rowsInserted.connect(self._on_messages_rows_inserted)
        self.history.installEventFilter(self)

    # -- fed by the main window --------------------------------------------------------------------

    def show_conversation(self, conversation: Conversation) -> None:
        if self.conversation is None or self.conversation.id != conversation.id:
            self.reason.clear()
        self.conversation = conversation
        self.messages.set_messages(self._state.messages.get(conversation.id, []))
        self._show_header(conversation)
        self.stack.setCurrentIndex(1)
        self.history.scrollToBottom()
        self.input.setFocus()

    def update_conversation(self, conversation: Conversation) -> None:
        if self.conversation is not None and conversation.id == self.conversation.id:
            self.conversation = conversation
            self._show_header(conversation)

    def reload_history(self, conversation: str) -> None:
        if self.conversation is not None and conversation == self.conversation.id:
            self.messages.set_messages(self._state.messages.get(conversation, []))
            self.history.scrollToBottom()

    def add_message(self, message: Message) -> None:
        if self.conversation is not None and message.conversation == self.conversation.id:
            self.messages.add(message)

    def show_reason(self, conversation: str, why: DecisionInfo | None) -> None:
        """Why the open buyer is where it is (the buyer panel's ``why``: the server picks the
        decision, skipping ``open_session``), in words and with its rule."""
        if self.conversation is None or self.conversation.id != conversation:
            return
        if why is None:
            self.reason.clear()
            return
        mine = why.to == f"agent:{self._state.agent}"
        text = self.tr("为什么分给我：%1（%2）") if mine else self.tr("分配：%3 · %1（%2）")
        self.reason.setText(text.replace("%1", reason_text(why.why.value)).replace("%2", why.rule)
                            .replace("%3", target_text(why.to, {self._state.agent: self._state.agent_name})))

    def lock_input(self) -> None:
        """The session is being closed: nothing more can be sent in it."""
        self.input.setEnabled(False)
        self.send_button.setEnabled(False)
        self.close_button.setEnabled(False)

    def clear(self) -> None:
        self.conversation = None
        self.messages.set_messages([])
        self.stack.setCurrentIndex(0)

    # -- slots ---------------------------------------------------------------------------------------

    def _on_input_submitted(self) -> None:
        text = self.input.toPlainText().strip()
        if not text or self.conversation is None:
            return
        self.input.clear()
        self.reply_submitted.emit(self.conversation.id, text)

    def _on_close_button_clicked(self) -> None:
        if self.conversation is not None:
            self.close_requested.emit(self.conversation.id)

    def _on_claim_button_clicked(self) -> None:
        if self.conversation is not None:
            self.claim_requested.emit(self.conversation.id)

    def _on_messages_rows_inserted(self) -> None:
        self.history.scrollToBottom()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is getattr(self, "history", None) and event.type() == QEvent.Type.Resize:  # events come during __init__ too
            self.history.doItemsLayout()  # bubbles wrap to the new width
        return super().eventFilter(watched, event)

    # -- internals -----------------------------------------------------------------------------------

    def _buyer_name(self) -> str:
        return self.conversation.name if self.conversation is not None else ""

    def _agent_name(self, agent: str | None) -> str:
        return self._state.agent_name if agent == self._state.agent else (agent or "")

    def _show_header(self, conversation: Conversation) -> None:
        badges = "".join(f" [{b}]" for b in badges_of(conversation))
        closed = "" if conversation.open else self.tr("（已结束）")
        self.title.setText(f"{conversation.name}{badges}{closed}")
        self.claim_button.setVisible(conversation.holder == "pool")
        self.close_button.setEnabled(conversation.open)
        self.input.setEnabled(conversation.open)  # a closed session takes no more replies
        self.send_button.setEnabled(conversation.open)
        self.input.setPlaceholderText(self.tr("输入回复，Ctrl+Enter 发送") if conversation.open
                                      else self.tr("会话已结束，不能再回复"))
