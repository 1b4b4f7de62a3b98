"""The real console against a real server on port 0, driven by keys (issue 4).

The server runs in-process on the same qasync loop as the console; buyers come through the real
buyer client. Nothing of ours is mocked; the tests wait on conditions, never on time.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import qasync
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from console.client.agent import AgentClient
from console.client.buyer import BuyerClient
from console.protocol.messages import Entry, PhraseDraft, PhraseScope
from console.reception.model import Author, MessageKind, Section
from console.routing.events import Status
from console.server.app import Server, ServerConfig
from console.server.limits import Limits
from console.ui.fake_backend import demo_picture
from console.ui.login import Credentials
from console.ui.run import Session, log_in, open_window
from console.ui.state import Connection, Delivery
from tests.server.helpers import PASSWORD, running_server, seed_accounts, write_policy

T = TypeVar("T")


def run_on_qt(qapp: QApplication, coro: Coroutine[Any, Any, T], timeout: float = 45.0) -> T:
    """Run ``coro`` on a qasync loop over the test's QApplication (as ``fenliu console`` does)."""
    qapp.setQuitOnLastWindowClosed(False)  # as run_console: closing a window must not stop the loop
    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)
    try:
        return loop.run_until_complete(asyncio.wait_for(coro, timeout))
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        asyncio.set_event_loop(None)
        loop.close()


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def console(url: str, tmp_path: Path, user: str = "a1"):  # type: ignore[no-untyped-def]
    settings = QSettings(str(tmp_path / "console.ini"), QSettings.Format.IniFormat)
    client = await log_in(Credentials(url, user, PASSWORD), tmp_path / "state")
    session = open_window(client, settings)
    session.window.activateWindow()  # shortcuts are per window: the console has the focus
    try:
        await until(session.window.isActiveWindow)
        yield session
    finally:
        await session.close()


def pending_row(session: Session, buyer: str) -> bool:
    row = session.state.conversations.get(buyer)
    return row is not None and row.section is Section.PENDING


