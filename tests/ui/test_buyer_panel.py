"""The buyer panel beside the conversation (issue 12, CONSOLE.md §6): its model (through
qtmodeltester, a push for the same buyer changing only the groups that changed), notes and tags
added and removed from the keyboard, a past session opened read-only, and the panel's visibility
remembered."""

from __future__ import annotations

import msgspec
import pytest
from PySide6.QtCore import QModelIndex, QSettings, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLineEdit, QPlainTextEdit, QPushButton

from console.protocol.messages import NoteInfo, OrderState, SessionInfo
from console.ui.buyer_panel import BuyerPanelModel, Group, ItemRole, SessionDialog, SourceLine, source_lines
from console.ui.fake_backend import FakeBackend
from console.ui.main_window import MainWindow
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
    return main


def _backend(window: MainWindow) -> FakeBackend:
    assert isinstance(window.backend, FakeBackend)
    return window.backend


def _lines(model: BuyerPanelModel, group: Group) -> list[object]:
    parent = model.index(group, 0)
    return [model.index(row, 0, parent).data(ItemRole) for row in range(model.rowCount(parent))]


def _open(window: MainWindow, conversation: str) -> None:
    window.reception.select_conversation(conversation)
    window._on_reception_conversation_opened(conversation)


def test_the_model_holds_the_panel_and_a_push_changes_only_what_changed(qtbot, qtmodeltester, state, clock) -> None:
    backend = FakeBackend(state, clock)
    backend.populate()
    model = BuyerPanelModel(lambda: {"xiaolin": "小林", "amei": "阿美"})
    qtmodeltester.check(model)  # empty: the groups only
    panel = backend._panel("b1001")
    model.set_panel(panel)
    qtmodeltester.check(model)
    [unpaid, _done] = _lines(model, Group.ORDERS)
    assert unpaid.state is OrderState.UNPAID
    assert model.index(0, 0, model.index(Group.ORDERS, 0)).data() == \
        "TB202611260001 · 未付款 · ¥162.00\n碎花连衣裙 M码×1、运费险×1"
    source = {line.label: line.value for line in _lines(model, Group.SOURCE) if isinstance(line, SourceLine)}
    assert source == {"入口": "商品详情页", "商品": "碎花连衣裙 M码  ¥159.00", "问题": "尺码推荐", "意图": "咨询尺码",
                      "人群标签": "老客户、88VIP"}
    unknown = msgspec.structs.replace(panel.arrive, product_title=None, product_price=None)
    assert {line.label: line.value for line in source_lines(unknown, {}) if isinstance(line, SourceLine)}["商品"] == \
        "p1001"  # not in the catalogue: its id is all there is
    notes_parent = model.index(Group.NOTES, 0)
    assert model.index(0, 0, notes_parent).data().startswith("老客户，上次要求发顺丰，已备注仓库\n—— 小林 ")

    reset, inserted, removed = [], [], []
    model.modelReset.connect(lambda: reset.append(1))
    model.rowsInserted.connect(lambda parent, first, last: inserted.append((parent.row(), first, last)))
    model.rowsRemoved.connect(lambda parent, first, last: removed.append((parent.row(), first, last)))
    note = NoteInfo(id=99, text="要发顺丰", by="amei", at=clock.now)
    model.set_panel(msgspec.structs.replace(panel, notes=[*panel.notes, note]))  # pushed for the same buyer
    qtmodeltester.check(model)
    assert not reset and removed == [(Group.NOTES, 0, 0)] and inserted == [(Group.NOTES, 0, 1)]
    assert _lines(model, Group.NOTES)[-1] == note and _lines(model, Group.TAGS) == ["爱砍价"]
    model.set_panel(backend._panel("b1002"))  # another buyer: a new panel
    assert reset == [1]
    model.set_panel(None)
    qtmodeltester.check(model)
    assert model.rowCount(model.index(Group.ORDERS, 0)) == 0 and model.rowCount(QModelIndex()) == len(Group)


