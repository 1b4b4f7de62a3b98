"""The buyer panel beside the conversation (CONSOLE.md §6, issue 12).

``BuyerPanelModel`` is a two-level model: the groups (订单, 来源, 历史会话, 备注, 标签) are top-level
rows, their lines are children; ``ItemRole`` hands out the object behind a line (an ``OrderInfo``,
``SessionInfo``, ``NoteInfo``, a tag, or a ``SourceLine``). A panel pushed again for the same buyer
replaces only the groups that changed, by row ranges; another buyer is a new model (a reset).
``BuyerPanelView`` shows it with boxes for a note and a tag; ``SessionDialog`` shows a past
session read-only. Why the buyer came to this agent is the conversation header's line (one owner:
``ConversationPane.show_reason``), fed from the panel's ``why``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QCoreApplication,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QKeyEvent, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListView,
    QMenu,
    QPushButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from console.protocol.messages import (
    MAX_NOTE,
    ArriveInfo,
    BuyerPanel,
    NoteInfo,
    OrderInfo,
    SessionInfo,
)
from console.reception.model import Message
from console.ui.bubble_delegate import BubbleDelegate
from console.ui.card_painter import order_state_text, yuan
from console.ui.message_model import MessageModel
from console.ui.order_actions import OrderActionsDelegate, order_actions
from console.ui.state import Delivery

ItemRole = Qt.ItemDataRole.UserRole  # the object behind a line
GroupRole = Qt.ItemDataRole.UserRole + 1  # the Group a line (or a group row) belongs to

AnyIndex = QModelIndex | QPersistentModelIndex


class Group(IntEnum):
    ORDERS = 0
    SOURCE = 1
    SESSIONS = 2
    NOTES = 3
    TAGS = 4


@dataclass(frozen=True, slots=True)
class SourceLine:
    """One fact of where the buyer came from: a label and its value."""

    label: str
    value: str


def group_title(group: Group) -> str:
    return {
        Group.ORDERS: QCoreApplication.translate("BuyerPanel", "订单"),
        Group.SOURCE: QCoreApplication.translate("BuyerPanel", "来源"),
        Group.SESSIONS: QCoreApplication.translate("BuyerPanel", "历史会话"),
        Group.NOTES: QCoreApplication.translate("BuyerPanel", "备注（全店客服可见）"),
        Group.TAGS: QCoreApplication.translate("BuyerPanel", "标签"),
    }[group]


def entry_text(entry: str) -> str:
    return {
        "product_detail": QCoreApplication.translate("BuyerPanel", "商品详情页"),
        "order_detail": QCoreApplication.translate("BuyerPanel", "订单详情页"),
        "dm": QCoreApplication.translate("BuyerPanel", "私信"),
        "live": QCoreApplication.translate("BuyerPanel", "直播间"),
        "after_sale": QCoreApplication.translate("BuyerPanel", "售后"),
        "other": QCoreApplication.translate("BuyerPanel", "其他"),
    }.get(entry, entry)


def when(at: float) -> str:
    return time.strftime("%m-%d %H:%M", time.localtime(at))


def order_text(order: OrderInfo) -> str:
    """The order's id, state and amount; its items on a second line."""
    parts = [order.id, order_state_text(order.state)]
    if order.amount is not None:
        parts.append(yuan(order.amount))
    text = " · ".join(parts)
    if order.items:
        separator = QCoreApplication.translate("BuyerPanel", "、")
        text += "\n" + separator.join(f"{i.title}×{i.quantity}" for i in order.items)
    return text


def order_tip(order: OrderInfo) -> str:
    lines = [
        QCoreApplication.translate("BuyerPanel", "下单 %1，更新 %2")
        .replace("%1", when(order.created_at))
        .replace("%2", when(order.updated_at))
    ]
    lines += [f"{i.title} ×{i.quantity}" + (f"  {yuan(i.price)}" if i.price is not None else "") for i in order.items]
    return "\n".join(lines)


