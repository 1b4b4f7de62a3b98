"""Images in the console (issue 13): sent by paste, drop or picker, shown as thumbnails decoded
off the UI thread, opened in a viewer that Esc closes; a refused one stays to be sent again."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import QMimeData, QSettings, Qt, QUrl
from PySide6.QtGui import QImage

from console.reception.model import MessageKind
from console.ui.fake_backend import FakeBackend, demo_picture
from console.ui.main_window import MainWindow
from console.ui.message_model import DeliveryRole, MessageRole
from console.ui.state import ConsoleState, Delivery
from console.ui.thumbnails import THUMB_SIDE, Decoded


@pytest.fixture
def window(qtbot, state: ConsoleState, clock, settings: QSettings) -> MainWindow:
    backend = FakeBackend(state, clock, auto_confirm=True)
    main = MainWindow(state, backend, settings, clock)
    qtbot.addWidget(main)
    backend.populate()
    main.model.flush()
    main.show()
    qtbot.waitExposed(main)
    return main


def _open(qtbot, window: MainWindow, conversation: str) -> None:
    window.reception.select_conversation(conversation)
    window._on_reception_conversation_opened(conversation)
    assert window.pane.conversation is not None and window.pane.conversation.id == conversation


def _backend(window: MainWindow) -> FakeBackend:
    assert isinstance(window.backend, FakeBackend)
    return window.backend


def test_a_buyer_picture_is_a_thumbnail_decoded_off_the_ui_thread(qtbot, window: MainWindow) -> None:
    _open(qtbot, window, "b1002")
    decoded: list[Decoded] = []
    window.thumbnails.decoded.connect(decoded.append)
    message = _backend(window).buyer_sends_image("b1002", demo_picture(1200, 900))
    assert window.state.conversations["b1002"].last_text == "[图片]"  # the row's preview
    last = window.pane.messages.index(window.pane.messages.rowCount() - 1, 0)
    assert last.data(MessageRole).kind is MessageKind.IMAGE
    window.pane.history.scrollToBottom()
    assert message.image is not None
    qtbot.waitUntil(lambda: window.thumbnails.thumbnail(message.image.sha256) is not None)
    [result] = decoded
    assert result.thread != threading.main_thread().name  # a QThreadPool worker, never the UI thread
    assert max(result.image.width(), result.image.height()) == THUMB_SIDE  # scaled while decoding
    rect = window.pane.history.visualRect(last)
    assert rect.height() > 150  # the bubble is sized from the image, not from "[图片]"
    window.grab()  # paints the thumbnail


def test_a_click_opens_the_viewer_and_esc_closes_it(qtbot, window: MainWindow) -> None:
    _open(qtbot, window, "b1002")
    message = _backend(window).buyer_sends_image("b1002", demo_picture(800, 600))
    index = window.pane.messages.index(window.pane.messages.rowCount() - 1, 0)
    window.pane.history.scrollTo(index)
    qtbot.mouseClick(window.pane.history.viewport(), Qt.MouseButton.LeftButton,
                     pos=window.pane.history.visualRect(index).center())
    viewer = window.pane.viewer
    assert viewer is not None and message.image is not None
    qtbot.waitExposed(viewer)
    qtbot.waitUntil(lambda: viewer.picture.image is not None and viewer.picture.image.width() == 800)
    assert "800 × 600" in viewer.status.text()
    qtbot.keyClick(viewer, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: window.pane.viewer is None)


def test_a_pasted_image_is_sent_and_shown_at_once(qtbot, window: MainWindow, tmp_path) -> None:
    _open(qtbot, window, "b1001")
    mime = QMimeData()
    image = QImage(64, 48, QImage.Format.Format_RGB32)
    image.fill(Qt.GlobalColor.darkCyan)
    mime.setImageData(image)
    window.pane.input.insertFromMimeData(mime)  # what Ctrl+V and a drop both do
    sent = [args for name, args in _backend(window).requests if name == "send_image"]
    assert len(sent) == 1 and sent[0][0] == "b1001"
    shown = window.state.messages["b1001"][-1]
    assert shown.kind is MessageKind.IMAGE and shown.image is not None and shown.image.width == 64
    assert window.state.conversations["b1001"].last_text == "[图片]"
    assert window.pane.input.toPlainText() == ""  # nothing pasted as text

    picture = tmp_path / "size chart.png"  # a dropped file: its bytes as they are
    picture.write_bytes(demo_picture(320, 240))
    dropped = QMimeData()
    dropped.setUrls([QUrl.fromLocalFile(str(picture))])
    window.pane.input.insertFromMimeData(dropped)
    assert len([1 for name, _ in _backend(window).requests if name == "send_image"]) == 2

    text = QMimeData()
    text.setText("在的")
    window.pane.input.insertFromMimeData(text)
    assert window.pane.input.toPlainText() == "在的"


def test_a_refused_image_says_why_and_a_click_sends_it_again(qtbot, window: MainWindow) -> None:
    _open(qtbot, window, "b1001")
    backend = _backend(window)
    backend.refuse_images = "图片无法使用：不是 PNG、JPEG、GIF、WebP 图片，已损坏，或像素过多"
    window.pane.send_image(demo_picture(200, 150))
    row = window.pane.messages.rowCount() - 1
    index = window.pane.messages.index(row, 0)
    assert index.data(DeliveryRole) == Delivery.FAILED
    client_id = index.data(MessageRole).client_id
    assert client_id in window.state.local_images  # kept to send again
    backend.refuse_images = ""
    window.pane.history.scrollTo(index)
    qtbot.mouseClick(window.pane.history.viewport(), Qt.MouseButton.LeftButton,
                     pos=window.pane.history.visualRect(index).center())
    retried = [args for name, args in backend.requests if name == "send_image"]
    assert [args[1] for args in retried] == [client_id, client_id]  # the same client_id: stored once
    index = window.pane.messages.index(window.pane.messages.rowCount() - 1, 0)
    assert index.data(DeliveryRole) == Delivery.CONFIRMED and client_id not in window.state.local_images


def test_what_is_not_an_image_is_refused_before_sending(qtbot, window: MainWindow) -> None:
    _open(qtbot, window, "b1001")
    with qtbot.waitSignal(window.pane.image_refused):
        window.pane.send_image(b"")  # too large (the picker reads nothing of such a file)
    window.pane.image_submitted.emit("b1001", b"#!/bin/sh\necho hi\n")
    assert not [1 for name, _ in _backend(window).requests if name == "send_image"]
    assert "PNG" in window.statusBar().currentMessage()


def test_a_decode_that_finishes_after_its_window_was_deleted_reaches_nobody(qtbot, state: ConsoleState) -> None:
    """The console deletes its window at exit (console.ui.run.delete_window); a thumbnail still
    being decoded then emitted on a deleted object ("Signal source has been deleted" in the worker)."""
    import shiboken6
    from PySide6.QtCore import QRunnable, QThreadPool
    from PySide6.QtWidgets import QWidget

    from console.ui.thumbnails import Thumbnails

    pool = QThreadPool()
    pool.setMaxThreadCount(1)
    release = threading.Event()

    class Hold(QRunnable):
        def run(self) -> None:
            release.wait(10)

    owner = QWidget()
    thumbnails = Thumbnails(state, lambda *args: None, parent=owner, pool=pool)
    pool.start(Hold())  # the decode waits behind this one
    thumbnails.request("b1001", "ab" * 32, local=demo_picture(64, 48))
    shiboken6.delete(owner)  # the window goes, the decode not yet run
    release.set()
    assert pool.waitForDone(10_000)
    qtbot.wait(50)  # the queued result, to no one
