"""Cards in the real console against a real server on port 0 (issue 13): the buyer's shared
product shows as a card, the product picker searches the server's catalogue by pinyin initials
and sends, 催付 from the panel reaches the buyer side as a typed card. Nothing is mocked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QStyleOptionViewItem

from console.client.buyer import BuyerClient
from console.protocol.cards import PayReminderCard, ProductCard
from console.protocol.messages import AgentMessage, Entry, OrderState
from console.reception.catalog import Product
from console.server.repository.catalog import Catalog
from console.server.store import Store
from console.ui.buyer_panel import Group, ItemRole
from tests.server.helpers import running_server
from tests.ui.test_console_live import console, pending_row, run_on_qt, until


def test_cards_go_both_ways_between_the_console_and_the_buyer_side(qapp: QApplication, qtbot: Any,
                                                                   tmp_path: Path) -> None:
    store = Store.open(tmp_path / "data")
    Catalog(store).put([Product("p-dress", "碎花连衣裙 M码", 15900), Product("p-tee", "纯棉T恤 白色", 5900)], 0.0)
    store.close()

    async def scenario() -> None:
        async with running_server(tmp_path) as server, console(server.url, tmp_path) as session:
            window = session.window
            qtbot.keyClick(window.reception, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)  # 在线
            await until(lambda: session.state.status == "online")
            async with BuyerClient(server.url, "live-c1", "问商品的买家") as buyer:
                received: list[AgentMessage] = []
                buyer.pushes.connect(lambda push: received.append(push) if isinstance(push, AgentMessage) else None)
                await buyer.arrive(entry=Entry.PRODUCT_DETAIL, product="p-dress")
                await buyer.order("TB-c1", OrderState.UNPAID, amount=15900)
                await buyer.share_product("p-dress")  # the buyer's own product card
                await until(lambda: pending_row(session, "live-c1"))
                window.model.flush()
                qtbot.keyClick(window.reception, Qt.Key.Key_Up, Qt.KeyboardModifier.ControlModifier)
                await until(lambda: window.buyer_panel.conversation == "live-c1" and window.pane.messages.rowCount())
                shared = window.pane.messages.message(0)
                assert isinstance(shared.card, ProductCard) and shared.card.title == "碎花连衣裙 M码"

                picker = window.pane.product_picker
                window.pane.product_button.click()
                await until(lambda: picker.isVisible())
                QTest.keyClicks(picker.query, "cmtx")  # 纯棉T恤
                await until(lambda: [p.id for p in picker.model._products] == ["p-tee"])
                QTest.keyClick(picker.query, Qt.Key.Key_Return)
                await until(lambda: any(isinstance(m.card, ProductCard) and m.card.id == "p-tee" for m in received))

                panel = window.buyer_panel
                orders = panel.model.index(Group.ORDERS, 0)
                await until(lambda: panel.model.rowCount(orders) == 1)
                index = panel.model.index(0, 0, orders)
                option = QStyleOptionViewItem()
                option.initFrom(panel.tree)
                option.rect = panel.tree.visualRect(index)
                [remind] = [r for kind, _t, r in panel.orders.button_rects(option, index.data(ItemRole))
                            if kind.value == "pay_reminder"]
                QTest.mouseClick(panel.tree.viewport(), Qt.MouseButton.LeftButton, pos=remind.center())
                await until(lambda: any(isinstance(m.card, PayReminderCard) for m in received))
                [reminder] = [m for m in received if isinstance(m.card, PayReminderCard)]
                assert reminder.text == "[催付] TB-c1" and reminder.card == PayReminderCard(order="TB-c1", amount=15900)
                await until(lambda: session.state.conversations["live-c1"].last_text == "[催付] TB-c1")

    run_on_qt(qapp, scenario())
