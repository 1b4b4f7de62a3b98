"""The buyer panel of the real console against a real server on port 0 (issue 12): the buyer
side's order with its items shows when the conversation opens, a note written in the panel comes
back pushed, and an order changed meanwhile is pushed to the open panel. Nothing is mocked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from console.client.buyer import BuyerClient
from console.protocol.messages import Entry, NoteInfo, OrderItem, OrderState
from console.ui.buyer_panel import Group, ItemRole
from tests.server.helpers import running_server
from tests.ui.test_console_live import console, pending_row, run_on_qt, until


def _lines(session: Any, group: Group) -> list[Any]:
    model = session.window.buyer_panel.model
    parent = model.index(group, 0)
    return [model.index(row, 0, parent).data(ItemRole) for row in range(model.rowCount(parent))]


def test_the_panel_shows_the_buyers_order_and_shared_notes_live(qapp: QApplication, qtbot: Any,
                                                                 tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path) as server, console(server.url, tmp_path) as session:
            window = session.window
            qtbot.keyClick(window.reception, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)  # 在线
            await until(lambda: session.state.status == "online")
            async with BuyerClient(server.url, "live-p1", "下单的买家") as buyer:
                await buyer.arrive(entry=Entry.PRODUCT_DETAIL, product="p-tee", crowd=["vip"])
                await buyer.order("TB-live-1", OrderState.UNPAID, items=[OrderItem(title="纯棉T恤", quantity=2,
                                                                                   price=5900)], amount=11800)
                await buyer.say("拍了，什么时候发货")
                await until(lambda: pending_row(session, "live-p1"))
                window.model.flush()
                qtbot.keyClick(window.reception, Qt.Key.Key_Up, Qt.KeyboardModifier.ControlModifier)  # Ctrl+Up
                await until(lambda: window.buyer_panel.conversation == "live-p1")
                [order] = _lines(session, Group.ORDERS)
                assert (order.id, order.amount, order.items[0].title) == ("TB-live-1", 11800, "纯棉T恤")
                assert window.buyer_panel.model.index(0, 0, window.buyer_panel.model.index(Group.ORDERS, 0)) \
                    .data().startswith("TB-live-1 · 未付款 · ¥118.00")
                assert window.pane.reason.text().startswith("为什么分给我")  # from the panel's why

                window.buyer_panel.note_input.setText("要开发票")
                qtbot.keyClick(window.buyer_panel.note_input, Qt.Key.Key_Return)
                await until(lambda: [n.text for n in _lines(session, Group.NOTES)] == ["要开发票"])
                [note] = _lines(session, Group.NOTES)
                assert isinstance(note, NoteInfo) and note.by == "a1"

                await buyer.order("TB-live-1", OrderState.PAID)  # pushed: panel_updated
                await until(lambda: _lines(session, Group.ORDERS)[0].state is OrderState.PAID)
                assert _lines(session, Group.ORDERS)[0].items[0].title == "纯棉T恤"  # kept

    run_on_qt(qapp, scenario())
