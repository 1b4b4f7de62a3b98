"""Screenshots of the console with the fake backend, for people to look at (docs/screenshots).

    xvfb-run -a -s "-screen 0 1440x1080x24" .venv/bin/python -m console.ui.screenshot [--lang en] [--only images] [OUTDIR]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from console.ui.app import create_application, install_translator
from console.ui.fake_backend import ME, FakeBackend, demo_picture
from console.ui.main_window import MainWindow
from console.ui.state import Connection, ConsoleState

SIZE = (1360, 1000)


def _settle(app: QApplication, window: MainWindow) -> None:
    window.model.flush()
    for _ in range(5):
        app.processEvents()


def _window(role: str, settings: QSettings, clock: float) -> tuple[MainWindow, FakeBackend]:
    state = ConsoleState(ME, "阿美", role)
    backend = FakeBackend(state, lambda: clock)
    window = MainWindow(state, backend, settings, lambda: clock)
    window.resize(*SIZE)
    backend.populate()
    return window, backend


def images(app: QApplication, outdir: Path, settings: QSettings, now: float, suffix: str = "") -> list[Path]:
    """Issue 13: a buyer's photo and the agent's answer with a size chart in the conversation
    (thumbnails decoded off the UI thread), then the viewer a click opens."""
    window, backend = _window("agent", settings, now)
    window.show()
    _settle(app, window)
    window.reception.select_conversation("b1002")
    window._on_reception_conversation_opened("b1002")
    backend.buyer_writes("b1002", "收到的衣服这里有一块污渍，你看")
    photo = backend.buyer_sends_image("b1002", demo_picture(1080, 810))
    window._on_pane_reply_submitted("b1002", "非常抱歉！我们给您补发一件新的，这是同款的尺码表")
    backend.confirm_replies()
    window.pane.send_image(demo_picture(600, 800, "#7aa6d8"))
    backend.confirm_replies()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(
            m.image is not None and window.thumbnails.thumbnail(m.image.sha256) is None
            for m in backend.state.messages["b1002"]):
        _settle(app, window)
        time.sleep(0.02)
    window.pane.history.scrollToBottom()
    _settle(app, window)
    saved = [outdir / f"images{suffix}.png"]
    window.grab().save(str(saved[0]))
    window.pane.open_viewer(photo)
    viewer = window.pane.viewer
    assert viewer is not None
    viewer.resize(900, 720)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and (viewer.picture.image is None or viewer.picture.image.width() < 1000):
        _settle(app, window)
        time.sleep(0.02)
    _settle(app, window)
    saved.append(outdir / f"image-viewer{suffix}.png")
    viewer.grab().save(str(saved[1]))
    viewer.close()
    window.close()
    return saved


def take(outdir: Path, suffix: str = "", only: str | None = None) -> list[Path]:
    app = create_application([])
    install_translator(app, "zh_CN")
    now = time.time()
    saved: list[Path] = []
    with tempfile.TemporaryDirectory() as tmp:
        settings = QSettings(str(Path(tmp) / "fenliu.ini"), QSettings.Format.IniFormat)
        if only == "images":
            return images(app, outdir, settings, now, suffix)

        window, backend = _window("agent", settings, now)
        window.show()
        _settle(app, window)
        window.reception.select_conversation("b1001")
        window._on_reception_conversation_opened("b1001")
        window._on_pane_reply_submitted("b1001", "亲，有M码的，160/52kg建议拍M码哦")
        backend.confirm_replies()
        backend.state.set_connection(Connection.RECONNECTING)
        window._on_pane_reply_submitted("b1001", "这款今天下单明天就能发货")
        window.pane.input.setPlainText("需要的话我帮您备注")
        _settle(app, window)
        path = outdir / f"console{suffix}.png"
        window.grab().save(str(path))
        saved.append(path)
        window.close()

        window, backend = _window("supervisor", settings, now)
        window.show()
        assert window.tabs is not None and window.supervisor is not None
        window.tabs.setCurrentIndex(1)
        window.supervisor.set_conversation("b1001")
        _settle(app, window)
        path = outdir / f"supervisor{suffix}.png"
        window.grab().save(str(path))
        saved.append(path)
        backend.why("b1001")
        _settle(app, window)
        dialog = window.supervisor.why_dialog
        if dialog is not None:
            path = outdir / f"why{suffix}.png"
            dialog.grab().save(str(path))
            saved.append(path)
            dialog.close()
        window.close()
    return saved


def take_cards(outdir: Path, suffix: str = "") -> list[Path]:
    """Issue 13: a conversation with cards both ways and an image (cards.png): the buyer shares a
    product and sends a photo; the agent answers with emoji codes, a product card and an order card. Then the product picker over it (product-picker.png) and the emoji
    picker (emoji-picker.png)."""
    from console.ui.fake_backend import CATALOG

    app = QApplication.instance() or create_application([])
    assert isinstance(app, QApplication)
    now = time.time()
    saved: list[Path] = []
    with tempfile.TemporaryDirectory() as tmp:
        settings = QSettings(str(Path(tmp) / "fenliu.ini"), QSettings.Format.IniFormat)
        window, backend = _window("agent", settings, now)
        window.show()
        _settle(app, window)
        window.reception.select_conversation("b1001")
        window._on_reception_conversation_opened("b1001")
        backend.buyer_card("b1001", CATALOG[0])
        backend.buyer_writes("b1001", "洗了一次就这样了[委屈]")
        backend.buyer_sends_image("b1001", demo_picture(1080, 810))
        backend.auto_confirm = True
        window._on_pane_reply_submitted("b1001", "亲，非常抱歉[对不起]给您补发一件，同款还有方领的，您看看这款")
        window.pane.card_requested.emit("b1001", "product", "p1004")
        window.buyer_panel.card_requested.emit("b1001", "order", "TB202611260001")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(
                m.image is not None and window.thumbnails.thumbnail(m.image.sha256) is None
                for m in backend.state.messages["b1001"]):
            _settle(app, window)
            time.sleep(0.02)
        _settle(app, window)
        window.pane.history.scrollToBottom()
        _settle(app, window)
        path = outdir / f"cards{suffix}.png"
        window.grab().save(str(path))
        saved.append(path)
        window.pane.product_picker.open_picker()
        window.pane.product_picker.query.setText("lyq")
        window.pane.product_picker._on_timer_timeout()  # as if the typing had paused
        _settle(app, window)
        path = outdir / f"product-picker{suffix}.png"
        window.pane.product_picker.grab().save(str(path))
        saved.append(path)
        window.pane.product_picker.close()
        window.pane.open_emoji_picker()
        _settle(app, window)
        path = outdir / f"emoji-picker{suffix}.png"
        window.pane.emoji_picker.grab().save(str(path))
        saved.append(path)
        window.pane.emoji_picker.close()
        window.close()
    return saved


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("outdir", nargs="?", default="docs/screenshots")
    parser.add_argument("--lang", default="zh_CN")
    parser.add_argument("--only", choices=("images", "cards"), default=None, help="take only these shots")
    args = parser.parse_args()
    app = create_application([])
    if not args.lang.startswith("zh"):
        install_translator(app, args.lang)
    outdir = Path(args.outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    suffix = "" if args.lang.startswith("zh") else f"_{args.lang}"
    shots = [] if args.only == "cards" else take(outdir, suffix, args.only)
    for path in shots + ([] if args.only == "images" else take_cards(outdir, suffix)):
        print(path)


if __name__ == "__main__":
    main()
