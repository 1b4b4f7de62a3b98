"""The agent's 转接… dialog (issue 12): choices in order, offline colleagues not selectable, a
note of at most 200 characters, and the main window's menu and Ctrl+T around it."""

from __future__ import annotations

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication

from console.protocol.messages import MAX_TRANSFER_NOTE, Colleague, Colleagues, GroupTarget, Status
from console.ui.fake_backend import FakeBackend
from console.ui.main_window import MainWindow
from console.ui.state import ConsoleState
from console.ui.transfer_dialog import AgentTransferDialog, TransferTargetModel
from console.ui.transfer_targets import TransferTarget, targets_from_protocol

ANSWER = Colleagues(agents=[
    Colleague(id="off", name="老张", status=Status.OFFLINE, load=0, cap=8),
    Colleague(id="full", name="小林", status=Status.ONLINE, load=8, cap=8),
    Colleague(id="busy", name="晓晓", status=Status.ONLINE, load=6, cap=8),
    Colleague(id="idle", name="大壮", status=Status.ONLINE, load=1, cap=8),
    Colleague(id="away", name="阿花", status=Status.SUSPENDED, load=0, cap=8),
], groups=[GroupTarget(id="aftersale", name="售后", queues=True)])


def test_available_colleagues_come_first_least_loaded_first() -> None:
    order = [t.id for t in targets_from_protocol(ANSWER)]
    assert order == ["idle", "busy", "full", "away", "aftersale", "off"]


def test_the_model_contract_and_what_each_row_says(qtmodeltester, qapp: QApplication) -> None:
    model = TransferTargetModel()
    targets = targets_from_protocol(ANSWER)
    model.set_targets(targets)
    qtmodeltester.check(model)
    texts = [model.data(model.index(r)) for r in range(model.rowCount())]
    assert texts[0] == "大壮  ·  在线  ·  1/8" and texts[4] == "售后（分组）"
    offline = model.index(len(targets) - 1)
    assert not model.flags(offline) & Qt.ItemFlag.ItemIsEnabled  # R3.5 refuses an offline colleague
    assert model.data(offline, Qt.ItemDataRole.ToolTipRole) == "离线的同事不能接收转接"


def test_the_dialog_sends_the_choice_and_the_note(qtbot, qapp: QApplication) -> None:
    dialog = AgentTransferDialog("b1", "王小姐")
    qtbot.addWidget(dialog)
    sent: list[tuple[str, str, str, str]] = []
    dialog.transfer_requested.connect(lambda *args: sent.append(args))
    dialog.accept()  # nothing listed yet: stays open, sends nothing
    assert not sent and not dialog.send_button.isEnabled()
    dialog.show_targets(targets_from_protocol(ANSWER))
    assert dialog.chosen() == TransferTarget("agent", "idle", "大壮", "online", 1, 8)
    dialog.note.setText("长" * (MAX_TRANSFER_NOTE + 30))
    assert len(dialog.note.text()) == MAX_TRANSFER_NOTE and dialog.count.text() == "200/200"
    dialog.note.setText("  要发票  ")
    dialog.targets.setCurrentIndex(dialog.model.index(4))  # the group
    dialog.accept()
    assert sent == [("b1", "", "aftersale", "要发票")]


def test_offline_only_leaves_nothing_to_send(qtbot, qapp: QApplication) -> None:
    dialog = AgentTransferDialog("b1", "王小姐")
    qtbot.addWidget(dialog)
    dialog.show_targets([TransferTarget("agent", "off", "老张", "offline", 0, 8)])
    assert dialog.chosen() is None and not dialog.send_button.isEnabled()


def test_ctrl_t_transfers_the_open_conversation(qtbot, state: ConsoleState, clock, settings: QSettings) -> None:
    backend = FakeBackend(state, clock)
    window = MainWindow(state, backend, settings, clock)
    qtbot.addWidget(window)
    backend.populate()
    window.model.flush()
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(window.reception, Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier)
    assert window.transfer_dialog is None  # nothing open: nothing to transfer
    qtbot.keyClick(window.reception, Qt.Key.Key_Up, Qt.KeyboardModifier.ControlModifier)
    conversation = window.pane.conversation
    assert conversation is not None
    qtbot.keyClick(window.pane.input, Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier)
    dialog = window.transfer_dialog
    assert dialog is not None and ("get_colleagues", ()) in backend.requests
    qtbot.waitUntil(lambda: dialog.chosen() is not None)
    assert dialog.chosen() is not None and dialog.chosen().id == "xiaoxiao"  # online, 5/10: the least loaded
    dialog.note.setText("买家问发票")
    qtbot.keyClick(dialog.note, Qt.Key.Key_Return)
    assert ("transfer", (conversation.id, "xiaoxiao", "买家问发票")) in backend.requests
    assert conversation.id not in state.conversations and window.transfer_dialog is None


def test_only_the_holders_rows_offer_transfer(qtbot, state: ConsoleState, clock, settings: QSettings) -> None:
    backend = FakeBackend(state, clock)
    window = MainWindow(state, backend, settings, clock)
    qtbot.addWidget(window)
    backend.populate()
    mine = next(c for c in state.conversations.values() if c.open and c.holder == f"agent:{state.agent}")
    assert window.may_transfer(mine.id)
    backend.close(mine.id)  # a closed session cannot be transferred
    assert not window.may_transfer(mine.id)
    window.ask_transfer(mine.id)
    assert window.transfer_dialog is None and window.statusBar().currentMessage() == "只能转接您正在接待的会话"
