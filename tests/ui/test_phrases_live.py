"""Quick replies end to end (issue 12): the real console and a real server on port 0, by keys.

The supervisor adds a team phrase from another client; the agent's open console shows it at
once (the server's push), "/" and its pinyin initials find it, Enter inserts it with the buyer's
name, the agent's name and the order number the server knows, Ctrl+Enter sends it and the buyer
receives the filled text. A phrase added in the console's manager is on the server afterwards.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from console.client.agent import AgentClient
from console.client.buyer import BuyerClient
from console.protocol.messages import AgentMessage, Entry, OrderState, PhraseDraft, PhraseScope
from console.routing.events import Status
from console.ui.phrase_book import ClientPhrases
from console.ui.phrase_manager import PhraseManager
from tests.server.helpers import PASSWORD, running_server
from tests.ui.test_console_live import console, run_on_qt, until


def test_a_team_phrase_reaches_the_console_and_is_sent_filled(qapp: QApplication, qtbot: Any, tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path) as server, console(server.url, tmp_path) as session, \
                AgentClient(server.url, "sup", PASSWORD, state_dir=tmp_path / "sup") as sup:
            window = session.window
            assert isinstance(window.phrases, ClientPhrases) and not window.phrases.may_keep_team
            await session.client.set_status(Status.ONLINE)
            await sup.add_phrases([PhraseDraft(scope=PhraseScope.TEAM, group="物流", title="查物流",
                                               text="{买家}您好，订单{订单号}已发出，我是{客服}", pinned=True)])
            await until(lambda: [p.title for p in window.phrases.phrases] == ["查物流"])  # pushed, not asked

            async with BuyerClient(server.url, "live-q1", "陈女士") as buyer:
                await buyer.arrive(entry=Entry.ORDER_DETAIL)
                await buyer.order("TB2026112600718", OrderState.PAID)
                await buyer.say("我的快递到哪了")
                await until(lambda: "live-q1" in session.state.conversations)
                received = buyer.subscribe()
                window.model.flush()
                qtbot.keyClick(window.reception, Qt.Key.Key_Up, Qt.KeyboardModifier.ControlModifier)
                await until(lambda: window.pane.conversation is not None)
                box = window.pane.input
                box.setFocus()
                await until(box.hasFocus)
                QTest.keyClicks(box, "/cwl")  # 查物流
                await until(window.pane.popup.isVisible)
                QTest.keyClick(box, Qt.Key.Key_Return)
                text = "陈女士您好，订单TB2026112600718已发出，我是小美"
                await until(lambda: box.toPlainText() == text)  # the order number came from the server
                QTest.keyClick(box, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
                said = await received.wait_for(lambda m: isinstance(m, AgentMessage) and m.author.value == "agent",
                                               10.0)
                assert said.text == text

            manager = PhraseManager(window.phrases, window)
            qtbot.addWidget(manager)
            csv = tmp_path / "mine.csv"
            csv.write_bytes("分组,标题,内容,置顶\n常用,稍等,请稍等\n".encode("gbk"))
            assert manager.import_file(csv, PhraseScope.PERSONAL) == []
            await until(lambda: len(window.phrases.phrases) == 2)
            kept = await session.client.get_phrases()  # on the server, not only on screen
            assert [(p.scope, p.title) for p in kept] == [(PhraseScope.TEAM, "查物流"), (PhraseScope.PERSONAL, "稍等")]
            assert [p.title for p in await sup.get_phrases()] == ["查物流"]  # a1's own are a1's

    run_on_qt(qapp, scenario())
