"""The search dialog (issue 13): results as you type, highlighted; Enter opens read-only; Esc closes."""

from __future__ import annotations

import msgspec
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtWidgets import QApplication, QWidget

from console.protocol.messages import SearchHit, SearchMatch
from console.reception.model import Author, Conversation, Kind, Message, Section
from console.ui.fake_backend import ME, FakeBackend
from console.ui.main_window import MainWindow
from console.ui.search_dialog import SearchDialog, utf16_offset
from console.ui.search_model import HitRole, SearchFeed, SearchModel
from console.ui.state import ConsoleState

from .conftest import NOW


def _hit(conversation: str, snippet: str, query: str, *, name: str = "王女士", open_: bool = False,
         message_id: int | None = 2, match: SearchMatch = SearchMatch.MESSAGE) -> SearchHit:
    start = snippet.index(query)
    return SearchHit(conversation=conversation, name=name, match=match, snippet=snippet,
                     highlights=[(start, start + len(query))], at=NOW - 3600, message_id=message_id,
                     author=Author.BUYER if message_id else None, open=open_, can_reply=open_)


class FakeSearch:
    """The server's side of search, in memory: answers on the next loop turn, as a server would."""

    def __init__(self, hits: list[SearchHit], rows: dict[str, Conversation], messages: dict[str, list[Message]]) -> None:
        self._feed = SearchFeed()
        self.hits = hits
        self.rows = rows
        self.messages_of = messages
        self.asked: list[tuple[str, int | None]] = []
        self.opened: list[str] = []
        self.contacted: list[str] = []
        self.refuse = ""

    @property
    def feed(self) -> SearchFeed:
        return self._feed

    def search(self, query: str, before: int | None = None) -> None:
        self.asked.append((query, before))
        found = [h for h in self.hits if query.casefold() in h.snippet.casefold()]
        page, rest = (found[:2], found[2:]) if before is None else (found[2:], [])
        QTimer.singleShot(0, lambda: self._feed.results_loaded.emit(query, page, 1 if rest else None, before is not None))

    def contact(self, conversation: str) -> None:
        """再次联系: the server opens a session with us (or refuses when ``refuse`` says why)."""
        self.contacted.append(conversation)
        if self.refuse:
            QTimer.singleShot(0, lambda: self._feed.failed.emit(self.refuse))
            return
        self.rows[conversation] = msgspec.structs.replace(self.rows[conversation], holder=f"agent:{ME}", open=True)
        QTimer.singleShot(0, lambda: self._feed.contacted.emit(conversation))

    def open_history(self, conversation: str) -> None:
        self.opened.append(conversation)
        QTimer.singleShot(0, lambda: self._feed.history_loaded.emit(
            conversation, self.rows[conversation], self.messages_of[conversation]))


def _row(conversation: str, *, holder: str | None) -> Conversation:
    return Conversation(id=conversation, name="王女士", kind=Kind.CONSUMER, section=Section.REPLIED, holder=holder,
                        last_text="", last_at=NOW - 3600, open=holder is not None)


def _source() -> FakeSearch:
    hits = [
        _hit("b1", "收到的杯子有破损", "破损", open_=True),
        _hit("b2", "上次的杯子破损了，补发了吗", "破损"),
        _hit("b3", "外箱破损但东西没事", "破损"),
    ]
    rows = {"b1": _row("b1", holder=f"agent:{ME}"), "b2": _row("b2", holder=None), "b3": _row("b3", holder="agent:a2")}
    messages = {
        b: [Message(id=1, conversation=b, author=Author.BUYER, text="在吗", at=NOW - 4000),
            Message(id=2, conversation=b, author=Author.BUYER, text=h.snippet, at=NOW - 3600)]
        for b, h in zip(("b1", "b2", "b3"), hits, strict=True)
    }
    return FakeSearch(hits, rows, messages)


def _type(widget: QWidget, text: str) -> None:
    """Chinese arrives as an input method's commit (QTest.keyClicks knows ASCII only)."""
    event = QInputMethodEvent()
    event.setCommitString(text)
    QApplication.sendEvent(widget, event)


