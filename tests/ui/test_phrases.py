"""Quick replies in the console (issue 12): the reply box's "/" popup by keys, pinyin initials,
variables on insert, Ctrl+1..9 in the reply box against the window's status keys Ctrl+1/2/3,
the manager dialog and CSV import/export."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from console.protocol.messages import PhraseInfo, PhraseScope
from console.reception.phrases import CsvEncoding, read_csv
from console.ui.fake_backend import FakeBackend
from console.ui.main_window import MainWindow
from console.ui.phrase_book import LocalPhrases
from console.ui.phrase_manager import PhraseManager
from console.ui.phrase_popup import PhraseListModel
from console.ui.state import ConsoleState

TEAM, MINE = PhraseScope.TEAM, PhraseScope.PERSONAL

PHRASES = [
    PhraseInfo(id=1, scope=TEAM, group="售前", title="欢迎", text="{买家}您好，我是{客服}，很高兴为您服务", pinned=True),
    PhraseInfo(id=2, scope=TEAM, group="售后", title="退款进度", text="{买家}，订单{订单号}的退款已提交"),
    PhraseInfo(id=3, scope=TEAM, group="售前", title="发货时间", text="付款后48小时内发货"),
    PhraseInfo(id=4, scope=MINE, title="稍等", text="请稍等，我帮您查一下", pinned=True),
]


@pytest.fixture
def window(qtbot, state: ConsoleState, clock, settings: QSettings) -> MainWindow:
    backend = FakeBackend(state, clock)
    book = LocalPhrases(PHRASES, may_keep_team=False, orders={"b1001": "TB20261126001"})
    main = MainWindow(state, backend, settings, clock, phrases=book)
    book.setParent(main)
    qtbot.addWidget(main)
    backend.populate()
    main.model.flush()
    main.show()
    qtbot.waitExposed(main)
    main.activateWindow()
    qtbot.waitUntil(main.isActiveWindow)
    main.reception.jump_to_first_pending()  # b1001, the longest wait
    qtbot.waitUntil(lambda: main.pane.conversation is not None)
    main.pane.input.setFocus()
    qtbot.waitUntil(main.pane.input.hasFocus)
    return main


def _type(widget: QWidget, text: str) -> None:
    """Chinese arrives as an input method's commit (QTest.keyClicks knows ASCII only)."""
    event = QInputMethodEvent()
    event.setCommitString(text)
    QApplication.sendEvent(widget, event)


def _shown(window: MainWindow) -> list[str]:
    model = window.pane.popup.model
    return [p.title for p in (model.phrase(r) for r in range(model.rowCount())) if p is not None]


def test_the_popup_model_passes_the_model_tester(qtmodeltester) -> None:
    model = PhraseListModel()
    model.set_phrases(PHRASES)
    qtmodeltester.check(model)


def test_slash_searches_by_pinyin_initials_and_enter_inserts_with_variables(qtbot, window: MainWindow) -> None:
    box = window.pane.input
    buyer = window.pane.conversation.name if window.pane.conversation else ""
    QTest.keyClicks(box, "/")
    qtbot.waitUntil(window.pane.popup.isVisible)
    assert _shown(window) == ["欢迎", "退款进度", "发货时间", "稍等"]  # all of them, team first
    QTest.keyClicks(box, "tk")  # pinyin initials of 退款
    assert _shown(window) == ["退款进度"]
    QTest.keyClick(box, Qt.Key.Key_Return)
    assert not window.pane.popup.isVisible()
    assert box.toPlainText() == f"{buyer}，订单TB20261126001的退款已提交"  # the "/tk" replaced, variables filled
    assert window.pane.conversation is not None  # Enter inserted; it did not send


def test_popup_moves_with_arrows_closes_with_esc_and_a_slash_inside_a_word_is_text(qtbot, window: MainWindow) -> None:
    box = window.pane.input
    QTest.keyClicks(box, "1/2")  # a fraction, not a search
    assert not window.pane.popup.isVisible()
    box.clear()
    _type(box, "好的 ")
    QTest.keyClicks(box, "/")
    qtbot.waitUntil(window.pane.popup.isVisible)
    _type(box, "发货")  # by title, typed through the input method
    assert _shown(window) == ["发货时间"]
    QTest.keyClick(box, Qt.Key.Key_Backspace)
    QTest.keyClick(box, Qt.Key.Key_Backspace)
    QTest.keyClick(box, Qt.Key.Key_Down)
    QTest.keyClick(box, Qt.Key.Key_Down)
    assert window.pane.popup.current() == PHRASES[2]
    QTest.keyClick(box, Qt.Key.Key_Escape)
    assert not window.pane.popup.isVisible() and box.toPlainText() == "好的 /"
    QTest.keyClicks(box, "q")  # the dismissed slash stays text until it is typed again
    assert not window.pane.popup.isVisible()
    QTest.keyClicks(box, " /qsd")  # 请稍等: initials of the text
    assert _shown(window) == ["稍等"]
    QTest.keyClick(box, Qt.Key.Key_Tab)
    assert box.toPlainText() == "好的 /q 请稍等，我帮您查一下"


