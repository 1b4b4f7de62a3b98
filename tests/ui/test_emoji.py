"""The reply box's emoji picker and [微笑]-style codes in bubbles and row previews (issue 13)."""

from __future__ import annotations

import msgspec
import pytest
from PySide6.QtCore import QRect, QSettings, Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtTest import QTest

from console.reception.emoji import PICKER
from console.ui.fake_backend import FakeBackend
from console.ui.main_window import MainWindow
from console.ui.message_model import MessageRole
from console.ui.reception_model import ConversationRole
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
    main.reception.jump_to_first_pending()
    qtbot.waitUntil(lambda: main.pane.conversation is not None)
    main.pane.input.setFocus()
    qtbot.waitUntil(main.pane.input.hasFocus)
    return main


def test_ctrl_e_opens_the_grid_arrows_move_and_enter_inserts_at_the_cursor(qtbot, window: MainWindow) -> None:
    pane = window.pane
    QTest.keyClicks(pane.input, "hi ")
    QTest.keyClick(pane.input, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(pane.emoji_picker.isVisible)
    grid = pane.emoji_picker.grid
    assert grid.count() == len(PICKER) and grid.currentRow() == 0
    assert grid.item(0).toolTip() == f"[{PICKER[0][1]}]"
    QTest.keyClick(grid, Qt.Key.Key_Right)
    assert grid.currentRow() == 1
    QTest.keyClick(pane.emoji_picker, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not pane.emoji_picker.isVisible())
    assert pane.input.toPlainText() == "hi " + PICKER[1][0]
    qtbot.waitUntil(pane.input.hasFocus)  # back in the reply box: typing goes on

    pane.emoji_button.click()  # the button opens it too; Esc closes it, nothing inserted
    qtbot.waitUntil(pane.emoji_picker.isVisible)
    QTest.keyClick(pane.emoji_picker.grid, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not pane.emoji_picker.isVisible())
    assert pane.input.toPlainText() == "hi " + PICKER[1][0]


def test_platform_codes_show_as_emoji_in_bubbles_and_row_previews(qtbot, window: MainWindow) -> None:
    pane = window.pane
    assert pane.conversation is not None
    conversation = pane.conversation.id
    backend = window.backend
    assert isinstance(backend, FakeBackend)
    backend.buyer_writes(conversation, "收到了[微笑][玫瑰]")
    window.model.flush()
    qtbot.waitUntil(lambda: pane.messages.rowCount() > 0 and
                    pane.messages.index(pane.messages.rowCount() - 1).data(MessageRole).text == "收到了[微笑][玫瑰]")
    index = _row_of(window.model, conversation)
    assert index is not None and index.data(ConversationRole).last_text == "收到了[微笑][玫瑰]"  # kept as sent
    assert index.data(Qt.ItemDataRole.ToolTipRole).endswith("收到了🙂🌹")  # shown as emoji
    # the bubble is laid out (and painted) from the emoji text: one line, as wide as that text
    delegate = pane.history.itemDelegate()
    sent = pane.messages.index(pane.messages.rowCount() - 1).data(MessageRole)
    font = pane.history.font()
    as_emoji = msgspec.structs.replace(sent, text="收到了🙂🌹")
    raw = QFontMetrics(font).boundingRect(QRect(0, 0, delegate._text_width(), 100_000),
                                          int(Qt.TextFlag.TextWordWrap) | int(Qt.AlignmentFlag.AlignLeft), sent.text)
    assert delegate._text_rect(sent, font) == delegate._text_rect(as_emoji, font)
    assert raw.width() > delegate._text_rect(sent, font).width()  # the codes' own text would be wider


def _row_of(model, conversation: str):  # type: ignore[no-untyped-def]
    for top in range(model.rowCount()):
        parent = model.index(top, 0)
        for row in range(model.rowCount(parent)):
            index = model.index(row, 0, parent)
            c = index.data(ConversationRole)
            if c is not None and c.id == conversation:
                return index
    return None
