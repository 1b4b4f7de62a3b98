"""One console signed into two shops of one real server (issue 15): the shop bar's unread counts,
Ctrl+1..9 to switch, the status of every shop at once, each shop's connection its own."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication, QDialogButtonBox

from console.client.buyer import BuyerClient
from console.client.errors import ClientError
from console.protocol.messages import Entry, ErrorCode, PhraseDraft, PhraseScope
from console.server.app import Server, ServerConfig
from console.ui.errors import error_text
from console.ui.login import Credentials, LoginDialog
from console.ui.run import ShopsSession, add_shop, log_in_all, open_shops
from tests.server.helpers import PASSWORD
from tests.server.test_shops import make_deployment
from tests.ui.test_console_live import run_on_qt, until


@contextlib.asynccontextmanager
async def two_shops(tmp_path: Path) -> AsyncIterator[tuple[Server, ShopsSession]]:
    make_deployment(tmp_path)
    server = Server(ServerConfig(port=0, data_dir=tmp_path / "data", policy_file=tmp_path / "policy.toml"))
    await server.start()
    settings = QSettings(str(tmp_path / "console.ini"), QSettings.Format.IniFormat)
    try:
        clients = await log_in_all([Credentials(server.url, "a1", PASSWORD, "default"),
                                    Credentials(server.url, "a1", PASSWORD, "b")], tmp_path / "state")
        shops = open_shops(clients, settings)
        shops.window.activateWindow()
        try:
            await until(shops.window.isActiveWindow)
            yield server, shops
        finally:
            await shops.close()
    finally:
        await server.stop()


def test_two_shops_in_one_console(qapp: QApplication, qtbot: Any, tmp_path: Path) -> None:
    async def scenario() -> None:
        async with two_shops(tmp_path) as (server, shops):
            window = shops.window
            first, second = shops.sessions
            assert [window.tabs.tabText(i) for i in range(window.tabs.count())] == ["default", "b"]
            assert window.current is not None and window.current.shop == "default"
            assert second.window.pane.input.pinned_modifier == Qt.KeyboardModifier.AltModifier

            # 全部店铺: one click sets the status of both shops
            controls = first.window.controls
            assert controls.scope is not None
            controls.scope.setCurrentIndex(controls.scope.findData("all"))
            assert second.window.controls.for_all_shops  # the scope is the same on every page
            qtbot.mouseClick(controls.buttons["online"], Qt.MouseButton.LeftButton)
            await until(lambda: first.state.status == "online" and second.state.status == "online")

            # a buyer of the shop b: its count shows on b's tab, the shop default's stays empty
            async with BuyerClient(server.url, "shop-b-buyer", "B店买家", shop="b") as buyer:
                await buyer.arrive(entry=Entry.PRODUCT_DETAIL)
                await buyer.say("这款有货吗")
                await until(lambda: window.tabs.tabText(1) == "b (1)")
                assert window.tabs.tabText(0) == "default"
                assert "shop-b-buyer" not in first.state.conversations
                assert window.windowTitle().startswith("(1) ")

                # Ctrl+2 switches to the shop b, from the reply box too; Ctrl+1 back
                first.window.pane.input.setFocus()
                qtbot.keyClick(first.window.pane.input, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
                assert window.current is not None and window.current.shop == "b"
                assert window.stack.currentWidget() is second.window
                # in the shop b, Alt+1 inserts the first pinned phrase (Ctrl+1 switches shops)
                await second.client.add_phrases([PhraseDraft(scope=PhraseScope.PERSONAL, title="稍等",
                                                             text="请稍等，我查一下", pinned=True)])
                second.window.phrases.refresh()  # type: ignore[union-attr]  (the answer went to the caller only)
                await until(lambda: [p.title for p in second.window.phrases.phrases] == ["稍等"])  # type: ignore[union-attr]
                second.window.model.flush()
                qtbot.keyClick(second.window.reception, Qt.Key.Key_Up, Qt.KeyboardModifier.ControlModifier)
                await until(lambda: second.window.pane.conversation is not None)
                box = second.window.pane.input
                box.setFocus()
                await until(box.hasFocus)
                qtbot.keyClick(box, Qt.Key.Key_1, Qt.KeyboardModifier.AltModifier)
                assert box.toPlainText() == "请稍等，我查一下"
                assert window.current.shop == "b"
                qtbot.keyClick(second.window.reception, Qt.Key.Key_9, Qt.KeyboardModifier.ControlModifier)
                assert window.current.shop == "b"  # no ninth shop: nothing happens
                qtbot.keyClick(second.window.reception, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
                assert window.current.shop == "default"

            # the status of one shop only: the shop b goes suspended, the shop default stays online
            second.window.controls.scope.setCurrentIndex(0)  # type: ignore[union-attr]
            assert not controls.for_all_shops
            window.switch_to(1)
            qtbot.keyClick(second.window.reception, Qt.Key.Key_2,
                           Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier)  # Ctrl+Alt+2
            await until(lambda: second.state.status == "suspended")
            assert first.state.status == "online"
            assert "挂起" in window.tabs.tabToolTip(1) and "在线" in window.tabs.tabToolTip(0)  # and the tab's dot

            # each shop's connection is its own: the shop b's client drops and resumes by itself
            assert second.client._link is not None
            await second.client._link.conn.close()  # type: ignore[union-attr]
            await until(lambda: str(second.state.connection) == "reconnecting" or second.client.account is not None)
            await until(lambda: str(second.state.connection) == "online")
            assert str(first.state.connection) == "online"

            second.window.phrases_action.trigger()  # the phrase editor says Alt too
            manager = second.window.phrase_manager
            assert manager is not None
            manager._on_add_clicked()
            assert manager.editor is not None and "Alt+1" in manager.editor.pinned.text()
            manager.editor.reject()
            manager.close()

    run_on_qt(qapp, scenario())


def test_a_console_that_names_no_shop_is_told_to(qapp: QApplication, tmp_path: Path) -> None:
    make_deployment(tmp_path)

    async def scenario() -> None:
        server = Server(ServerConfig(port=0, data_dir=tmp_path / "data", policy_file=tmp_path / "policy.toml"))
        await server.start()
        try:
            for shop in (None, "nope"):
                with pytest.raises(ClientError) as refused:
                    await log_in_all([Credentials(server.url, "a1", PASSWORD, shop)], tmp_path / "state")
                assert (refused.value.code, refused.value.field) == (ErrorCode.NOT_FOUND, "shop")
                assert "店铺" in error_text(refused.value)
            with pytest.raises(ClientError) as refused:  # several shops: the refusal names the shop
                await log_in_all([Credentials(server.url, "a1", PASSWORD, "default"),
                                  Credentials(server.url, "a1", "wrong", "b")], tmp_path / "state")
            assert refused.value.message.startswith("店铺 b：") and refused.value.code is None
        finally:
            await server.stop()

    run_on_qt(qapp, scenario())


def test_the_login_dialog_takes_several_shops(qapp: QApplication, qtbot: Any, tmp_path: Path) -> None:
    settings = QSettings(str(tmp_path / "console.ini"), QSettings.Format.IniFormat)
    dialog = LoginDialog(settings, "ws://127.0.0.1:1")
    qtbot.addWidget(dialog)
    dialog.shop.setText("default")
    dialog.account.setText("a1")
    dialog.password.setText("pw1")
    qtbot.mouseClick(dialog.add_shop_button, Qt.MouseButton.LeftButton)
    [line] = dialog.more
    assert line.account.text() == "a1"  # the same account name is the usual case
    line.shop.setText("b")
    with qtbot.assertNotEmitted(dialog.submitted):
        dialog._on_buttons_accepted()  # the second line has no password yet
    assert "每个店铺" in dialog.error.text()
    assert dialog.password.text() == ""  # an error clears every password
    dialog.password.setText("pw1")
    line.password.setText("pw2")
    with qtbot.waitSignal(dialog.submitted):
        dialog._on_buttons_accepted()
    assert dialog.all_credentials() == [Credentials("ws://127.0.0.1:1", "a1", "pw1", "default"),
                                        Credentials("ws://127.0.0.1:1", "a1", "pw2", "b")]
    again = LoginDialog(settings)  # the shops and accounts come back; never a password
    qtbot.addWidget(again)
    assert (again.shop.text(), [(m.shop.text(), m.account.text(), m.password.text()) for m in again.more]) == \
        ("default", [("b", "a1", "")])


def test_add_a_shop_after_the_first_login(qapp: QApplication, qtbot: Any, tmp_path: Path) -> None:
    make_deployment(tmp_path)

    def dialog() -> LoginDialog | None:
        found = [w for w in QApplication.topLevelWidgets() if isinstance(w, LoginDialog) and w.isVisible()]
        return found[0] if found else None

    async def sign_into(shops: ShopsSession, settings: QSettings, shop: str) -> None:
        task = asyncio.ensure_future(add_shop(shops, settings, tmp_path / "state"))
        await until(lambda: dialog() is not None)
        login = dialog()
        assert login is not None and login.one_more and login.add_shop_button.isHidden()
        login.shop.setText(shop)
        login.account.setText("a1")
        login.password.setText(PASSWORD)
        qtbot.mouseClick(login.buttons.button(QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton)
        await asyncio.wait_for(task, 20)

    async def scenario() -> None:
        server = Server(ServerConfig(port=0, data_dir=tmp_path / "data", policy_file=tmp_path / "policy.toml"))
        await server.start()
        settings = QSettings(str(tmp_path / "console.ini"), QSettings.Format.IniFormat)
        try:
            shops = open_shops(await log_in_all([Credentials(server.url, "a1", PASSWORD, "default")],
                                                tmp_path / "state"), settings)
            try:
                await sign_into(shops, settings, "b")
                assert [p.shop for p in shops.window.pages] == ["default", "b"]
                assert shops.window.current is not None and shops.window.current.shop == "b"
                shops.window.switch_to(0)
                await sign_into(shops, settings, "b")  # again: shown, not added twice
                assert [p.shop for p in shops.window.pages] == ["default", "b"]
                assert shops.window.current.shop == "b"
            finally:
                await shops.close()
        finally:
            await server.stop()

    run_on_qt(qapp, scenario())
