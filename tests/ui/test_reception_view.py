"""The reception list's own view: layout from the section counts, keys, mouse, live moves, cost."""

from __future__ import annotations

import random
from typing import Any

import msgspec
import pytest
from PySide6.QtCore import QEvent, QModelIndex, QObject, QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QContextMenuEvent, QWheelEvent
from PySide6.QtWidgets import QApplication

from console.reception.model import Conversation, Kind, Section
from console.ui.fake_backend import ME, FakeBackend
from console.ui.reception_delegate import HEADER_HEIGHT, HOVER, ROW_HEIGHT, SELECTED, ReceptionDelegate
from console.ui.reception_model import ReceptionModel
from console.ui.reception_view import ReceptionView
from console.ui.state import ConsoleState

from .conftest import NOW


class CountingModel(ReceptionModel):
    """Counts the Python calls a view makes into the model."""

    def __init__(self) -> None:
        super().__init__()
        self.data_calls = 0
        self.index_calls = 0

    def data(self, index: Any, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        self.data_calls += 1
        return super().data(index, role)

    def index(self, row: int, column: int, parent: Any = QModelIndex()) -> QModelIndex:
        self.index_calls += 1
        return super().index(row, column, parent)


class PaintCounter(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.paints = 0

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.paints += 1
        return False


def _view(qtbot, model: ReceptionModel, clock, height: int = 500) -> ReceptionView:
    view = ReceptionView(model, ReceptionDelegate(clock))
    qtbot.addWidget(view)
    view.resize(340, height)
    view.show()
    qtbot.waitExposed(view)
    return view


@pytest.fixture
def view(qtbot, state: ConsoleState, fake: FakeBackend, clock) -> ReceptionView:
    model = ReceptionModel()
    model.load(state.conversations.values())
    state.conversation_updated.connect(model.queue_update)
    state.conversation_removed.connect(model.queue_remove)
    return _view(qtbot, model, clock)


def _model(view: ReceptionView) -> ReceptionModel:
    model = view._model  # noqa: SLF001 (the view's own model, for the tests' look-ups)
    return model


def _row_point(view: ReceptionView, conversation: str) -> QPoint:
    rect = view.visualRect(_model(view).index_of(conversation))
    assert view.viewport().rect().contains(rect)
    return rect.center()


def _pixel(view: ReceptionView, conversation: str) -> QColor:
    """The colour of a row away from its text: its background."""
    rect = view.visualRect(_model(view).index_of(conversation))
    assert view.viewport().rect().contains(rect)
    return view.viewport().grab().toImage().pixelColor(rect.right() - 2, rect.top() + 3)


def _key(qtbot, view: ReceptionView, key: Qt.Key) -> list[str]:
    opened: list[str] = []
    view.conversation_opened.connect(opened.append)
    qtbot.keyClick(view, key)
    view.conversation_opened.disconnect(opened.append)
    return opened


def test_layout_follows_the_section_counts(view: ReceptionView) -> None:
    model = _model(view)
    pending = view.visualRect(model.section_index(Section.PENDING))
    assert (pending.top(), pending.height()) == (0, HEADER_HEIGHT)
    first = view.visualRect(model.index_of("b1001"))
    assert (first.top(), first.height()) == (HEADER_HEIGHT, ROW_HEIGHT)
    bot = view.visualRect(model.section_index(Section.BOT_REPLIED))
    assert bot.top() == HEADER_HEIGHT + 4 * ROW_HEIGHT  # four pending buyers
    total = 5 * HEADER_HEIGHT + 12 * ROW_HEIGHT
    assert view.verticalScrollBar().maximum() == total - view.viewport().height()
    assert view.indexAt(QPoint(10, HEADER_HEIGHT + ROW_HEIGHT + 5)) == model.index_of("b1002")
    assert view.indexAt(QPoint(10, total + 5)) == QModelIndex()
    assert view.accessibleName()


def test_keyboard_navigation(qtbot, view: ReceptionView) -> None:
    view.setFocus()
    assert _key(qtbot, view, Qt.Key.Key_Down) == ["b1001"]  # nothing selected: the first row
    assert _key(qtbot, view, Qt.Key.Key_Up) == []  # already the first
    view.select_conversation("b1004")
    assert _key(qtbot, view, Qt.Key.Key_Down) == ["b1005"]  # over the bot-replied header
    assert _key(qtbot, view, Qt.Key.Key_Up) == ["b1004"]
    view.set_collapsed(Section.BOT_REPLIED, True)
    assert _key(qtbot, view, Qt.Key.Key_Down) == ["b1007"]  # a collapsed section is skipped
    assert _key(qtbot, view, Qt.Key.Key_End) == ["g3002"]
    assert view.verticalScrollBar().value() == view.verticalScrollBar().maximum()
    assert _key(qtbot, view, Qt.Key.Key_Home) == ["b1001"]
    assert view.verticalScrollBar().value() == 0
    with qtbot.waitSignal(view.conversation_opened) as opened:
        qtbot.keyClick(view, Qt.Key.Key_Return)  # Enter opens the current row again
    assert opened.args == ["b1001"]
    paged = _key(qtbot, view, Qt.Key.Key_PageDown)
    assert len(paged) == 1 and view.current_conversation() == paged[0]
    moved = view.visualRect(_model(view).index_of(paged[0])).top()
    assert moved >= view.viewport().height() - 2 * ROW_HEIGHT - HEADER_HEIGHT  # about a page further
    assert view.viewport().rect().contains(view.visualRect(_model(view).index_of(paged[0])))
    assert _key(qtbot, view, Qt.Key.Key_PageUp) == ["b1001"]
    view.set_collapsed(Section.BOT_REPLIED, False)
    view.select_conversation("b1005")
    view.set_collapsed(Section.BOT_REPLIED, True)  # the current row is now hidden: keys go on from its header
    assert _key(qtbot, view, Qt.Key.Key_Up) == ["b1004"]
    view.select_conversation("b1006")
    view.set_collapsed(Section.BOT_REPLIED, True)
    assert _key(qtbot, view, Qt.Key.Key_Down) == ["b1007"]


def test_click_selects_and_opens(qtbot, view: ReceptionView) -> None:
    with qtbot.waitSignal(view.conversation_opened) as opened:
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=_row_point(view, "b1006"))
    assert opened.args == ["b1006"]
    assert view.current_conversation() == "b1006"
    assert view.hasFocus()
    assert _pixel(view, "b1006") == SELECTED


def test_header_click_collapses_except_pending(qtbot, view: ReceptionView) -> None:
    model = _model(view)
    header = view.visualRect(model.section_index(Section.BOT_REPLIED))
    maximum = view.verticalScrollBar().maximum()
    opened: list[str] = []
    view.conversation_opened.connect(opened.append)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(40, header.center().y()))
    assert view.is_collapsed(Section.BOT_REPLIED)
    assert view.visualRect(model.index_of("b1005")).isEmpty()
    assert view.verticalScrollBar().maximum() == max(0, maximum - 2 * ROW_HEIGHT)
    assert view.visualRect(model.section_index(Section.REPLIED)).top() == header.bottom() + 1
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(40, header.center().y()))
    assert not view.is_collapsed(Section.BOT_REPLIED)
    qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(40, header.center().y()))
    assert not view.is_collapsed(Section.BOT_REPLIED)  # a double click is two clicks
    pending = view.visualRect(model.section_index(Section.PENDING))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(40, pending.center().y()))
    assert not view.is_collapsed(Section.PENDING)
    assert opened == []  # a header opens nothing