def test_notes_and_tags_are_added_and_removed_from_the_keyboard(qtbot, window: MainWindow) -> None:
    _open(window, "b1001")
    panel = window.buyer_panel
    qtbot.waitUntil(lambda: panel.conversation == "b1001" and panel.isEnabled())
    panel.note_input.setFocus()
    panel.note_input.insert("已改地址")  # typed (QTest types ASCII only)
    QTest.keyClick(panel.note_input, Qt.Key.Key_Return)
    assert ("add_note", ("b1001", "已改地址")) in _backend(window).requests
    assert [n.text for n in _lines(panel.model, Group.NOTES)][-1] == "已改地址"  # pushed back: shown
    assert panel.note_input.text() == "" and panel.note_input.maxLength() == 500
    panel.tag_input.insert("要发票")
    QTest.keyClick(panel.tag_input, Qt.Key.Key_Return)
    assert _lines(panel.model, Group.TAGS) == ["爱砍价", "要发票"]

    tags = panel.model.index(Group.TAGS, 0)
    panel.tree.setFocus()
    panel.tree.setCurrentIndex(panel.model.index(0, 0, tags))
    QTest.keyClick(panel.tree, Qt.Key.Key_Delete)
    assert ("remove_tag", ("b1001", "爱砍价")) in _backend(window).requests
    assert _lines(panel.model, Group.TAGS) == ["要发票"]
    notes = panel.model.index(Group.NOTES, 0)
    first = panel.model.index(0, 0, notes).data(ItemRole)
    panel.tree.setCurrentIndex(panel.model.index(0, 0, notes))
    QTest.keyClick(panel.tree, Qt.Key.Key_Delete)
    assert ("remove_note", ("b1001", first.id)) in _backend(window).requests
    orders = panel.model.index(Group.ORDERS, 0)
    panel.tree.setCurrentIndex(panel.model.index(0, 0, orders))
    before = len(_backend(window).requests)
    QTest.keyClick(panel.tree, Qt.Key.Key_Delete)  # an order is not the agent's to remove
    assert len(_backend(window).requests) == before


def test_a_past_session_opens_read_only(qtbot, window: MainWindow) -> None:
    _open(window, "b1001")
    panel = window.buyer_panel
    qtbot.waitUntil(lambda: panel.conversation == "b1001")
    sessions = panel.model.index(Group.SESSIONS, 0)
    past = next(panel.model.index(row, 0, sessions) for row in range(panel.model.rowCount(sessions))
                if panel.model.index(row, 0, sessions).data(ItemRole).ended is not None)
    info = past.data(ItemRole)
    assert isinstance(info, SessionInfo) and info.agent == "xiaolin"
    panel.tree.setFocus()
    panel.tree.setCurrentIndex(past)
    with qtbot.waitSignal(window.state.session_loaded):
        QTest.keyClick(panel.tree, Qt.Key.Key_Return)
    dialog = window.session_dialog
    assert isinstance(dialog, SessionDialog)
    qtbot.waitExposed(dialog)
    assert ("get_session", ("b1001", info.id)) in _backend(window).requests
    texts = [dialog.messages.index(row, 0).data(Qt.ItemDataRole.UserRole).text
             for row in range(dialog.messages.rowCount())]
    assert texts[0] == "上次买的T恤有点大，能换小一码吗？" and len(texts) == 3
    # read-only: nothing to type in or send, and the open conversation is untouched
    assert not dialog.findChildren(QPlainTextEdit) and not dialog.findChildren(QLineEdit)
    assert not [b for b in dialog.findChildren(QPushButton) if b.text() == "发送"]
    assert "只读" in dialog.windowTitle()
    assert window.pane.conversation is not None and window.pane.conversation.id == "b1001"
    assert all(m.text != texts[0] for m in window.state.messages["b1001"])


def test_the_panel_collapses_and_is_remembered(qtbot, state, clock, settings: QSettings, window: MainWindow) -> None:
    assert window.buyer_panel.isVisible()
    window.buyer_panel_action.trigger()
    assert not window.buyer_panel.isVisible()
    assert settings.value(f"{state.agent}/buyer_panel", True, bool) is False
    again = MainWindow(ConsoleState(state.agent, "阿美"), FakeBackend(state, clock), settings, clock)
    qtbot.addWidget(again)
    again.show()
    assert not again.buyer_panel.isVisible() and not again.buyer_panel_action.isChecked()
