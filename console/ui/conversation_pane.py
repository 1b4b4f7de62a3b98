"""The open conversation: header, history and the reply box (CONSOLE.md §1).

Ctrl+Enter or 发送 hands the text to whoever listens (``reply_submitted``); the main window
records it as an optimistic local reply and asks the backend to send it.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QPoint, Qt, Signal
from PySide6.QtGui import QFocusEvent, QKeyEvent, QTextCursor
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

from console.protocol.messages import DecisionInfo, PhraseInfo
from console.reception.model import Conversation, Message
from console.reception.phrases import PINNED_KEYS, fill
from console.ui.bubble_delegate import BubbleDelegate
from console.ui.message_model import MessageModel
from console.ui.phrase_book import PhraseBook
from console.ui.phrase_popup import PhrasePopup
from console.ui.reasons import reason_text, target_text
from console.ui.reception_delegate import badges_of
from console.ui.state import ConsoleState

SEND_KEYS = "Ctrl+Enter"


_PINNED = {getattr(Qt.Key, f"Key_{n}"): n for n in range(1, PINNED_KEYS + 1)}
_TRIGGER = re.compile(r"(?:^|\s)/([^\s/]{0,20})$")  # a slash at the start or after a space, then the query
_POPUP_KEYS = {Qt.Key.Key_Up: -1, Qt.Key.Key_Down: 1}


class ReplyEdit(QPlainTextEdit):
    """The input box: Ctrl+Enter (or Ctrl+Return) submits, Enter makes a new line.

    Quick replies: ``/`` at the start or after a space asks for the popup (``phrase_query``, the
    text after the slash, as it is typed); while it shows, Up/Down/Enter/Esc belong to it
    (``popup_key``). Ctrl+1..9 belong to the box while it has the focus (``pinned_requested``):
    the ShortcutOverride is accepted, so the window's status keys Ctrl+1/2/3 never see them
    here and work everywhere else. One owner per key at any moment: no ambiguous shortcut.
    """

    submitted = Signal()
    phrase_query = Signal(str)  # the text after "/"
    phrase_query_ended = Signal()
    popup_key = Signal(int)  # -1 / +1: move; 0: insert the current one
    pinned_requested = Signal(int)  # 1..9

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.popup_open = False
        self.quick_replies = False  # set when there is a phrase book: "/" and Ctrl+1..9 are then the box's
        # Alt when the console is signed into several shops: Ctrl+1..9 then switch shops (issue 15)
        self.pinned_modifier = Qt.KeyboardModifier.ControlModifier
        self._dismissed: int | None = None  # Esc closed the popup of the slash at this position
        self._asked: tuple[int, str] | None = None  # the query last sent (text and cursor both signal)
        self.textChanged.connect(self._on_text_changed)
        self.cursorPositionChanged.connect(self._on_text_changed)

    def trigger(self) -> tuple[int, str] | None:
        """Where the ``/`` before the cursor is, and the query after it, or None."""
        cursor = self.textCursor()
        block = cursor.block()
        before = block.text()[:cursor.positionInBlock()]
        found = _TRIGGER.search(before)
        if found is None:
            return None
        return block.position() + found.start(1) - 1, found.group(1)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent) and self._pinned_key(event):
            event.accept()  # the key comes to keyPressEvent instead of the window's shortcut
            return True
        if self.popup_open and event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent) \
                and event.key() == Qt.Key.Key_Tab and not event.modifiers():
            self.popup_key.emit(0)  # Tab takes the phrase, as in completers; it moves the focus otherwise
            event.accept()
            return True
        return super().event(event)

    def _pinned_key(self, event: QKeyEvent) -> int | None:
        if not self.quick_replies:
            return None
        mods = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        if mods == self.pinned_modifier:
            return _PINNED.get(Qt.Key(event.key()))
        return None

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        pinned = self._pinned_key(event)
        if pinned is not None:
            self.pinned_requested.emit(pinned)
            event.accept()
            return
        if self.popup_open and not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            if key in _POPUP_KEYS:
                self.popup_key.emit(_POPUP_KEYS[Qt.Key(key)])
                event.accept()
                return
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self.popup_key.emit(0)
                event.accept()
                return
            if key == Qt.Key.Key_Escape:
                found = self.trigger()
                self._dismissed = found[0] if found is not None else None
                self.end_query()
                event.accept()
                return
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and \
                event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.submitted.emit()
            event.accept()
            return
        super().keyPressEvent(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:
        self.end_query()
        super().focusOutEvent(event)

    def _on_text_changed(self) -> None:
        found = self.trigger() if self.quick_replies else None
        if found is None or found[0] == self._dismissed:
            if found is None:
                self._dismissed = None
            self.end_query()
            return
        if self.popup_open and found == self._asked:
            return
        self.popup_open = True
        self._asked = found
        self.phrase_query.emit(found[1])

    def end_query(self) -> None:
        self._asked = None
        if self.popup_open:
            self.popup_open = False
            self.phrase_query_ended.emit()


class ConversationPane(QWidget):
    reply_submitted = Signal(str, str)  # conversation id, text
    close_requested = Signal(str)
    claim_requested = Signal(str)

    phrase_failed = Signal(str)

    def __init__(self, state: ConsoleState, clock: Callable[[], float], parent: QWidget | None = None, *,
                 phrases: PhraseBook | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("conversationPane")
        self._state = state
        self.phrases = phrases
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
        self.input.setPlaceholderText(self._placeholder())
        self.input.setFixedHeight(96)
        self.popup = PhrasePopup(self)
        self.input.quick_replies = phrases is not None
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
        self.input.phrase_query.connect(self._on_input_phrase_query)
        self.input.phrase_query_ended.connect(self.popup.hide)
        self.input.popup_key.connect(self._on_input_popup_key)
        self.input.pinned_requested.connect(self._on_input_pinned_requested)
        self.popup.list.clicked.connect(lambda index: self._insert_phrase(self.popup.model.phrase(index.row())))
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
        self.input.setPlaceholderText(self._placeholder() if conversation.open
                                      else self.tr("会话已结束，不能再回复"))

    def _placeholder(self) -> str:
        if self.phrases is None:
            return self.tr("输入回复，Ctrl+Enter 发送")
        if self.input.pinned_modifier == Qt.KeyboardModifier.AltModifier:
            return self.tr("输入回复，Ctrl+Enter 发送；/ 搜索快捷短语，Alt+1…9 插入置顶短语")
        return self.tr("输入回复，Ctrl+Enter 发送；/ 搜索快捷短语，Ctrl+1…9 插入置顶短语")

    def use_alt_for_pinned(self) -> None:
        """Signed into several shops: pinned phrases on Alt+1..9, Ctrl+1..9 switch shops (issue 15)."""
        self.input.pinned_modifier = Qt.KeyboardModifier.AltModifier
        self.popup.model.key_name = "Alt"
        self.input.setPlaceholderText(self._placeholder())

    # -- quick replies ---------------------------------------------------------------------------------

    def _on_input_phrase_query(self, query: str) -> None:
        if self.phrases is None:
            return
        self.popup.show_matches(self.phrases.index.search(query), query, self.phrases.index.pinned())
        hint = self.popup.sizeHint()
        width = min(hint.width(), self.input.width())
        corner = self.input.mapTo(self, QPoint(0, 0))
        self.popup.setGeometry(corner.x() + 10, max(0, corner.y() - hint.height()), width, hint.height())
        self.popup.show()
        self.popup.raise_()

    def _on_input_popup_key(self, step: int) -> None:
        if step:
            self.popup.move_current(step)
        else:
            self._insert_phrase(self.popup.current())

    def _on_input_pinned_requested(self, number: int) -> None:
        pinned = self.phrases.index.pinned() if self.phrases is not None else []
        if number <= len(pinned):
            self._insert_phrase(pinned[number - 1], replace_trigger=False)
        else:
            self.phrase_failed.emit(self.tr("没有第 %1 条置顶短语（在快捷短语管理中置顶）").replace("%1", str(number)))

    def _insert_phrase(self, phrase: PhraseInfo | None, *, replace_trigger: bool = True) -> None:
        """Put the phrase, its variables filled, where the cursor is (in place of "/query")."""
        if phrase is None or self.conversation is None or not self.input.isEnabled():
            return
        cursor = self.input.textCursor()
        found = self.input.trigger() if replace_trigger else None
        if found is not None:
            cursor.setPosition(found[0], QTextCursor.MoveMode.KeepAnchor)
            cursor.removeSelectedText()
        self.input.end_query()
        conversation = self.conversation.id
        position = cursor.position()
        buyer, agent = self.conversation.name, self._state.agent_name

        def put(order: str | None) -> None:
            if self.conversation is None or self.conversation.id != conversation:
                return  # the agent moved on to another buyer meanwhile
            at = self.input.textCursor()
            at.setPosition(min(position, len(self.input.toPlainText())))
            at.insertText(fill(phrase.text, buyer=buyer, agent=agent, order=order))
            self.input.setTextCursor(at)

        if "{订单号}" in phrase.text and self.phrases is not None:
            self.phrases.latest_order(conversation, put)
        else:
            put(None)