def test_clear_button_only_on_bot_replied_and_replied(qtbot, view: ReceptionView) -> None:
    model = _model(view)
    requested: list[Section] = []
    view.section_clear_requested.connect(requested.append)
    for section in (Section.PENDING, Section.REPLIED, Section.STAFF):
        button = ReceptionDelegate.clear_button_rect(view.visualRect(model.section_index(section)))
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=button.center())
    assert requested == [Section.REPLIED]
    assert not view.is_collapsed(Section.REPLIED)  # the button does not toggle the section
    assert view.is_collapsed(Section.STAFF)  # elsewhere in a header it does


def test_selection_follows_a_live_move(qtbot, view: ReceptionView, fake: FakeBackend, clock) -> None:
    model = _model(view)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=_row_point(view, "b1006"))
    clock.now += 5
    fake.buyer_writes("b1006", "还在吗")  # bot-replied -> pending: a move into another section
    fake.buyer_writes("b9000", "你好", name="新买家")  # an insert above the old place
    model.flush()
    assert view.current_conversation() == "b1006"
    assert model.index_of("b1006").parent() == model.section_index(Section.PENDING)
    assert _pixel(view, "b1006") == SELECTED
    assert _pixel(view, "b1001") != SELECTED
    with qtbot.waitSignal(view.conversation_opened) as opened:
        qtbot.keyClick(view, Qt.Key.Key_Down)  # navigation goes on from the new place
    assert opened.args == ["b9000"]
    fake.clear_section(Section.REPLIED)
    model.flush()
    view.select_conversation("b1007")  # cleared: gone from the list, nothing to select
    assert view.current_conversation() == "b9000"
    fake.state.remove_conversation("b9000")
    model.flush()
    assert view.current_conversation() is None  # the selected row left the list