def source_lines(arrive: ArriveInfo | None, agent_names: dict[str, str]) -> list[SourceLine]:
    if arrive is None:
        return []
    lines = [SourceLine(QCoreApplication.translate("BuyerPanel", "入口"), entry_text(arrive.entry.value))]
    product = arrive.product
    if arrive.product_title:  # from the shop's catalogue: the title (and price), not the id
        product = arrive.product_title + (f"  {yuan(arrive.product_price)}" if arrive.product_price is not None else "")
    for label, value in (
        (QCoreApplication.translate("BuyerPanel", "商品"), product),
        (QCoreApplication.translate("BuyerPanel", "问题"), arrive.question),
        (QCoreApplication.translate("BuyerPanel", "意图"), arrive.intent),
    ):
        if value:
            lines.append(SourceLine(label, value))
    if arrive.crowd:
        lines.append(
            SourceLine(
                QCoreApplication.translate("BuyerPanel", "人群标签"),
                QCoreApplication.translate("BuyerPanel", "、").join(arrive.crowd),
            )
        )
    if arrive.exclusive:
        lines.append(
            SourceLine(
                QCoreApplication.translate("BuyerPanel", "专属客服"),
                arrive.exclusive_name or agent_names.get(arrive.exclusive, arrive.exclusive),
            )
        )
    return lines


