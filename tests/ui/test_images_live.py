"""Images end to end (issue 13): the real console against a real server, a buyer's photo through
the real buyer client, thumbnails fetched and decoded, an agent's paste stored and delivered."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QMimeData
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from console.client.buyer import BuyerClient
from console.protocol.messages import AgentMessage, Entry
from console.reception.model import MessageKind
from console.routing.events import Status
from console.ui.fake_backend import demo_picture
from console.ui.state import Delivery
from tests.server.helpers import running_server
from tests.ui.test_console_live import console, pending_row, run_on_qt, until


def test_a_buyer_photo_shows_and_a_pasted_answer_reaches_the_buyer(qapp: QApplication, qtbot: Any,
                                                                   tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path) as server, console(server.url, tmp_path) as session:
            await session.client.set_status(Status.ONLINE)
            window, state = session.window, session.state
            async with BuyerClient(server.url, "img-b1", "拍照买家") as buyer:
                await buyer.arrive(entry=Entry.PRODUCT_DETAIL)
                await buyer.send_image(demo_picture(900, 700))
                await until(lambda: pending_row(session, "img-b1"))
                assert state.conversations["img-b1"].last_text == "[图片]"
                window.reception.select_conversation("img-b1")
                window._on_reception_conversation_opened("img-b1")
                await until(lambda: any(m.kind is MessageKind.IMAGE for m in state.messages.get("img-b1", [])))
                [photo] = [m for m in state.messages["img-b1"] if m.image is not None]
                assert photo.image is not None
                window.pane.history.scrollToBottom()
                window.pane.history.viewport().repaint()  # the bubble asks its thumbnail
                await until(lambda: window.thumbnails.thumbnail(photo.image.sha256) is not None)  # type: ignore[union-attr]

                received = buyer.subscribe()
                mime = QMimeData()
                pasted = QImage(120, 90, QImage.Format.Format_RGB32)
                pasted.fill(0x3366AA)
                mime.setImageData(pasted)
                window.pane.input.insertFromMimeData(mime)  # Ctrl+V of a screenshot
                push = await received.wait_for(lambda p: isinstance(p, AgentMessage) and p.kind is MessageKind.IMAGE,
                                               timeout=10)
                assert push.image is not None and (push.image.width, push.image.height) == (120, 90)
                assert len(await buyer.fetch_image(push.image.sha256)) == push.image.size
                await until(lambda: all(state.delivery(m) is Delivery.CONFIRMED for m in state.messages["img-b1"]))
                assert not state.local_images  # the server's copy replaced ours

    run_on_qt(qapp, scenario())