def _dialog(qtbot, state: ConsoleState, clock, source: FakeSearch) -> SearchDialog:  # type: ignore[no-untyped-def]
    dialog = SearchDialog(state, source, clock)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def test_the_model_hands_out_hits(qtmodeltester) -> None:  # type: ignore[no-untyped-def]
    model = SearchModel()
    hits = _source().hits
    model.load(hits[:2])
    qtmodeltester.check(model, force_py=True)
    model.append(hits[2:])  # the tester stays connected and checks every change
    model.append([])
    assert model.rowCount() == 3 and model.index(2, 0).data(HitRole) is hits[2]
    assert model.index(0, 0).data() == "王女士: 收到的杯子有破损"
    model.load([])
    assert model.rowCount() == 0


def test_typing_searches_and_enter_opens_read_only(qtbot, state: ConsoleState, clock) -> None:  # type: ignore[no-untyped-def]
    source = _source()
    dialog = _dialog(qtbot, state, clock, source)
    with qtbot.waitSignal(source.feed.results_loaded):
        for key in ("破", "损"):  # one search after the pause, not one per key
            _type(dialog.query, key)
    assert source.asked == [("破损", None)]
    assert dialog.model.rowCount() == 2 and dialog.status.text() == "2 条结果"
    assert dialog.more_button.isVisible()
    with qtbot.waitSignal(source.feed.results_loaded):
        dialog.more_button.click()
    assert source.asked[-1] == ("破损", 1) and dialog.model.rowCount() == 3 and not dialog.more_button.isVisible()

    qtbot.keyClick(dialog.query, Qt.Key.Key_Down)  # from the query box into the list
    with qtbot.waitSignal(source.feed.history_loaded):
        qtbot.keyClick(dialog.query, Qt.Key.Key_Return)
    assert source.opened == ["b2"]
    assert [dialog.messages.message(i).text for i in range(dialog.messages.rowCount())] == ["在吗", "上次的杯子破损了，补发了吗"]
    assert not dialog.input.isVisible() and "已结束" in dialog.reachability.text()  # closed: read-only

    with qtbot.waitSignal(source.feed.history_loaded):
        dialog.results.activated.emit(dialog.model.index(2, 0))
    assert not dialog.input.isVisible() and "其他" in dialog.reachability.text()  # someone else's session

    with qtbot.waitSignal(source.feed.history_loaded):
        dialog.open_hit(0)
    assert dialog.input.isVisible()  # open and ours: the buyer can be written to
    dialog.input.setPlainText("给您补发一个新的")
    with qtbot.waitSignal(dialog.reply_submitted) as sent:
        qtbot.keyClick(dialog.input, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert sent.args == ["b1", "给您补发一个新的"]

    qtbot.keyClick(dialog.query, Qt.Key.Key_Escape)
    assert not dialog.isVisible()


def test_an_answer_to_an_older_query_is_dropped(qtbot, state: ConsoleState, clock) -> None:  # type: ignore[no-untyped-def]
    source = _source()
    dialog = _dialog(qtbot, state, clock, source)
    dialog.query.setText("杯子")
    dialog.search_now()
    dialog.query.setText("外箱")
    with qtbot.waitSignals([source.feed.results_loaded, source.feed.results_loaded]):
        dialog.search_now()
    assert [dialog.model.hit(i).conversation for i in range(dialog.model.rowCount())] == ["b3"]
    dialog.query.setText("没有这个")
    with qtbot.waitSignal(source.feed.results_loaded):
        dialog.search_now()
    assert dialog.model.rowCount() == 0 and dialog.status.text() == "没有找到"


def test_highlights_count_code_points_and_qt_utf16() -> None:
    assert utf16_offset("订单😀破损", 3) == 4 and utf16_offset("订单破损", 2) == 2


def test_ctrl_f_opens_the_dialog_and_its_reply_takes_the_window_path(qtbot, state: ConsoleState, clock,  # type: ignore[no-untyped-def]
                                                                    settings) -> None:
    backend = FakeBackend(state, clock)
    source = _source()
    window = MainWindow(state, backend, settings, clock, search=source)
    qtbot.addWidget(window)
    backend.populate()
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    assert window.search_action.shortcut().toString() == "Ctrl+F"
    qtbot.keyClick(window.reception, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    dialog = window.search_dialog
    assert dialog is not None and dialog.isVisible()
    qtbot.waitUntil(dialog.query.hasFocus)
    with qtbot.waitSignal(source.feed.results_loaded):
        _type(dialog.query, "杯子有破")
    with qtbot.waitSignal(source.feed.history_loaded):
        qtbot.keyClick(dialog.query, Qt.Key.Key_Return)
    dialog.grab()  # paints the highlighted results and the bubbles (Qt warnings fail the test)
    dialog.input.setPlainText("马上补发")
    dialog.send_button.click()
    assert [args for name, args in backend.requests if name == "reply"][-1][:2] == ("b1", "马上补发")
    assert [m.text for m in state.messages["b1"]][-1] == "马上补发"  # shown at once, as the pane does
    assert dialog.messages.message(dialog.messages.rowCount() - 1).text == "马上补发"


def test_without_a_source_the_action_is_off(qtbot, state: ConsoleState, clock, settings) -> None:  # type: ignore[no-untyped-def]
    window = MainWindow(state, FakeBackend(state, clock), settings, clock)
    qtbot.addWidget(window)
    assert not window.search_action.isEnabled()


def test_the_dialog_speaks_english_on_request(qtbot, qapp, state: ConsoleState, clock) -> None:  # type: ignore[no-untyped-def]
    from console.ui.app import install_translator

    translators = install_translator(qapp, "en")
    try:
        dialog = SearchDialog(state, _source(), clock)
        qtbot.addWidget(dialog)
        assert dialog.windowTitle() == "Search conversations"
        assert dialog.query.placeholderText() == "Buyer name, order number, product or chat text"
    finally:
        for translator in translators:
            qapp.removeTranslator(translator)


def test_a_result_in_our_list_opens_there(qtbot, state: ConsoleState, clock, settings) -> None:  # type: ignore[no-untyped-def]
    backend = FakeBackend(state, clock)
    window = MainWindow(state, backend, settings, clock, search=_source())
    qtbot.addWidget(window)
    backend.populate()
    listed = next(iter(state.conversations.values()))
    source = FakeSearch([_hit(listed.id, "这件有现货吗", "现货")], {listed.id: listed},
                        {listed.id: [Message(id=2, conversation=listed.id, author=Author.BUYER, text="这件有现货吗",
                                             at=NOW - 60)]})
    window.search_source = source
    window.search_action.trigger()
    dialog = window.search_dialog
    assert dialog is not None
    dialog.query.setText("现货")
    with qtbot.waitSignal(source.feed.results_loaded):
        dialog.search_now()
    with qtbot.waitSignal(source.feed.history_loaded):
        qtbot.keyClick(dialog.query, Qt.Key.Key_Return)
    assert dialog.in_list_button.isVisible()
    with qtbot.waitSignal(dialog.conversation_opened) as opened:
        dialog.in_list_button.click()
    assert opened.args == [listed.id] and not dialog.isVisible()
    assert window.pane.conversation is not None and window.pane.conversation.id == listed.id
    assert ("open_conversation", (listed.id,)) in backend.requests


def test_a_closed_conversation_with_a_reachable_buyer_offers_message_again(qtbot, state: ConsoleState,  # type: ignore[no-untyped-def]
                                                                           clock) -> None:
    """再次联系 (issue 13): shown only for a closed conversation whose hit says reachable; a refusal
    leaves it read-only with the reason; once the server opened the session the reply box shows."""
    source = _source()
    source.hits[1] = msgspec.structs.replace(source.hits[1], reachable=True)  # b2: closed, reachable
    dialog = _dialog(qtbot, state, clock, source)
    with qtbot.waitSignal(source.feed.results_loaded):
        _type(dialog.query, "破损")
    with qtbot.waitSignal(source.feed.history_loaded):
        dialog.open_hit(0)  # b1: ours and open, no 再次联系
    assert not dialog.contact_button.isVisible() and dialog.input.isVisible()
    with qtbot.waitSignal(source.feed.history_loaded):
        dialog.open_hit(1)  # b2
    assert dialog.contact_button.isVisible() and not dialog.input.isVisible()
    source.refuse = "再次联系：买家现在联系不上"
    with qtbot.waitSignal(source.feed.failed):
        dialog.contact_button.click()
    assert not dialog.input.isVisible() and dialog.contact_button.isEnabled()
    assert "联系不上" in dialog.status.text()
    source.refuse = ""
    with qtbot.waitSignal(source.feed.contacted):
        dialog.contact_button.click()
    assert source.contacted == ["b2", "b2"]
    assert dialog.input.isVisible() and not dialog.contact_button.isVisible()
    replies: list[tuple[str, str]] = []
    dialog.reply_submitted.connect(lambda conversation, text: replies.append((conversation, text)))
    dialog.input.setPlainText("您好，补发已经安排了")
    dialog.send_button.click()
    assert replies == [("b2", "您好，补发已经安排了")]