def test_ctrl_digit_inserts_pinned_phrases_in_the_box_and_sets_the_status_elsewhere(qtbot, window: MainWindow) -> None:
    box = window.pane.input
    asked: list[str] = []
    window.controls.status_requested.connect(asked.append)
    QTest.keyClick(box, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)  # the 2nd pinned: 稍等
    assert box.toPlainText() == "请稍等，我帮您查一下"
    QTest.keyClick(box, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert box.toPlainText().endswith(f"{window.pane.conversation.name}您好，我是{window.state.agent_name}，很高兴为您服务")  # type: ignore[union-attr]
    QTest.keyClick(box, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)  # no 3rd pinned: a hint, no status
    assert "第 3 条" in window.statusBar().currentMessage()
    assert asked == []
    window.reception.setFocus()
    qtbot.waitUntil(window.reception.hasFocus)
    with qtbot.waitSignal(window.controls.status_requested) as requested:
        QTest.keyClick(window.reception, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    assert requested.args == ["suspended"]
    assert box.toPlainText().count("请稍等") == 1  # the box did not take it


def test_an_agent_manages_its_own_phrases_and_sees_the_teams_read_only(qtbot, window: MainWindow,
                                                                         tmp_path: Path) -> None:
    window.phrases_action.trigger()
    manager = window.phrase_manager
    assert manager is not None
    qtbot.waitExposed(manager)
    manager.select(1)  # a team phrase: not the agent's to change
    assert not manager.edit_button.isEnabled() and not manager.delete_button.isEnabled()
    manager.select(4)
    assert manager.edit_button.isEnabled()
    manager.pin_button.click()
    assert window.phrases is not None and not window.phrases.get(4).pinned  # type: ignore[union-attr]

    path = tmp_path / "mine.csv"
    path.write_bytes("分组,标题,内容,置顶\n常用,包邮,全国包邮哦,是\n常用,质保,一年质保\n".encode("gbk"))
    assert manager.import_file(path, MINE) == []
    assert [p.title for p in window.phrases.phrases if p.scope is MINE] == ["稍等", "包邮", "质保"]
    out = tmp_path / "out.csv"
    assert manager.export_file(out, MINE, CsvEncoding.GBK)
    assert [d.title for d in read_csv(out.read_bytes(), MINE)] == ["稍等", "包邮", "质保"]

    bad = tmp_path / "bad.csv"
    bad.write_bytes("分组,标题,内容,置顶\n常用,好,好的\n常用,,没有标题\n".encode())
    problems = manager.import_file(bad, MINE)
    assert problems == ["第 3 行：标题为空"]
    assert [p.title for p in window.phrases.phrases if p.scope is MINE] == ["稍等", "包邮", "质保"]  # nothing half
    box = next(w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible())
    box.close()


def test_a_supervisor_edits_a_team_phrase_through_the_editor(qtbot, settings: QSettings, clock) -> None:
    state = ConsoleState("sup", "主管", "supervisor")
    book = LocalPhrases(PHRASES, may_keep_team=True)
    manager = PhraseManager(book)
    qtbot.addWidget(manager)
    manager.show()
    manager.select(2)
    assert manager.edit_button.isEnabled()
    manager.edit_button.click()
    editor = manager.editor
    assert editor is not None and not editor.scope.isEnabled()
    editor.title.setText("退款到账")
    editor.buttons.accepted.emit()
    qtbot.waitUntil(lambda: book.get(2) is not None and book.get(2).title == "退款到账")  # type: ignore[union-attr]
    assert [p.title for p in book.phrases if p.scope is TEAM] == ["欢迎", "退款到账", "发货时间"]
    manager.down_button.click()
    assert [p.title for p in book.phrases if p.scope is TEAM] == ["欢迎", "发货时间", "退款到账"]
    assert state.agent == "sup"


def test_without_quick_replies_the_reply_box_leaves_ctrl_digits_to_the_status_keys(qtbot, state: ConsoleState,
                                                                                    clock, settings: QSettings) -> None:
    backend = FakeBackend(state, clock)
    main = MainWindow(state, backend, settings, clock)  # no phrase book
    qtbot.addWidget(main)
    backend.populate()
    main.show()
    qtbot.waitExposed(main)
    main.activateWindow()
    qtbot.waitUntil(main.isActiveWindow)
    main.reception.jump_to_first_pending()
    main.pane.input.setFocus()
    qtbot.waitUntil(main.pane.input.hasFocus)
    with qtbot.waitSignal(main.controls.status_requested) as requested:
        QTest.keyClick(main.pane.input, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    assert requested.args == ["suspended"]
    QTest.keyClicks(main.pane.input, "/")
    assert not main.pane.popup.isVisible()
    QTest.keyClick(main.pane.input, Qt.Key.Key_Return)  # Enter is still a new line
    assert main.pane.input.toPlainText() == "/\n"
