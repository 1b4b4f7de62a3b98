"""The search dialog (Ctrl+F, issue 13): find an earlier conversation and read it.

Type a buyer name, an order number, a product or words of the chat; results come as you type
(a short pause merges the keystrokes), newest first, the matching line with the query
highlighted. Enter (or a double click) opens the result: its history is shown read-only on the
right, through the same ``open`` request as the reception list. If the buyer can still be
written to (the session is open and ours), a reply box sends through the window's reply path;
a closed conversation whose buyer is still reachable offers 再次联系 (``contact``: the server
opens a session with us, then the reply box shows);
if the conversation is in our list, "在接待台打开" opens it there. Esc closes.
"""

from __future__ import annotations

from collections.abc import Callable

import msgspec
from PySide6.QtCore import (
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPointF,
    QRect,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor, QFont, QFontMetrics, QKeyEvent, QPainter, QTextCharFormat, QTextLayout
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QPushButton,
    QSplitter,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from console.protocol.holders import Holder, agent_of
from console.protocol.messages import SearchHit, SearchMatch
from console.reception.model import Conversation, Message
from console.ui.bubble_delegate import BubbleDelegate
from console.ui.conversation_pane import ReplyEdit
from console.ui.labels import time_label
from console.ui.message_model import MessageModel
from console.ui.search_model import HitRole, SearchModel, SearchSource
from console.ui.state import ConsoleState, Delivery

TYPING_PAUSE_MS = 250
"""Keystrokes closer than this make one search."""
PAD = 8
HIGHLIGHT = QColor("#ffe08a")
MUTED = QColor("#7b8794")
OPEN = QColor("#2f9e44")


def utf16_offset(text: str, index: int) -> int:
    """Qt counts UTF-16 units; the protocol counts code points (they differ beyond the BMP, emoji)."""
    return len(text[:index].encode("utf-16-le")) // 2


class SearchDelegate(QStyledItemDelegate):
    """Two lines per hit: the buyer, what matched and when; then the line in context, highlighted."""

    def __init__(self, clock: Callable[[], float], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._clock = clock
        self._kinds = {
            SearchMatch.MESSAGE: self.tr("聊天"),
            SearchMatch.NAME: self.tr("昵称"),
            SearchMatch.ORDER: self.tr("订单"),
            SearchMatch.PRODUCT: self.tr("商品"),
        }
        self._open_text = self.tr("会话中")
        self._reachable_text = self.tr("可再次联系")

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        line = QFontMetrics(option.font).height()  # type: ignore[attr-defined]
        return QSize(240, 2 * line + 3 * PAD)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> None:
        hit = index.data(HitRole)
        if not isinstance(hit, SearchHit):
            return
        rect: QRect = option.rect  # type: ignore[attr-defined]
        font: QFont = option.font  # type: ignore[attr-defined]
        selected = bool(option.state & QStyle.StateFlag.State_Selected)  # type: ignore[attr-defined]
        painter.save()
        if selected:
            painter.fillRect(rect, option.palette.highlight())  # type: ignore[attr-defined]
        metrics = QFontMetrics(font)
        line = metrics.height()
        top = rect.adjusted(PAD, PAD, -PAD, 0)
        bold = QFont(font)
        bold.setBold(True)
        painter.setFont(bold)
        painter.setPen(option.palette.highlightedText().color() if selected  # type: ignore[attr-defined]
                       else option.palette.text().color())  # type: ignore[attr-defined]
        name_width = min(QFontMetrics(bold).horizontalAdvance(hit.name), top.width() // 2)
        painter.drawText(QRect(top.left(), top.top(), name_width, line), Qt.AlignmentFlag.AlignVCenter,
                         QFontMetrics(bold).elidedText(hit.name, Qt.TextElideMode.ElideRight, name_width))
        painter.setFont(font)
        on_highlight = option.palette.highlightedText().color()  # type: ignore[attr-defined]
        muted = on_highlight if selected else MUTED
        tag = self._kinds.get(hit.match, "")
        if hit.open:
            tag = f"{tag} · {self._open_text}"
        elif hit.reachable:
            tag = f"{tag} · {self._reachable_text}"
        painter.setPen(on_highlight if selected else OPEN if hit.open else MUTED)
        painter.drawText(QRect(top.left() + name_width + PAD, top.top(), top.width() // 2, line),
                         Qt.AlignmentFlag.AlignVCenter, tag)
        painter.setPen(muted)
        painter.drawText(QRect(top.left(), top.top(), top.width(), line),
                         Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, time_label(hit.at, self._clock()))
        text = on_highlight if selected else option.palette.text().color()  # type: ignore[attr-defined]
        self._paint_snippet(painter, hit, font, text, QRect(top.left(), top.top() + line + PAD, top.width(), line))
        painter.restore()

    @staticmethod
    def _paint_snippet(painter: QPainter, hit: SearchHit, font: QFont, color: QColor, where: QRect) -> None:
        layout = QTextLayout(hit.snippet, font)
        marks = []
        for start, end in hit.highlights:
            mark = QTextLayout.FormatRange()
            mark.start = utf16_offset(hit.snippet, start)
            mark.length = utf16_offset(hit.snippet, end) - mark.start
            fmt = QTextCharFormat()
            fmt.setBackground(HIGHLIGHT)
            fmt.setForeground(QColor("#1f2933"))  # dark on the yellow mark, selected or not
            fmt.setFontWeight(QFont.Weight.Bold)
            mark.format = fmt
            marks.append(mark)
        layout.setFormats(marks)
        layout.beginLayout()
        text_line = layout.createLine()
        if text_line.isValid():
            text_line.setLineWidth(where.width())
            text_line.setPosition(QPointF(0, 0))
        layout.endLayout()
        painter.setClipRect(where)
        painter.setPen(color)
        layout.draw(painter, where.topLeft().toPointF())


class SearchDialog(QDialog):
    """See the module docstring. Signals go to the main window, which owns the reply path."""

    reply_submitted = Signal(str, str)  # conversation id, text (the window's existing reply path)
    conversation_opened = Signal(str)  # open this conversation in the reception list

    def __init__(self, state: ConsoleState, source: SearchSource, clock: Callable[[], float],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("searchDialog")
        self.setWindowTitle(self.tr("搜索会话"))
        self._state = state
        self._source = source
        self._clock = clock
        self._asked = ""  # the query whose answers we take (older answers are dropped)
        self._shown = ""  # the query whose results the list shows
        self._next_before: int | None = None
        self.conversation: Conversation | None = None  # the one shown on the right
        self._hit: SearchHit | None = None

        self.query = QLineEdit(self)
        self.query.setObjectName("searchQuery")
        self.query.setPlaceholderText(self.tr("买家昵称、订单号、商品或聊天内容"))
        self.query.setClearButtonEnabled(True)
        self.model = SearchModel(self)
        self.results = QListView(self)
        self.results.setObjectName("searchResults")
        self.results.setModel(self.model)
        self.results.setItemDelegate(SearchDelegate(clock, self.results))
        self.results.setUniformItemSizes(True)
        self.results.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.results.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.status = QLabel(self)
        self.status.setObjectName("searchStatus")
        self.more_button = QPushButton(self.tr("更早的结果"), self)
        self.more_button.setVisible(False)

        self.title = QLabel(self)
        self.title.setObjectName("conversationTitle")
        self.in_list_button = QPushButton(self.tr("在接待台打开"), self)
        self.in_list_button.setVisible(False)
        self.contact_button = QPushButton(self.tr("再次联系"), self)
        self.contact_button.setObjectName("contactButton")
        self.contact_button.setToolTip(self.tr("买家仍可联系：打开与买家的会话，然后在下面回复"))
        self.contact_button.setVisible(False)
        self.messages = MessageModel(lambda message: Delivery.CONFIRMED, self)
        self.history = QListView(self)
        self.history.setObjectName("history")
        self.history.setModel(self.messages)
        self.history.setItemDelegate(BubbleDelegate(self.history, clock, self._buyer_name, self._agent_name))
        self.history.setResizeMode(QListView.ResizeMode.Adjust)
        self.history.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.history.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.history.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.reachability = QLabel(self)
        self.reachability.setObjectName("reachability")
        self.reachability.setWordWrap(True)
        self.input = ReplyEdit(self)
        self.input.setObjectName("replyInput")
        self.input.setPlaceholderText(self.tr("再次联系买家，Ctrl+Enter 发送"))
        self.input.setFixedHeight(72)
        self.send_button = QPushButton(self.tr("发送"), self)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(TYPING_PAUSE_MS)

        self._build_layout()
        self._show_reply(False)
        self._connect_signals()

    # -- building ------------------------------------------------------------------------------------

    def _build_layout(self) -> None:
        left = QWidget(self)
        left_column = QVBoxLayout(left)
        left_column.setContentsMargins(0, 0, 0, 0)
        left_column.addWidget(self.query)
        left_column.addWidget(self.results, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.status, 1)
        bottom.addWidget(self.more_button)
        left_column.addLayout(bottom)
        right = QWidget(self)
        right_column = QVBoxLayout(right)
        right_column.setContentsMargins(0, 0, 0, 0)
        header = QHBoxLayout()
        header.addWidget(self.title, 1)
        header.addWidget(self.contact_button)
        header.addWidget(self.in_list_button)
        right_column.addLayout(header)
        right_column.addWidget(self.history, 1)
        right_column.addWidget(self.reachability)
        right_column.addWidget(self.input)
        send_row = QHBoxLayout()
        send_row.addStretch(1)
        send_row.addWidget(self.send_button)
        right_column.addLayout(send_row)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setSizes([420, 520])
        outer = QVBoxLayout(self)
        outer.addWidget(splitter)
        self.resize(980, 640)

    def _connect_signals(self) -> None:
        feed = self._source.feed
        feed.results_loaded.connect(self._on_feed_results_loaded)
        feed.history_loaded.connect(self._on_feed_history_loaded)
        feed.failed.connect(self._on_feed_failed)
        feed.contacted.connect(self._on_feed_contacted)
        self.contact_button.clicked.connect(self._on_contact_button_clicked)
        self._state.message_added.connect(self._on_state_message_added)
        self.query.textEdited.connect(self._on_query_text_edited)
        self.query.returnPressed.connect(self._on_query_return_pressed)
        self._timer.timeout.connect(self._on_timer_timeout)
        self.results.activated.connect(self._on_results_activated)
        self.results.doubleClicked.connect(self._on_results_activated)
        self.more_button.clicked.connect(self._on_more_button_clicked)
        self.in_list_button.clicked.connect(self._on_in_list_button_clicked)
        self.input.submitted.connect(self._on_input_submitted)
        self.send_button.clicked.connect(self._on_input_submitted)
        self.query.installEventFilter(self)

    # -- searching -----------------------------------------------------------------------------------

    @property
    def shown_query(self) -> str:
        """The query whose results the list shows."""
        return self._shown

    def search_now(self) -> None:
        """Ask for the query in the box (nothing for an empty box)."""
        self._timer.stop()
        text = " ".join(self.query.text().split())
        if not text:
            self._asked = self._shown = ""
            self.model.load([])
            self.status.clear()
            self.more_button.setVisible(False)
            return
        self._asked = text
        self.status.setText(self.tr("搜索中…"))
        self._source.search(text)

    def _on_query_text_edited(self, text: str) -> None:
        self._timer.start()

    def _on_timer_timeout(self) -> None:
        self.search_now()

    def _on_query_return_pressed(self) -> None:
        text = " ".join(self.query.text().split())
        if text and text == self._shown and self.model.rowCount():
            current = self.results.currentIndex()
            self.open_hit(current.row() if current.isValid() else 0)
        else:
            self.search_now()

    def _on_more_button_clicked(self) -> None:
        if self._next_before is not None and self._shown:
            self._asked = self._shown
            self.status.setText(self.tr("搜索中…"))
            self._source.search(self._shown, self._next_before)

    def _on_feed_results_loaded(self, query: str, hits: list[SearchHit], next_before: int | None,
                                appended: bool) -> None:
        if query != self._asked:
            return  # an answer to a query typed over since
        if appended:
            self.model.append(hits)
        else:
            self.model.load(hits)
            if hits:
                self.results.setCurrentIndex(self.model.index(0, 0))
        self._shown = query
        self._next_before = next_before
        self.more_button.setVisible(next_before is not None)
        count = self.model.rowCount()
        self.status.setText(self.tr("%1 条结果").replace("%1", str(count)) if count else self.tr("没有找到"))

    def _on_feed_failed(self, text: str) -> None:
        self.status.setText(text)
        self.contact_button.setEnabled(True)  # a refused 再次联系 may be tried again

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Up and Down in the query box move through the results."""
        query = getattr(self, "query", None)  # gone while the dialog is being destroyed
        if query is not None and watched is query and event.type() == QEvent.Type.KeyPress \
                and isinstance(event, QKeyEvent):
            step = {Qt.Key.Key_Down: 1, Qt.Key.Key_Up: -1}.get(Qt.Key(event.key()))
            if step is not None and self.model.rowCount():
                row = max(0, min(self.model.rowCount() - 1, self.results.currentIndex().row() + step))
                self.results.setCurrentIndex(self.model.index(row, 0))
                return True
        return super().eventFilter(watched, event)

    # -- opening -------------------------------------------------------------------------------------

    def open_hit(self, row: int) -> None:
        """Show this result's conversation (read-only) and ask for its history."""
        if not 0 <= row < self.model.rowCount():
            return
        hit = self.model.hit(row)
        self._hit = hit
        self.results.setCurrentIndex(self.model.index(row, 0))
        self.title.setText(hit.name)
        self.messages.set_messages([])
        self._source.open_history(hit.conversation)

    def _on_results_activated(self, index: QModelIndex) -> None:
        self.open_hit(index.row())

    def _on_feed_history_loaded(self, conversation: str, row: Conversation, messages: list[Message]) -> None:
        if self._hit is None or self._hit.conversation != conversation:
            return
        self.conversation = row
        self.messages.set_messages(sorted(messages, key=lambda m: (m.at, m.id)))
        if self._hit.message_id is not None:  # scroll to the line that matched
            for i in range(self.messages.rowCount()):
                if self.messages.message(i).id == self._hit.message_id:
                    self.history.scrollTo(self.messages.index(i, 0), QAbstractItemView.ScrollHint.PositionAtCenter)
                    break
        else:
            self.history.scrollToBottom()
        mine = agent_of(row.holder) == self._state.agent
        self._show_reply(row.open and mine)
        if mine and row.open:
            self.reachability.setText(self.tr("会话进行中，可以直接回复买家"))
        elif row.open:
            self.reachability.setText(self.tr("会话进行中，由其他接待方处理（只读）"))
        elif self._hit.reachable:
            self.reachability.setText(self.tr("会话已结束（只读）；买家仍可联系：点“再次联系”后回复"))
        else:
            self.reachability.setText(self.tr("会话已结束（只读），买家再次发消息时会重新分配"))
        self.contact_button.setVisible(not row.open and self._hit.reachable)
        self.contact_button.setEnabled(True)
        self.in_list_button.setVisible(conversation in self._state.conversations)

    def _on_contact_button_clicked(self) -> None:
        if self.conversation is not None:
            self.contact_button.setEnabled(False)  # one request; the answer shows the reply box
            self._source.contact(self.conversation.id)

    def _on_feed_contacted(self, conversation: str) -> None:
        """The session is ours now (the server opened it): write through the reply box."""
        if self.conversation is None or self.conversation.id != conversation:
            return
        self.conversation = msgspec.structs.replace(self.conversation, holder=str(Holder.of_agent(self._state.agent)), open=True)
        self.contact_button.setVisible(False)
        self.reachability.setText(self.tr("已再次联系：会话进行中，可以直接回复买家"))
        self._show_reply(True)
        self.in_list_button.setVisible(True)
        self.input.setFocus()

    def _show_reply(self, can_reply: bool) -> None:
        self.input.setVisible(can_reply)
        self.send_button.setVisible(can_reply)

    def _on_in_list_button_clicked(self) -> None:
        if self.conversation is not None:
            self.conversation_opened.emit(self.conversation.id)
            self.accept()

    def _on_input_submitted(self) -> None:
        text = self.input.toPlainText().strip()
        if self.conversation is None or not text or not self.input.isVisible():
            return
        self.reply_submitted.emit(self.conversation.id, text)
        self.input.clear()

    def _on_state_message_added(self, message: Message) -> None:
        if self.conversation is not None and message.conversation == self.conversation.id:
            self.messages.add(message)
            self.history.scrollToBottom()

    # -- names for the bubbles -----------------------------------------------------------------------

    def _buyer_name(self) -> str:
        return self.conversation.name if self.conversation is not None else ""

    def _agent_name(self, agent: str | None) -> str:
        return self._state.agent_name if agent == self._state.agent else (agent or "")