def test_an_agent_answers_a_buyer_with_the_keyboard(qapp: QApplication, qtbot: Any, tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path) as server, console(server.url, tmp_path) as session:
            window = session.window
            qtbot.keyClick(window.reception, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)  # 在线
            await until(lambda: session.state.status == "online")
            assert session.state.connection == Connection.ONLINE

            async with BuyerClient(server.url, "live-b1", "测试买家") as buyer:
                await buyer.arrive(entry=Entry.PRODUCT_DETAIL)
                await buyer.say("这款有货吗")
                await until(lambda: pending_row(session, "live-b1"))
                window.model.flush()  # the list merges bursts for 30 ms; don't wait for its timer

                window.pane.input.setFocus()
                qtbot.keyClick(window.pane.input, Qt.Key.Key_Up, Qt.KeyboardModifier.ControlModifier)  # Ctrl+Up
                opened = window.pane.conversation
                assert opened is not None and opened.id == "live-b1"
                await until(lambda: any(m.text == "这款有货吗" for m in session.state.messages.get("live-b1", [])))
                await until(lambda: window.pane.reason.text().startswith("为什么分给我"))  # the server's "why"
                assert "（R" in window.pane.reason.text()

                received = buyer.subscribe()
                window.pane.input.setPlainText("亲，有货的")
                qtbot.keyClick(window.pane.input, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
                assert session.state.conversations["live-b1"].section is Section.REPLIED  # optimistic, at once
                await received.wait_for(lambda push: getattr(push, "text", None) == "亲，有货的", timeout=10)
                mine = [m for m in session.state.messages["live-b1"] if m.author is Author.AGENT]
                await until(lambda: all(session.state.delivery(m) is Delivery.CONFIRMED
                                        for m in session.state.messages["live-b1"] if m.author is Author.AGENT))
                assert [m.text for m in mine] == ["亲，有货的"]
                await until(lambda: session.state.kpis.received_today == 1)  # live KPI push

    run_on_qt(qapp, scenario())


def test_a_reply_typed_while_the_server_is_down_is_sent_once(qapp: QApplication, qtbot: Any, tmp_path: Path) -> None:
    seed_accounts(tmp_path / "data", write_policy(tmp_path))

    def server(port: int = 0) -> Server:
        return Server(ServerConfig(port=port, data_dir=tmp_path / "data", policy_file=tmp_path / "policy.toml",
                                   limits=Limits()))

    async def scenario() -> None:
        first = server()
        await first.start()
        url, port = first.url, first.port
        async with console(url, tmp_path) as session:
            await session.client.set_status(Status.ONLINE)
            async with BuyerClient(url, "live-b2", "断线买家") as buyer:
                await buyer.arrive(entry=Entry.PRODUCT_DETAIL)
                await buyer.say("在吗")
                await until(lambda: pending_row(session, "live-b2"))
            window = session.window
            window.reception.select_conversation("live-b2")
            window._on_reception_conversation_opened("live-b2")

            await first.stop()  # the server goes away
            await until(lambda: session.state.connection == Connection.RECONNECTING)
            window.pane.input.setPlainText("马上为您查询")
            qtbot.keyClick(window.pane.input, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
            window.pane.send_image(demo_picture(64, 48))  # an image waits in the outbox too (issue 13)
            local = [m for m in session.state.messages["live-b2"] if m.author is Author.AGENT]
            assert [(m.kind, session.state.delivery(m)) for m in local] == [
                (MessageKind.TEXT, Delivery.QUEUED), (MessageKind.IMAGE, Delivery.QUEUED)]
            await until(lambda: len(session.client.outbox) == 2)  # both on disk, nothing failed
            assert [session.state.delivery(m) for m in local] == [Delivery.QUEUED, Delivery.QUEUED]

            again = server(port)  # the same data on the same port: the client finds it again
            await again.start()
            try:
                session.client.retry_now()
                await until(lambda: session.state.connection == Connection.ONLINE, timeout=20)
                await until(lambda: all(session.state.delivery(m) is Delivery.CONFIRMED
                                        for m in session.state.messages["live-b2"]), timeout=20)
                history = await session.client.open("live-b2")
                assert [(m.kind, m.text) for m in history.messages if m.author is Author.AGENT] == [
                    (MessageKind.TEXT, "马上为您查询"), (MessageKind.IMAGE, "[图片]")]
            finally:
                await again.stop()

    run_on_qt(qapp, scenario())


def test_filter_clear_and_going_offline_against_the_server(qapp: QApplication, qtbot: Any, tmp_path: Path) -> None:
    """未付款 filters to the server's list; 清扫 clears on the server; going offline asks, then the
    waiting buyers go to the colleague (R3.3) and leave this console."""
    from PySide6.QtWidgets import QMessageBox

    from console.client.agent import AgentClient
    from console.protocol.messages import OrderState
    from console.ui.reception_delegate import ReceptionDelegate

    async def scenario() -> None:
        async with running_server(tmp_path) as server, console(server.url, tmp_path) as session:
            window, state = session.window, session.state
            await session.client.set_status(Status.ONLINE)
            buyers = [BuyerClient(server.url, f"f-b{i}", f"买家{i}") for i in (1, 2, 3)]
            for buyer in buyers:
                await buyer.connect()
                await buyer.arrive(entry=Entry.PRODUCT_DETAIL)
                await buyer.say("在吗")
            await until(lambda: all(pending_row(session, f"f-b{i}") for i in (1, 2, 3)))
            await buyers[2].order("o-3", OrderState.UNPAID)
            await session.client.reply("f-b3", "亲，已帮您留好")  # answered: moves to 已回复
            await until(lambda: state.conversations["f-b3"].section is Section.REPLIED)
            await until(lambda: state.kpis.not_paid == 1)

            qtbot.mouseClick(window.tiles.tiles["not_paid"], Qt.MouseButton.LeftButton)  # 未付款
            await until(lambda: window.model.visible_ids() == ["f-b3"])
            qtbot.mouseClick(window.filter_bar.clear_button, Qt.MouseButton.LeftButton)
            await until(lambda: len(window.model.visible_ids()) == 3)

            window.model.flush()
            header = window.reception.visualRect(window.model.section_index(Section.REPLIED))
            qtbot.mouseClick(window.reception.viewport(), Qt.MouseButton.LeftButton,
                             pos=ReceptionDelegate.clear_button_rect(header).center())  # 清扫
            await until(lambda: "f-b3" not in window.model.visible_ids())
            snapshot_again = AgentClient(server.url, "a1", PASSWORD, state_dir=tmp_path / "other")
            await snapshot_again.start()
            try:  # the server remembers the clear: a fresh login does not show the row either
                assert "f-b3" not in snapshot_again.view.conversations or snapshot_again.view.conversations["f-b3"].cleared
            finally:
                await snapshot_again.close()

            colleague = AgentClient(server.url, "a2", PASSWORD, state_dir=tmp_path / "a2")
            await colleague.start()
            try:
                await colleague.set_status(Status.ONLINE)
                window.activateWindow()
                await until(window.isActiveWindow)
                qtbot.keyClick(window.reception, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)  # 离线
                dialog = window.controls.offline_dialog
                assert dialog is not None and "2 位买家" in dialog.text()
                qtbot.mouseClick(dialog.button(QMessageBox.StandardButton.Yes), Qt.MouseButton.LeftButton)
                await until(lambda: state.status == "offline")
                await until(lambda: all(colleague.view.conversations.get(f"f-b{i}") is not None for i in (1, 2)))
                assert {colleague.view.conversations[f"f-b{i}"].holder for i in (1, 2)} == {"agent:a2"}
                await until(lambda: not any(pending_row(session, f"f-b{i}") for i in (1, 2)))
            finally:
                await colleague.close()
                for buyer in buyers:
                    await buyer.close()

    run_on_qt(qapp, scenario())


def test_the_login_window_says_why_and_lets_the_agent_try_again(qapp: QApplication, qtbot: Any, tmp_path: Path) -> None:
    """A wrong password shows the server's reason and keeps the window; the right one logs in.
    The server and account are remembered; the password is not."""
    from console.ui.login import LoginDialog
    from console.ui.run import _ask_credentials

    settings = QSettings(str(tmp_path / "console.ini"), QSettings.Format.IniFormat)

    async def scenario() -> None:
        async with running_server(tmp_path) as server:
            asking = asyncio.ensure_future(_ask_credentials(settings, server.url, tmp_path / "state"))
            await until(lambda: any(isinstance(w, LoginDialog) and w.isVisible() for w in qapp.topLevelWidgets()))
            dialog = next(w for w in qapp.topLevelWidgets() if isinstance(w, LoginDialog) and w.isVisible())
            dialog.account.setText("a1")
            dialog.password.setText("not-the-password")
            qtbot.keyClick(dialog.password, Qt.Key.Key_Return)
            await until(lambda: "账号或密码错误" in dialog.error.text())  # the server's refusal, by its code, in Chinese
            assert dialog.password.text() == "" and not asking.done()
            dialog.password.setText(PASSWORD)
            qtbot.keyClick(dialog.password, Qt.Key.Key_Return)
            [client] = await asyncio.wait_for(asking, 15)  # one shop's line: one client
            try:
                assert client.is_online and client.user == "a1"
            finally:
                await client.close()
            assert settings.value("login/server") == server.url and settings.value("login/account") == "a1"
            settings.sync()
            assert PASSWORD not in (tmp_path / "console.ini").read_text(encoding="utf-8")

    run_on_qt(qapp, scenario())


def test_a_reply_to_a_closed_session_is_shown_refused(qapp: QApplication, qtbot: Any, tmp_path: Path) -> None:
    """Issue 12 defect 2 against the server: the refusal reaches the bubble in Chinese and the
    row does not stay in 已回复."""
    async def scenario() -> None:
        async with running_server(tmp_path) as server, console(server.url, tmp_path) as session:
            window, state = session.window, session.state
            await session.client.set_status(Status.ONLINE)
            async with BuyerClient(server.url, "live-b3", "晚到的买家") as buyer:
                await buyer.arrive(entry=Entry.PRODUCT_DETAIL)
                await buyer.say("还在吗")
                await until(lambda: pending_row(session, "live-b3"))
                window.model.flush()
                window.reception.select_conversation("live-b3")
                window._on_reception_conversation_opened("live-b3")
                await session.client.close_conversation("live-b3")  # closed on another console
                window._on_pane_reply_submitted("live-b3", "亲，在的")  # typed just before the close arrived
                await until(lambda: any(state.delivery(m) is Delivery.FAILED
                                        for m in state.messages.get("live-b3", [])))
                failed = next(m for m in state.messages["live-b3"] if state.delivery(m) is Delivery.FAILED)
                assert "会话" in state.failure(failed) and "closed" not in state.failure(failed)
                row = state.conversations.get("live-b3")
                assert row is None or row.section is not Section.REPLIED

    run_on_qt(qapp, scenario())


def test_logging_in_while_the_server_is_down_says_so_and_keeps_the_window(qapp: QApplication, qtbot: Any,
                                                                          tmp_path: Path) -> None:
    """Issue 12 defect 3: the dialog stays, says it is connecting, then that the server cannot be
    reached, after the first failed attempt (not after the 15 s login timeout)."""
    import socket

    from console.ui.login import LoginDialog
    from console.ui.run import _ask_credentials

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = QSettings(str(tmp_path / "console.ini"), QSettings.Format.IniFormat)

    async def scenario() -> None:
        url = f"ws://127.0.0.1:{port}"
        asking = asyncio.ensure_future(_ask_credentials(settings, url, tmp_path / "state"))
        try:
            await until(lambda: any(isinstance(w, LoginDialog) and w.isVisible() for w in qapp.topLevelWidgets()))
            dialog = next(w for w in qapp.topLevelWidgets() if isinstance(w, LoginDialog) and w.isVisible())
            dialog.account.setText("a1")
            dialog.password.setText(PASSWORD)
            qtbot.keyClick(dialog.password, Qt.Key.Key_Return)
            assert dialog.isVisible() and "正在连接" in dialog.error.text()
            started = asyncio.get_running_loop().time()
            await until(lambda: "无法连接服务器" in dialog.error.text(), timeout=30)
            waited = asyncio.get_running_loop().time() - started
            assert dialog.isVisible() and not asking.done()
            assert dialog.buttons.button(dialog.buttons.StandardButton.Ok).isEnabled()
            print(f"unreachable server reported after {waited:.2f} s")
        finally:
            asking.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asking

    run_on_qt(qapp, scenario())


def test_a_shift_at_the_desk_with_keys_only(qapp: QApplication, qtbot: Any, tmp_path: Path) -> None:
    """Issue 12's end-to-end walk with keys: online, Ctrl+Up to the longest wait, the reason
    shown, a reply with Ctrl+Enter, Shift+Tab back to the list, Down to the next buyer, Tab out of
    the reply box, Ctrl+T to transfer another buyer to a colleague with a note (the colleague's
    console shows the buyer with the note), suspend and come back. The first reply is a team quick
    reply found by `/` and its pinyin initials, inserted with Enter, filled with the buyer's name."""
    async def scenario() -> None:
        async with (running_server(tmp_path) as server,
                    console(server.url, tmp_path / "a2", user="a2") as colleague,
                    console(server.url, tmp_path) as session):
            window, state = session.window, session.state
            async with AgentClient(server.url, "sup", PASSWORD, state_dir=tmp_path / "sup") as sup:
                await sup.add_phrases([PhraseDraft(scope=PhraseScope.TEAM, group="售前", title="在的",
                                                   text="{买家}您好，在的，请问有什么可以帮您")])
            assert window.phrases is not None
            await until(lambda: [p.title for p in window.phrases.phrases] == ["在的"])  # pushed by the server
            qtbot.keyClick(window.reception, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)  # 在线
            await until(lambda: state.status == "online")
            buyers = [BuyerClient(server.url, f"k-b{i}", f"键盘买家{i}") for i in (1, 2, 3)]
            try:
                for buyer in buyers:  # a2 is offline: all three come to a1
                    await buyer.connect()
                    await buyer.arrive(entry=Entry.PRODUCT_DETAIL)
                    await buyer.say("在吗")
                await until(lambda: all(pending_row(session, f"k-b{i}") for i in (1, 2, 3)))
                window.model.flush()

                qtbot.keyClick(window.reception, Qt.Key.Key_Up, Qt.KeyboardModifier.ControlModifier)
                assert window.pane.conversation is not None and window.pane.conversation.id == "k-b1"
                assert window.focusWidget() is window.pane.input
                await until(lambda: window.pane.reason.text().startswith("为什么分给我"))
                QTest.keyClicks(window.pane.input, "/zd")  # 在的, by its pinyin initials
                await until(window.pane.popup.isVisible)
                qtbot.keyClick(window.pane.input, Qt.Key.Key_Return)  # insert it
                await until(lambda: window.pane.input.toPlainText() == "键盘买家1您好，在的，请问有什么可以帮您")
                qtbot.keyClick(window.pane.input, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
                await until(lambda: all(state.delivery(m) is Delivery.CONFIRMED for m in state.messages["k-b1"]))
                assert state.conversations["k-b1"].section is Section.REPLIED

                qtbot.keyClick(window.pane.input, Qt.Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier)
                assert window.focusWidget() is window.reception
                window.model.flush()  # the list merges moves for 30 ms; don't wait for its timer
                window.reception.select_conversation("k-b1")
                qtbot.keyClick(window.reception, Qt.Key.Key_Up)  # k-b3 is above: 待回复 comes first
                assert window.pane.conversation is not None and window.pane.conversation.id == "k-b3"
                window.pane.input.setFocus()
                qtbot.keyClick(window.pane.input, Qt.Key.Key_Tab)
                assert window.pane.input.toPlainText() == "" and window.focusWidget() is window.pane.send_button

                # the colleague comes online on their own console
                colleague.window.activateWindow()
                await until(colleague.window.isActiveWindow)
                qtbot.keyClick(colleague.window.reception, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
                await until(lambda: colleague.state.status == "online")
                window.activateWindow()
                await until(window.isActiveWindow)
                # the open buyer, k-b3, goes to 阿杰 with a note: Ctrl+T, Tab, the note, Enter
                qtbot.keyClick(window.pane.send_button, Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier)
                dialog = window.transfer_dialog
                assert dialog is not None
                await until(lambda: dialog.chosen() is not None)
                chosen = dialog.chosen()
                assert chosen is not None and chosen.id == "a2" and dialog.focusWidget() is dialog.targets
                qtbot.keyClick(dialog.targets, Qt.Key.Key_Tab)
                assert dialog.focusWidget() is dialog.note
                typed = QInputMethodEvent()  # Chinese comes from the input method, as a commit
                typed.setCommitString("要发票，抬头已发")
                QApplication.sendEvent(dialog.note, typed)
                qtbot.keyClick(dialog.note, Qt.Key.Key_Return)
                await until(lambda: "k-b3" not in state.conversations)
                await until(lambda: "k-b3" in colleague.state.conversations)
                row = colleague.state.conversations["k-b3"]
                assert row.holder == "agent:a2" and row.section is Section.PENDING
                await until(lambda: "要发票" in colleague.state.conversations["k-b3"].last_text)
                await until(lambda: any(m.author is Author.SYSTEM and m.text == "转接备注（小美）：要发票，抬头已发"
                                        for m in colleague.state.messages.get("k-b3", [])))

                window.activateWindow()  # back on a1's console (the colleague's was looked at)
                await until(window.isActiveWindow)
                qtbot.keyClick(window.reception, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)  # 挂起
                await until(lambda: state.status == "suspended")
                qtbot.keyClick(window.reception, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)  # back
                await until(lambda: state.status == "online")
                assert pending_row(session, "k-b2")  # still mine, still waiting
            finally:
                for buyer in buyers:
                    await buyer.close()

    run_on_qt(qapp, scenario())


def test_the_bots_assist_shows_as_bot_replied_on_the_agents_console(qapp: QApplication, qtbot: Any,
                                                                      tmp_path: Path) -> None:
    """Policy bot.assist (issue 12): an FAQ question in the agent's session is answered by the bot at
    once; the agent's row moves to 已被自动回复 with the bot's line, until the agent replies."""
    from tests.server.helpers import POLICY

    assisted = POLICY.replace('handoff_words = ["人工"]', 'handoff_words = ["人工"]\nassist = true')
    assert assisted != POLICY

    async def scenario() -> None:
        async with running_server(tmp_path, policy=assisted) as server, console(server.url, tmp_path) as session:
            window, state = session.window, session.state
            qtbot.keyClick(window.reception, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)  # 在线
            await until(lambda: state.status == "online")
            async with BuyerClient(server.url, "assist-b1", "问发货的买家") as buyer:
                await buyer.arrive(entry=Entry.PRODUCT_DETAIL)
                await buyer.say("什么时候发货")
                await until(lambda: (row := state.conversations.get("assist-b1")) is not None
                            and row.section is Section.BOT_REPLIED)
                assert state.conversations["assist-b1"].holder == "agent:a1"
                assert [m.author for m in state.messages["assist-b1"]] == [Author.BUYER, Author.BOT]
                window.model.flush()
                window.reception.select_conversation("assist-b1")
                window.reception.conversation_opened.emit("assist-b1")  # what a click on the row does
                await until(lambda: window.pane.conversation is not None and window.pane.input.isEnabled())
                window.pane.input.setFocus()
                window.pane.input.insertPlainText("亲，今天就发")
                qtbot.keyClick(window.pane.input, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
                await until(lambda: state.conversations["assist-b1"].section is Section.REPLIED)

    run_on_qt(qapp, scenario())
