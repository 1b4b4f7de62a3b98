"""``fenliu demo --self-test``: one buyer routed to the console's agent and answered, end to end."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QTextCursor
from PySide6.QtTest import QTest

from console.reception.model import Section
from console.ui.main_window import MainWindow
from console.ui.run import Session, ShopsSession
from console.ui.state import Delivery
from console.ui.supervisor import SupervisorView

TIMEOUT = 90.0
ANSWER_EVERY = 12.0  # seconds between the screenshot run's answers
ANSWER = "您好，这里是分流自检，马上为您处理"
ANSWERS = ("亲，在的～有什么可以帮您", "亲，今天下单48小时内发货哦", "好的亲，已帮您备注", "亲，这款有现货的",
           "亲，默认发中通，顺丰需补差价哦", "亲，尺码表在详情页，165/52建议M码", "亲，领券后下单更优惠哦")


async def _until(condition: Callable[[], bool], timeout: float) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.05)


async def self_test(shops: Session | ShopsSession) -> int:
    """Wait for a waiting buyer of ours, open it with Ctrl+Up, answer with Ctrl+Enter, see it confirmed
    (signed into several shops: in the first one)."""
    session = shops.sessions[0] if isinstance(shops, ShopsSession) else shops
    state, window = session.state, session.window
    mine = f"agent:{state.agent}"

    def waiting() -> str | None:
        for c in state.conversations.values():
            if c.holder == mine and c.section is Section.PENDING and c.waiting_since is not None:
                return c.id
        return None

    try:
        await _until(lambda: waiting() is not None, TIMEOUT)
        window.model.flush()
        window.activateWindow()
        window.pane.input.setFocus()
        QTest.keyClick(window.pane.input, Qt.Key.Key_Up, Qt.KeyboardModifier.ControlModifier)
        opened = window.pane.conversation
        if opened is None:
            print("self-test: FAILED: Ctrl+Up opened no conversation")
            return 1
        window.pane.input.setPlainText(ANSWER)
        QTest.keyClick(window.pane.input, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        await _until(lambda: any(m.text == ANSWER and state.delivery(m) is Delivery.CONFIRMED
                                 for m in state.messages.get(opened.id, [])), 30.0)
        decisions = await session.client.why(opened.id)
    except TimeoutError:
        print(f"self-test: FAILED: no buyer routed to {state.agent} and answered within the time limit")
        return 1
    last = decisions[-1] if decisions else None
    reason = f"{last.why.value} ({last.rule})" if last is not None else "?"
    print(f"self-test: ok: buyer {opened.id} routed to {mine} by {reason}, answered and confirmed")
    return 0


async def _annotate(window: MainWindow, conversation: str) -> None:
    """Tag the open buyer and note something in its panel (unless a colleague already did)."""
    panel = window.buyer_panel
    await _until(lambda: panel.conversation == conversation, 10.0)
    if panel.model.panel is not None and panel.model.panel.notes:
        return
    panel.tag_input.setText("尺码敏感")
    panel.tag_button.click()
    panel.note_input.setText("问过尺码，推荐M码；要发顺丰")
    panel.note_input.returnPressed.emit()
    await _until(lambda: panel.model.panel is not None and bool(panel.model.panel.notes), 5.0)


ROOM_PAGES = ("floor", "day", "shifts", "audit", "what-if")
WHATIF_EDIT = ('mode = "off"', 'mode = "shop"')  # the demo's what-if: today had the queue been on


async def _room_page(room: SupervisorView, page: str) -> None:
    """Show one page of the room as a supervisor would, waiting for what it shows."""
    if page == "day":
        room.pages.setCurrentWidget(room.day_view)
        await _until(lambda: room.day_view.charts is not None, 10.0)
    elif page == "shifts":
        room.pages.setCurrentWidget(room.shifts_view)
        await _until(lambda: bool(room.shifts_view.chart.shifts), 10.0)
    elif page == "audit":
        room.pages.setCurrentWidget(room.audit_view)
        await _until(lambda: room.audit_view.model.rowCount() > 0, 10.0)
    elif page == "what-if":
        view = room.whatif_view
        room.pages.setCurrentWidget(view)
        await _until(lambda: bool(view.editor.toPlainText()), 10.0)
        view.editor.setPlainText(view.editor.toPlainText().replace(*WHATIF_EDIT, 1))
        view.editor.find(WHATIF_EDIT[1])  # the edited line in sight, as the supervisor left it
        view.editor.centerCursor()
        view.run_button.click()
        await _until(lambda: view.comparison is not None or view.run_button.isEnabled(), 60.0)
    await asyncio.sleep(1.0)


def screenshot_after(path: str, seconds: float, page: str = "floor"
                     ) -> Callable[[Session | ShopsSession], Awaitable[int]]:
    """An ``until`` for ``run_console``: let live traffic run, open a conversation (agents) or the
    team tab (supervisors; ``page``: which page of the room), save the window as a PNG, and finish."""

    async def take(shops: Session | ShopsSession) -> int:
        # Signed into several shops (issue 15): every shop is answered, the first one is shown
        # under the shop bar, and the picture is the shops window.
        pages = shops.sessions if isinstance(shops, ShopsSession) else [shops]  # one session a shop
        session = pages[0]
        state, window = session.state, session.window
        loop = asyncio.get_running_loop()
        end = loop.time() + seconds
        answers = iter(ANSWERS * 20 * len(pages))
        while window.supervisor is None and loop.time() < end - ANSWER_EVERY:
            await asyncio.sleep(ANSWER_EVERY)
            for shop in pages:
                # As an agent would: answer the buyer who just wrote, so the ones who wrote long ago
                # show their reply timers turning amber and red (CONSOLE.md §6).
                mine = f"agent:{shop.state.agent}"
                fresh = [c for c in shop.state.conversations.values()
                         if c.holder == mine and c.section is Section.PENDING and c.waiting_since is not None]
                if fresh:
                    newest = max(fresh, key=lambda c: c.waiting_since or 0.0)
                    shop.window.model.flush()
                    shop.window.reception.select_conversation(newest.id)
                    shop.window._on_reception_conversation_opened(newest.id)
                    shop.window.pane.input.setPlainText(next(answers))
                    shop.window.pane.send_button.click()
        await asyncio.sleep(max(0.0, end - loop.time()))
        window.model.flush()
        if window.supervisor is not None and window.tabs is not None:
            session.backend.get_team()
            window.tabs.setCurrentIndex(1)
            await asyncio.sleep(1.5)
            room = window.supervisor  # the room (issue 14): the busiest agent's conversations, picked
            busiest = max(range(room.agents_sorted.rowCount()), default=None,
                          key=lambda r: room.agents.row(room.agents_sorted.mapToSource(room.agents_sorted.index(r, 0)).row()).load)
            if busiest is not None:
                room.agent_table.selectRow(busiest)
                with contextlib.suppress(TimeoutError):  # an idle team: the empty list is the picture
                    await _until(lambda: room.picker.model.rowCount() > 0, 5.0)
                room.picker.table.selectRow(0)
                await asyncio.sleep(1.0)
            if page != "floor":
                await _room_page(room, page)
        else:
            window.reception.jump_to_first_pending()  # what Ctrl+Up does: the longest wait
            opened = window.pane.conversation
            if opened is not None:
                await _until(lambda: bool(state.messages.get(opened.id)), 10.0)
                window.pane.input.setPlainText("亲，在的，请问有什么可以帮您？")
                with contextlib.suppress(TimeoutError):  # the buyer panel, annotated as an agent would
                    await _annotate(window, opened.id)
                if window.phrases is not None and window.phrases.phrases:  # a quick-reply search, as typed
                    window.pane.input.setPlainText("亲，在的 ")
                    window.pane.input.moveCursor(QTextCursor.MoveOperation.End)
                    window.pane.input.insertPlainText("/fh")  # 发货: pinyin initials
            window.tick.timeout.emit()  # the timers as of this very second
            await asyncio.sleep(1.0)
        shops.window.grab().save(path)
        print(f"screenshot: {path}")
        return 0

    return take