class BuyerPanelModel(QAbstractItemModel):
    """The panel as groups of lines; see the module docstring."""

    def __init__(self, agent_names: Callable[[], dict[str, str]], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._names = agent_names
        self.panel: BuyerPanel | None = None
        self._lines: list[list[Any]] = [[] for _ in Group]

    # -- feeding --------------------------------------------------------------------------------

    def set_panel(self, panel: BuyerPanel | None) -> None:
        lines = self._lines_of(panel)
        if panel is None or self.panel is None or panel.conversation != self.panel.conversation:
            self.beginResetModel()  # another buyer: a new panel
            self.panel, self._lines = panel, lines
            self.endResetModel()
            return
        self.panel = panel
        for group in Group:
            old, new = self._lines[group], lines[group]
            if old == new:
                continue
            parent = self.index(group, 0)
            if len(old) == len(new):
                self._lines[group] = new
                self.dataChanged.emit(self.index(0, 0, parent), self.index(len(new) - 1, 0, parent))
                continue
            if old:
                self.beginRemoveRows(parent, 0, len(old) - 1)
                self._lines[group] = []
                self.endRemoveRows()
            if new:
                self.beginInsertRows(parent, 0, len(new) - 1)
                self._lines[group] = new
                self.endInsertRows()

    def _lines_of(self, panel: BuyerPanel | None) -> list[list[Any]]:
        if panel is None:
            return [[] for _ in Group]
        return [
            list(panel.orders),
            source_lines(panel.arrive, self._names()),
            list(panel.sessions),
            list(panel.notes),
            list(panel.tags),
        ]

    # -- the model ------------------------------------------------------------------------------

    def index(self, row: int, column: int, parent: AnyIndex = QModelIndex()) -> QModelIndex:
        if column != 0 or row < 0:
            return QModelIndex()
        if not parent.isValid():
            return self.createIndex(row, 0, 0) if row < len(Group) else QModelIndex()
        if parent.internalId() != 0 or row >= len(self._lines[parent.row()]):
            return QModelIndex()
        return self.createIndex(row, 0, parent.row() + 1)

    def parent(self, child: AnyIndex = QModelIndex()) -> QModelIndex:  # type: ignore[override]
        if not child.isValid() or child.internalId() == 0:
            return QModelIndex()
        return self.createIndex(child.internalId() - 1, 0, 0)

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:
        if not parent.isValid():
            return len(Group)
        if parent.internalId() != 0:
            return 0
        return len(self._lines[parent.row()])

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:
        return 1

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def item(self, index: AnyIndex) -> Any:
        """The object behind a line (None for a group row)."""
        if not index.isValid() or index.internalId() == 0:
            return None
        return self._lines[index.internalId() - 1][index.row()]

    def group_of(self, index: AnyIndex) -> Group | None:
        if not index.isValid():
            return None
        return Group(index.row() if index.internalId() == 0 else index.internalId() - 1)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        group = self.group_of(index)
        assert group is not None
        if role == GroupRole:
            return group
        if index.internalId() == 0:
            if role == Qt.ItemDataRole.DisplayRole:
                count = len(self._lines[group])
                return group_title(group) + (f" ({count})" if count and group != Group.SOURCE else "")
            return None
        item = self.item(index)
        if role == ItemRole:
            return item
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(item)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tip(item)
        return None

    def _text(self, item: Any) -> str:
        names = self._names()
        if isinstance(item, OrderInfo):
            return order_text(item)
        if isinstance(item, SourceLine):
            return f"{item.label}：{item.value}"
        if isinstance(item, SessionInfo):
            end = (
                QCoreApplication.translate("BuyerPanel", "进行中")
                if item.ended is None
                else time.strftime("%H:%M", time.localtime(item.ended))
            )
            return (
                QCoreApplication.translate("BuyerPanel", "%1–%2 · %3 · %4 条")
                .replace("%1", when(item.started))
                .replace("%2", end)
                .replace("%3", item.name or names.get(item.agent, item.agent))
                .replace("%4", str(item.messages))
            )
        if isinstance(item, NoteInfo):
            return (
                QCoreApplication.translate("BuyerPanel", "%1\n—— %2 %3")
                .replace("%1", item.text)
                .replace("%2", item.name or names.get(item.by, item.by))
                .replace("%3", when(item.at))
            )
        return str(item)

    def _tip(self, item: Any) -> str | None:
        if isinstance(item, OrderInfo):
            return order_tip(item)
        if isinstance(item, SessionInfo):
            return QCoreApplication.translate("BuyerPanel", "双击以只读方式查看这次会话")
        if isinstance(item, NoteInfo):
            return item.text
        return None


class _Tree(QTreeView):
    """Delete removes the selected note or tag; Enter opens the selected past session."""

    delete_pressed = Signal()
    enter_pressed = Signal()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.scheduleDelayedItemsLayout()  # long lines wrap again at the new width

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Delete:
            self.delete_pressed.emit()
            event.accept()
            return
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.enter_pressed.emit()
            event.accept()
            return
        super().keyPressEvent(event)


class BuyerPanelView(QWidget):
    """The panel's widget: the model in a tree, and a box each for a new note and a new tag."""

    note_added = Signal(str, str)  # conversation, text
    note_removed = Signal(str, int)  # conversation, note id
    tag_added = Signal(str, str)  # conversation, tag
    tag_removed = Signal(str, str)  # conversation, tag
    session_requested = Signal(str, int)  # conversation, session id
    card_requested = Signal(str, str, str)  # conversation, CardKind value, order number (issue 13)

    def __init__(self, agent_names: Callable[[], dict[str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("buyerPanel")
        self.model = BuyerPanelModel(agent_names, self)
        self.title = QLabel(QCoreApplication.translate("BuyerPanel", "买家信息"), self)
        self.title.setObjectName("buyerPanelTitle")
        self.tree = _Tree(self)
        self.tree.setObjectName("buyerPanelTree")
        self.tree.setModel(self.model)
        self.tree.setHeaderHidden(True)
        self.tree.setWordWrap(True)
        self.tree.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.tree.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.tree.header().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.tree.setUniformRowHeights(False)
        self.tree.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.orders = OrderActionsDelegate(self.tree)  # 发送订单 / 催付 under each order
        self.tree.setItemDelegate(self.orders)
        self.note_input = QLineEdit(self)
        self.note_input.setObjectName("noteInput")
        self.note_input.setMaxLength(MAX_NOTE)
        self.note_input.setPlaceholderText(
            QCoreApplication.translate("BuyerPanel", "写一条备注，回车保存（全店客服可见）")
        )
        self.tag_input = QLineEdit(self)
        self.tag_input.setObjectName("tagInput")
        self.tag_input.setMaxLength(16)
        self.tag_input.setPlaceholderText(QCoreApplication.translate("BuyerPanel", "加标签"))
        self.tag_button = QPushButton(QCoreApplication.translate("BuyerPanel", "加标签"), self)

        tags = QHBoxLayout()
        tags.addWidget(self.tag_input, 1)
        tags.addWidget(self.tag_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(6)
        layout.addWidget(self.title)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.note_input)
        layout.addLayout(tags)
        self.setMinimumWidth(220)
        self.setEnabled(False)

        self.model.modelReset.connect(self.tree.expandAll)
        self.model.rowsInserted.connect(self._on_model_rows_inserted)
        self.note_input.returnPressed.connect(self._on_note_input_return_pressed)
        self.tag_input.returnPressed.connect(self._on_tag_button_clicked)
        self.tag_button.clicked.connect(self._on_tag_button_clicked)
        self.tree.doubleClicked.connect(self._on_tree_activated)
        self.tree.enter_pressed.connect(self._on_tree_enter_pressed)
        self.tree.delete_pressed.connect(self._on_tree_delete_pressed)
        self.tree.customContextMenuRequested.connect(self._on_tree_context_menu_requested)
        self.orders.card_requested.connect(self._on_orders_card_requested)

    @property
    def conversation(self) -> str | None:
        return self.model.panel.conversation if self.model.panel is not None else None

    def show_panel(self, panel: BuyerPanel | None) -> None:
        self.model.set_panel(panel)
        self.setEnabled(panel is not None)

    # -- slots ----------------------------------------------------------------------------------

    def _on_model_rows_inserted(self, parent: QModelIndex, first: int, last: int) -> None:
        if parent.isValid():
            self.tree.expand(parent)

    def _on_note_input_return_pressed(self) -> None:
        text = self.note_input.text().strip()
        if text and self.conversation is not None:
            self.note_input.clear()
            self.note_added.emit(self.conversation, text)

    def _on_tag_button_clicked(self) -> None:
        tag = self.tag_input.text().strip()
        if tag and self.conversation is not None:
            self.tag_input.clear()
            self.tag_added.emit(self.conversation, tag)

    def _on_tree_activated(self, index: QModelIndex) -> None:
        item = self.model.item(index)
        if isinstance(item, SessionInfo) and self.conversation is not None:
            self.session_requested.emit(self.conversation, item.id)

    def _on_orders_card_requested(self, card: str, order: str) -> None:
        if self.conversation is not None:
            self.card_requested.emit(self.conversation, card, order)

    def _on_tree_enter_pressed(self) -> None:
        self._on_tree_activated(self.tree.currentIndex())

    def _on_tree_delete_pressed(self) -> None:
        self.remove(self.tree.currentIndex())

    def remove(self, index: QModelIndex) -> None:
        """Remove the note or tag at ``index`` (anything else: nothing)."""
        item = self.model.item(index)
        if self.conversation is None:
            return
        if isinstance(item, NoteInfo):
            self.note_removed.emit(self.conversation, item.id)
        elif isinstance(item, str):
            self.tag_removed.emit(self.conversation, item)

    def _on_tree_context_menu_requested(self, at: Any) -> None:
        index = self.tree.indexAt(at)
        item = self.model.item(index)
        menu = QMenu(self)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        if isinstance(item, NoteInfo):
            menu.addAction(QCoreApplication.translate("BuyerPanel", "删除备注"), lambda: self.remove(index))
        elif isinstance(item, str):
            menu.addAction(QCoreApplication.translate("BuyerPanel", "删除标签"), lambda: self.remove(index))
        elif isinstance(item, OrderInfo):
            for kind, label in order_actions(item):
                menu.addAction(label, lambda kind=kind, order=item.id: self._on_orders_card_requested(kind.value, order))
        elif isinstance(item, SessionInfo):
            menu.addAction(
                QCoreApplication.translate("BuyerPanel", "查看这次会话"), lambda: self._on_tree_activated(index)
            )
        else:
            menu.deleteLater()
            return
        menu.popup(self.tree.viewport().mapToGlobal(at))


class SessionDialog(QDialog):
    """One past session of a buyer, read-only: its messages as bubbles, no reply box."""

    def __init__(
        self,
        buyer_name: str,
        session: SessionInfo,
        messages: Sequence[Message],
        clock: Callable[[], float],
        agent_names: dict[str, str],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("sessionDialog")
        agent = session.name or agent_names.get(session.agent, session.agent)
        self.setWindowTitle(
            QCoreApplication.translate("BuyerPanel", "历史会话（只读）：%1 · %2")
            .replace("%1", buyer_name)
            .replace("%2", agent)
        )
        self.messages = MessageModel(lambda _m: Delivery.CONFIRMED, self)
        self.messages.set_messages(messages)
        self.history = QListView(self)
        self.history.setObjectName("sessionHistory")
        self.history.setModel(self.messages)
        self.history.setItemDelegate(
            BubbleDelegate(self.history, clock, lambda: buyer_name, lambda a: agent_names.get(a or "", a or ""))
        )
        self.history.setResizeMode(QListView.ResizeMode.Adjust)
        self.history.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.history.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.history.setWordWrap(True)
        span = (
            QCoreApplication.translate("BuyerPanel", "%1 开始，%2")
            .replace("%1", when(session.started))
            .replace(
                "%2",
                QCoreApplication.translate("BuyerPanel", "进行中")
                if session.ended is None
                else QCoreApplication.translate("BuyerPanel", "%1 结束").replace("%1", when(session.ended)),
            )
        )
        self.info = QLabel(span + QCoreApplication.translate("BuyerPanel", "。只读：不能在这里回复。"), self)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.info)
        layout.addWidget(self.history, 1)
        layout.addWidget(buttons)
        self.resize(520, 560)
