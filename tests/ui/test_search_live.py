"""Search end to end (issue 13): the real console and a real server on port 0, driven by keys.

A buyer writes, the session is closed; Ctrl+F, the agent types part of the line, Enter opens it
read-only (no reply box: the session is over). A second buyer, still in session, is found and
written to from the dialog, and the buyer receives it. The dialog is saved as a picture
(``FENLIU_SCREENSHOTS`` names a folder to keep it in; docs/screenshots/search.png came from here).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtWidgets import QApplication

from console.client.buyer import BuyerClient
from console.protocol.messages import Entry, OrderState, SearchMatch
from console.routing.events import Status
from tests.server.helpers import running_server
from tests.ui.test_console_live import console, run_on_qt, until


def _type(widget: Any, text: str) -> None:
    event = QInputMethodEvent()
    event.setCommitString(text)
    QApplication.sendEvent(widget, event)


def test_find_a_closed_conversation_and_write_to_an_open_one(qapp: QApplication, qtbot: Any, tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path) as server, console(server.url, tmp_path) as session:
            await session.client.set_status(Status.ONLINE)
            window = session.window
            async with BuyerClient(server.url, "live-s1", "陈女士") as first:
                await first.arrive(entry=Entry.PRODUCT_DETAIL, product="p-cup")
                await first.say("上周买的保温杯盖子漏水，订单 TB2026112600718")
                await first.order("TB2026112600718", OrderState.PAID)
                await until(lambda: "live-s1" in session.state.conversations)
                await session.client.reply("live-s1", "亲，给您补发一个新杯盖")
                await session.client.close_conversation("live-s1")
            async with BuyerClient(server.url, "live-s2", "周先生") as second:
                await second.arrive(entry=Entry.PRODUCT_DETAIL, product="p-cup")
                await second.say("保温杯能保温多久")
                await until(lambda: "live-s2" in session.state.conversations)

                qtbot.keyClick(window.reception, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
                dialog = window.search_dialog
                assert dialog is not None and dialog.isVisible()
                _type(dialog.query, "盖子漏水")
                await until(lambda: dialog.shown_query == "盖子漏水")
                assert dialog.model.rowCount() == 1
                hit = dialog.model.hit(0)
                assert hit.conversation == "live-s1" and hit.match is SearchMatch.MESSAGE and not hit.open
                qtbot.keyClick(dialog.query, Qt.Key.Key_Return)
                await until(lambda: dialog.messages.rowCount() == 2)
                assert not dialog.input.isVisible()  # closed: read-only

                dialog.query.clear()
                _type(dialog.query, "00718")  # part of the order number
                await until(lambda: dialog.shown_query == "00718")
                assert [dialog.model.hit(i).match for i in range(dialog.model.rowCount())] == [
                    SearchMatch.ORDER, SearchMatch.MESSAGE]

                dialog.query.clear()
                _type(dialog.query, "保温杯")
                await until(lambda: dialog.shown_query == "保温杯")
                hits = [dialog.model.hit(i) for i in range(dialog.model.rowCount())]
                assert [(h.conversation, h.match) for h in hits] == [  # newest first
                    ("live-s2", SearchMatch.MESSAGE), ("live-s1", SearchMatch.MESSAGE)]
                qtbot.keyClick(dialog.query, Qt.Key.Key_Return)  # the first, open and ours
                await until(lambda: dialog.conversation is not None and dialog.conversation.id == "live-s2"
                            and dialog.input.isVisible())
                shots = Path(os.environ.get("FENLIU_SCREENSHOTS") or tmp_path)
                shots.mkdir(parents=True, exist_ok=True)
                assert dialog.grab().save(str(shots / "search.png"))
                received = second.subscribe()
                dialog.input.setPlainText("可以保温12小时哦")
                qtbot.keyClick(dialog.input, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
                await received.wait_for(lambda push: getattr(push, "text", None) == "可以保温12小时哦", timeout=10)
                await until(lambda: any(dialog.messages.message(i).text == "可以保温12小时哦"
                                        for i in range(dialog.messages.rowCount())))
                qtbot.keyClick(dialog.query, Qt.Key.Key_Escape)
                assert not dialog.isVisible()

    run_on_qt(qapp, scenario())