def test_select_scrolls_to_the_row(qtbot, state: ConsoleState, clock) -> None:
    model = ReceptionModel()
    model.load(_conversations(300))
    view = _view(qtbot, model, clock, height=400)
    last = model.index(model.rowCount(model.section_index(Section.REPLIED)) - 1, 0,
                       model.section_index(Section.REPLIED))
    conversation = last.data(Qt.ItemDataRole.UserRole).id
    assert not view.viewport().rect().contains(view.visualRect(last))
    view.select_conversation(conversation)
    assert view.verticalScrollBar().value() > 0
    assert view.viewport().rect().contains(view.visualRect(last))
    view.set_collapsed(Section.BOT_REPLIED, True)
    first_bot = model.index(0, 0, model.section_index(Section.BOT_REPLIED)).data(Qt.ItemDataRole.UserRole).id
    view.select_conversation(first_bot)  # in a collapsed section: it opens
    assert not view.is_collapsed(Section.BOT_REPLIED)
    assert view.viewport().rect().contains(view.visualRect(model.index_of(first_bot)))


def test_wheel_hover_and_context_menu(qtbot, view: ReceptionView) -> None:
    viewport = view.viewport()
    view.resize(340, 300)
    qtbot.waitUntil(lambda: view.verticalScrollBar().maximum() > 0)
    centre = QPointF(100, 100)
    wheel = QWheelEvent(centre, QPointF(viewport.mapToGlobal(centre.toPoint())), QPoint(), QPoint(0, -120),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(viewport, wheel)
    assert view.verticalScrollBar().value() > 0
    view.verticalScrollBar().setValue(0)
    qtbot.mouseMove(viewport, _row_point(view, "b1002"))
    qtbot.waitUntil(lambda: _pixel(view, "b1002") == HOVER)
    assert _pixel(view, "b1001") != HOVER
    menus: list[tuple[str, QPoint]] = []
    view.conversation_menu_requested.connect(lambda c, at: menus.append((c, at)))
    point = _row_point(view, "b1003")
    QApplication.sendEvent(viewport, QContextMenuEvent(QContextMenuEvent.Reason.Mouse, point,
                                                       viewport.mapToGlobal(point)))
    assert menus == [("b1003", viewport.mapToGlobal(point))]
    assert view.current_conversation() is None  # a right click opens nothing


def test_flat_list(qtbot, view: ReceptionView) -> None:
    model = _model(view)
    model.set_grouped(False)
    root = model.root_index()
    assert view.visualRect(model.index(0, 0, root)).top() == 0  # no header
    assert view.visualRect(root).isEmpty()
    assert view.verticalScrollBar().maximum() == max(0, 12 * ROW_HEIGHT - view.viewport().height())
    view.setFocus()
    assert _key(qtbot, view, Qt.Key.Key_Down) == [model.index(0, 0, root).data(Qt.ItemDataRole.UserRole).id]
    assert _key(qtbot, view, Qt.Key.Key_Down) == [model.index(1, 0, root).data(Qt.ItemDataRole.UserRole).id]
    assert view.jump_to_first_pending() and view.current_conversation() == "b1001"


def _conversations(count: int, seed: int = 4) -> list[Conversation]:
    rng = random.Random(seed)
    sections = (Section.PENDING, Section.BOT_REPLIED, Section.REPLIED, Section.REPLIED, Section.STAFF, Section.GROUP)
    out = []
    for n in range(count):
        section = rng.choice(sections)
        at = NOW - rng.uniform(10, 30_000)
        out.append(Conversation(
            id=f"c{n:05d}", name=f"买家{n}", kind=Kind.CONSUMER, section=section, holder=f"agent:{ME}",
            last_text="你好", last_at=at, unread=1 if section == Section.PENDING else 0,
            waiting_since=at if section == Section.PENDING else None,
        ))
    return out


def test_a_live_burst_asks_only_for_the_rows_on_screen(qtbot, clock) -> None:
    """5,000 rows and 300 live changes (moves, inserts, removes): the model is asked for the
    visible rows only, not once per row as QTreeView's relayouts did."""
    model = CountingModel()
    conversations = _conversations(5000)
    model.load(conversations)
    view = _view(qtbot, model, clock, height=600)
    counter = PaintCounter()
    view.viewport().installEventFilter(counter)
    view.viewport().update()
    qtbot.waitUntil(lambda: counter.paints > 0)  # the first paint: after it, repaint() paints at once
    model.data_calls = model.index_calls = 0
    rng = random.Random(1)
    sections = list(Section)
    for n in range(300):
        clock.now += 1
        roll = rng.random()
        if roll < 0.1:
            model.queue_remove(rng.choice(conversations).id)
        elif roll < 0.2:
            model.queue_update(Conversation(id=f"new{n}", name="新", kind=Kind.CONSUMER, section=Section.PENDING,
                                            holder=None, last_at=clock.now, waiting_since=clock.now, unread=1))
        else:
            current = rng.choice(conversations)
            model.queue_update(msgspec.structs.replace(current, section=rng.choice(sections), last_at=clock.now))
        if n % 30 == 29:
            model.flush()
            view.viewport().repaint()  # one paint per burst, as the event loop would
    paints = counter.paints
    assert paints >= 10
    assert model.rowCount(model.section_index(Section.REPLIED)) > 1000
    per_paint = view.viewport().height() // ROW_HEIGHT + 2 + 3 * 5  # rows on screen, 3 roles per header
    assert model.data_calls <= paints * per_paint
    assert model.index_calls <= paints * per_paint  # nothing per row of the list on a change


def test_console_state_keeps_the_unread_total(state: ConsoleState, fake: FakeBackend, clock) -> None:
    def recount() -> int:
        return sum(c.unread for c in state.conversations.values() if not c.cleared)

    assert state.unread_total() == recount() == 6
    fake.buyer_writes("b1001", "在吗在吗")
    fake.buyer_writes("b7000", "新来的", name="新买家")
    assert state.unread_total() == recount() == 8
    state.mark_read("b1001")
    state.remove_conversation("b1002")
    state.remove_conversation("nobody")
    assert state.unread_total() == recount() == 4
    state.mark_section_cleared(Section.STAFF)  # a cleared row's unread no longer counts
    assert state.unread_total() == recount() == 3
    state.update_conversation(msgspec.structs.replace(state.conversations["s2001"], cleared=False, unread=4))
    assert state.unread_total() == recount() == 7
    state.load_snapshot(list(state.conversations.values())[:3], state.kpis, "online", 0, 8)
    assert state.unread_total() == recount()


def test_an_empty_list_says_so(qtbot, clock) -> None:
    """Issue 12 defect 8: not a blank white column."""
    view = _view(qtbot, ReceptionModel(), clock)
    image = view.viewport().grab().toImage()
    background = image.pixelColor(2, 2)
    ink = sum(1 for x in range(0, image.width(), 2) for y in range(0, image.height(), 2)
              if image.pixelColor(x, y) != background)
    assert ink > 50, "nothing is drawn in the empty list"
    assert view.empty_text().startswith("暂无会话")
    _model(view).set_filter("not_paid", [])
    assert view.empty_text() == "没有符合筛选的买家"
