"""The open conversation: header, history and the reply box (CONSOLE.md §1).

Ctrl+Enter or 发送 hands the text to whoever listens (``reply_submitted``); the main window
records it as an optimistic local reply and asks the backend to send it. An image pasted (Ctrl+V),
dropped on the reply box or picked with 图片 goes the same way (``image_submitted``, issue 13); a
click on an image opens the viewer, on one that could not be sent sends it again.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QEvent, QIODevice, QMimeData, QModelIndex, QObject, QPoint, Qt, Signal
from PySide6.QtGui import QFocusEvent, QImage, QKeyEvent, QTextCursor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListView,
    QPlainTextEdit,
    QPushButton,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from console.protocol.messages import MAX_IMAGE_BYTES, CardKind, DecisionInfo, PhraseInfo
from console.reception.model import Conversation, Message, MessageKind
from console.reception.phrases import PINNED_KEYS, fill
from console.ui.bubble_delegate import BubbleDelegate
from console.ui.emoji_picker import EmojiPicker
from console.ui.image_viewer import ImageViewer
from console.ui.message_model import DeliveryRole, MessageModel, MessageRole
from console.ui.phrase_book import PhraseBook
from console.ui.phrase_popup import PhrasePopup
from console.ui.product_picker import ProductPicker
from console.ui.reasons import reason_text, target_text
from console.ui.reception_delegate import badges_of
from console.ui.state import ConsoleState, Delivery
from console.ui.thumbnails import Thumbnails

SEND_KEYS = "Ctrl+Enter"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp")  # what the picker offers; the server judges by content


def image_bytes(mime: QMimeData) -> bytes | None:
    """An image in pasted or dropped data: a local image file's bytes as they are, or pixels
    (a screenshot on the clipboard) as PNG. None when there is no image in it."""
    for url in mime.urls() if mime.hasUrls() else []:
        path = Path(url.toLocalFile()) if url.isLocalFile() else None
        if path is not None and path.suffix.lower() in IMAGE_SUFFIXES and path.is_file():
            if path.stat().st_size > MAX_IMAGE_BYTES:
                return b""  # too large: said by the caller, without reading it all
            return path.read_bytes()
    if mime.hasImage():
        image = mime.imageData()
        if isinstance(image, QImage) and not image.isNull():
            data = QByteArray()
            buffer = QBuffer(data)
            buffer.open(QIODevice.OpenModeFlag.WriteOnly)
            image.save(buffer, "PNG")  # type: ignore[call-overload]  # the stubs say bytes; the binding takes str
            buffer.close()
            return bytes(data.data())
    return None
EMOJI_KEYS = "Ctrl+E"


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
    image_pasted = Signal(bytes)  # an image pasted (Ctrl+V) or dropped; b"" when it is too large
    phrase_query_ended = Signal()
    popup_key = Signal(int)  # -1 / +1: move; 0: insert the current one
    pinned_requested = Signal(int)  # 1..9
    emoji_requested = Signal()  # Ctrl+E: the emoji picker

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
        if key == Qt.Key.Key_E and event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier == \
                Qt.KeyboardModifier.ControlModifier:
            self.emoji_requested.emit()
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

    def canInsertFromMimeData(self, source: QMimeData) -> bool:
        return source.hasImage() or source.hasUrls() or super().canInsertFromMimeData(source)

    def insertFromMimeData(self, source: QMimeData) -> None:
        """Paste and drop: an image goes out as an image, anything else in as text."""
        data = image_bytes(source)
        if data is not None:
            self.image_pasted.emit(data)
            return
        super().insertFromMimeData(source)

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
    image_submitted = Signal(str, bytes)  # conversation id, the image's bytes (issue 13)
    image_retry_requested = Signal(str)  # client_id of one of our images the server refused
    image_refused = Signal(str)  # why a picked or pasted file cannot be sent (said before sending)
    close_requested = Signal(str)
    claim_requested = Signal(str)

    phrase_failed = Signal(str)
    card_requested = Signal(str, str, str)  # conversation id, CardKind value, product id / order number

    def __init__(self, state: ConsoleState, clock: Callable[[], float], parent: QWidget | None = None, *,
                 phrases: PhraseBook | None = None, thumbnails: Thumbnails | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("conversationPane")
        self._state = state
        self.phrases = phrases
        self.thumbnails = thumbnails
        self.viewer: ImageViewer | None = None
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
        self.history.setItemDelegate(BubbleDelegate(self.history, clock, self._buyer_name, self._agent_name,
                                                    thumbnails, state.local_images.get))
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
        self.image_button = QPushButton(self.tr("图片"), self)
        self.image_button.setObjectName("imageButton")
        self.image_button.setToolTip(self.tr("发送图片（也可以粘贴 Ctrl+V 或拖入回复框）"))
        self.image_button.setVisible(thumbnails is not None)
        self.emoji_button = QToolButton(self)
        self.emoji_button.setObjectName("emojiButton")
        self.emoji_button.setText("😊")
        self.emoji_button.setToolTip(self.tr("表情 (%1)").replace("%1", EMOJI_KEYS))
        self.emoji_button.setAccessibleName(self.tr("表情"))
        self.emoji_picker = EmojiPicker(self)
        self.product_button = QToolButton(self)
        self.product_button.setObjectName("productButton")
        self.product_button.setText(self.tr("商品"))
        self.product_button.setToolTip(self.tr("从商品库发送商品卡片"))
        self.product_picker = ProductPicker(self)
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
        footer.addWidget(self.image_button)
        footer.addWidget(self.emoji_button)
        footer.addWidget(self.product_button)
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
        self.input.image_pasted.connect(self._on_input_image_pasted)
        self.image_button.clicked.connect(self._on_image_button_clicked)
        self.history.clicked.connect(self._on_history_clicked)
        self.send_button.clicked.connect(self._on_input_submitted)
        self.close_button.clicked.connect(self._on_close_button_clicked)
        self.claim_button.clicked.connect(self._on_claim_button_clicked)
        self.messages.rowsInserted.connect(self._on_messages_rows_inserted)
        self.input.phrase_query.connect(self._on_input_phrase_query)
        self.input.phrase_query_ended.connect(self.popup.hide)
        self.input.popup_key.connect(self._on_input_popup_key)
        self.input.pinned_requested.connect(self._on_input_pinned_requested)
        self.input.emoji_requested.connect(self.open_emoji_picker)
        self.emoji_button.clicked.connect(self.open_emoji_picker)
        self.emoji_picker.chosen.connect(self._on_emoji_picker_chosen)
        self.product_button.clicked.connect(self._on_product_button_clicked)
        self.product_picker.product_chosen.connect(self._on_product_picker_product_chosen)
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
        self.image_button.setEnabled(False)
        self.emoji_button.setEnabled(False)
        self.product_button.setEnabled(False)
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

    def _on_input_image_pasted(self, data: bytes) -> None:
        self.send_image(data)

    def _on_image_button_clicked(self) -> None:
        patterns = " ".join(f"*{suffix}" for suffix in IMAGE_SUFFIXES)
        path, _ = QFileDialog.getOpenFileName(self, self.tr("选择图片"), "", self.tr("图片 (%1)").replace("%1", patterns))
        if not path:
            return
        file = Path(path)
        try:
            data = b"" if file.stat().st_size > MAX_IMAGE_BYTES else file.read_bytes()
        except OSError as exc:
            self.image_refused.emit(self.tr("无法读取图片：%1").replace("%1", exc.strerror or str(exc)))
            return
        self.send_image(data)

    def send_image(self, data: bytes) -> None:
        """An image for the open conversation (too large ones are refused here, before sending)."""
        if self.conversation is None or not self.conversation.open:
            return
        if not data:
            self.image_refused.emit(self.tr("图片太大：最大 %1 MB").replace("%1", str(MAX_IMAGE_BYTES // (1024 * 1024))))
            return
        self.image_submitted.emit(self.conversation.id, data)

    def _on_history_clicked(self, index: QModelIndex) -> None:
        message: Message = index.data(MessageRole)
        if message is None or message.kind is not MessageKind.IMAGE or message.image is None:
            return
        if index.data(DeliveryRole) == Delivery.FAILED and message.client_id is not None:
            self.image_retry_requested.emit(message.client_id)
            return
        self.open_viewer(message)

    def open_viewer(self, message: Message) -> None:
        if self.thumbnails is None or message.image is None:
            return
        if self.viewer is not None:
            self.viewer.close()
        local = self._state.local_images.get(message.client_id) if message.client_id is not None else None
        self.viewer = ImageViewer(self.thumbnails, message, local, self)
        self.viewer.finished.connect(self._on_viewer_finished)
        self.viewer.show()

    def _on_viewer_finished(self) -> None:
        if self.viewer is not None:
            self.viewer.deleteLater()
            self.viewer = None

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
        self.image_button.setEnabled(conversation.open)
        self.emoji_button.setEnabled(conversation.open)
        self.product_button.setEnabled(conversation.open)
        self.input.setPlaceholderText(self._placeholder() if conversation.open
                                      else self.tr("会话已结束，不能再回复"))

    def _placeholder(self) -> str:
        if self.phrases is None:
            return self.tr("输入回复，Ctrl+Enter 发送")
        if self.input.pinned_modifier == Qt.KeyboardModifier.AltModifier:
            return self.tr("输入回复，Ctrl+Enter 发送；/ 搜索快捷短语，Alt+1…9 插入置顶短语")
        return self.tr("输入回复，Ctrl+Enter 发送；/ 搜索快捷短语，Ctrl+1…9 插入置顶短语")

    # -- emoji -----------------------------------------------------------------------------------------

    def open_emoji_picker(self) -> None:
        if self.conversation is None or not self.input.isEnabled():
            return
        self.emoji_picker.open_at(self.input.mapToGlobal(QPoint(10, 0)))

    def _on_emoji_picker_chosen(self, emoji: str) -> None:
        if self.input.isEnabled():
            self.input.insertPlainText(emoji)
        self.input.setFocus()

    # -- cards ---------------------------------------------------------------------------------------

    def _on_product_button_clicked(self) -> None:
        if self.conversation is not None and self.conversation.open:
            self.product_picker.open_picker()

    def _on_product_picker_product_chosen(self, product: str) -> None:
        if self.conversation is not None and self.conversation.open:
            self.card_requested.emit(self.conversation.id, CardKind.PRODUCT.value, product)
        self.input.setFocus()

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
