"""Cards in the console (issue 13): the product picker (search by pinyin initials, keys, send), the
buyer panel's 发送订单 / 催付 buttons (催付 only on unpaid orders), and cards drawn in bubbles."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtTest import QTest

from console.protocol.cards import OrderCard, PayReminderCard, ProductCard
from console.protocol.messages import OrderState
from console.reception.model import Author, MessageKind
from console.ui.buyer_panel import Group, ItemRole
from console.ui.card_painter import card_lines
from console.ui.fake_backend import FakeBackend
from console.ui.main_window import MainWindow
from console.ui.message_model import MessageRole
from console.ui.product_picker import ProductListModel
from console.ui.state import ConsoleState


@pytest.fixture
def window(qtbot, state: ConsoleState, clock, settings: QSettings) -> MainWindow:
    backend = FakeBackend(state, clock)
    main = MainWindow(state, backend, settings, clock)
    qtbot.addWidget(main)
    backend.populate()
    main.model.flush()
    main.show()
    qtbot.waitExposed(main)
    main.activateWindow()
    qtbot.waitUntil(main.isActiveWindow)
    main.reception.select_conversation("b1001")
    main._on_reception_conversation_opened("b1001")
    qtbot.waitUntil(lambda: main.pane.conversation is not None and main.buyer_panel.conversation == "b1001")
    return main


def _backend(window: MainWindow) -> FakeBackend:
    assert isinstance(window.backend, FakeBackend)
    return window.backend


def _last(window: MainWindow):  # type: ignore[no-untyped-def]
    model = window.pane.messages
    return model.index(model.rowCount() - 1).data(MessageRole)


def test_the_product_picker_finds_by_initials_moves_by_keys_and_sends_a_card(qtbot, qtmodeltester,
                                                                            window: MainWindow) -> None:
    picker = window.pane.product_picker
    window.pane.product_button.click()
    qtbot.waitUntil(lambda: picker.isVisible() and picker.query.hasFocus())
    qtbot.waitUntil(lambda: picker.model.rowCount() == 5)  # nothing typed: the catalogue's first products
    QTest.keyClicks(picker.query, "lyq")
    qtbot.waitUntil(lambda: [p.id for p in picker.model._products] == ["p1001", "p1004"], timeout=3000)
    qtmodeltester.check(picker.model)
    QTest.keyClick(picker.query, Qt.Key.Key_Down)
    assert picker.current() is not None and picker.current().id == "p1004"
    QTest.keyClick(picker.query, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not picker.isVisible())
    assert ("send_card", ("b1001", "product", "p1004")) in _backend(window).requests
    sent = _last(window)
    assert sent.kind is MessageKind.CARD and isinstance(sent.card, ProductCard) and sent.author is Author.AGENT
    assert window.state.conversations["b1001"].last_text == "[商品] 法式方领泡泡袖连衣裙"  # the row's preview

    picker.open_picker()
    QTest.keyClicks(picker.query, "zzz")
    qtbot.waitUntil(lambda: picker.model.rowCount() == 0 and "zzz" in picker.hint.text(), timeout=3000)
    QTest.keyClick(picker.query, Qt.Key.Key_Return)  # nothing to send
    assert picker.isVisible()
    picker.reject()


def test_a_stale_answer_does_not_replace_the_newer_one(qtbot) -> None:
    from console.ui.product_picker import ProductPicker

    picker = ProductPicker()
    qtbot.addWidget(picker)
    picker._ask("lyq")
    picker.show_products("l", [ProductCard(id="x", title="旧的")])  # an answer to an older query
    assert picker.model.rowCount() == 0
    picker.show_products("lyq", [ProductCard(id="p1001", title="碎花连衣裙")])
    assert picker.model.rowCount() == 1
    model = ProductListModel()
    model.set_products([ProductCard(id="p1", title="T恤", price=5900)])
    assert model.index(0).data() == "T恤    ¥59.00"


def test_order_rows_send_an_order_card_and_remind_only_unpaid_ones(qtbot, window: MainWindow) -> None:
    panel = window.buyer_panel
    tree = panel.tree
    orders = panel.model.index(Group.ORDERS, 0)
    unpaid, done = (panel.model.index(row, 0, orders) for row in range(2))
    assert unpaid.data(ItemRole).state is OrderState.UNPAID and done.data(ItemRole).state is OrderState.SUCCESS
    delegate = panel.orders

    def click(index, label: str) -> None:  # type: ignore[no-untyped-def]
        tree.scrollTo(index)
        option = _option(tree, index)
        [rect] = [r for _k, text, r in delegate.button_rects(option, index.data(ItemRole)) if text == label]
        QTest.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())

    assert [text for _k, text, _r in delegate.button_rects(_option(tree, unpaid), unpaid.data(ItemRole))] == [
        "发送订单", "催付"]
    assert [text for _k, text, _r in delegate.button_rects(_option(tree, done), done.data(ItemRole))] == ["发送订单"]
    order = unpaid.data(ItemRole).id
    click(unpaid, "发送订单")
    qtbot.waitUntil(lambda: isinstance(_last(window).card, OrderCard))
    click(unpaid, "催付")
    qtbot.waitUntil(lambda: isinstance(_last(window).card, PayReminderCard))
    assert _backend(window).requests[-2:] == [("send_card", ("b1001", "order", order)),
                                              ("send_card", ("b1001", "pay_reminder", order))]
    head, middle, foot = card_lines(_last(window).card)
    assert head == f"催付 · 订单 {order}" and middle == "待付款 ¥162.00" and foot
    assert window.state.conversations["b1001"].last_text == f"[催付] {order}"


def test_cards_take_their_own_room_in_bubbles_both_ways(qtbot, window: MainWindow) -> None:
    from console.ui.fake_backend import CATALOG

    _backend(window).buyer_card("b1001", CATALOG[0])  # the buyer shares a product
    qtbot.waitUntil(lambda: isinstance(_last(window).card, ProductCard))
    message = _last(window)
    assert message.author is Author.BUYER and message.text == "[商品] 碎花连衣裙 M码"
    delegate = window.pane.history.itemDelegate()
    font = window.pane.history.font()
    rect = delegate._text_rect(message, font)
    plain = delegate._text_rect(type(message)(id=1, conversation="b1001", author=Author.BUYER, text=message.text,
                                              at=message.at), font)
    assert rect.height() > 2 * plain.height() and rect.width() > plain.width()  # a card, not its text line
    assert not window.pane.history.viewport().grab().isNull()  # painted (a Qt warning would fail the test)
    assert card_lines(message.card) == ("碎花连衣裙 M码", "¥159.00", "商品 p1001")


def _option(tree, index):  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QStyleOptionViewItem

    option = QStyleOptionViewItem()
    option.initFrom(tree)
    option.rect = tree.visualRect(index)
    return option

