"""Measures the console's windows on the display it is given and prints them as one JSON line.

Run as a child process (``python -m tests.ui.layout_probe``) by ``test_layout.py``, so that
``QT_SCALE_FACTOR`` and the display apply from the start, as on an agent's desktop.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtGui import QFontMetrics, QGuiApplication

from console.ui.app import create_application
from console.ui.fake_backend import ME, FakeBackend
from console.ui.login import LoginDialog
from console.ui.main_window import MainWindow
from console.ui.run import fit_to_screen
from console.ui.state import ConsoleState
from console.ui.supervisor import TransferDialog
from console.ui.team_data import AgentLine


def main() -> int:
    app = create_application([])
    screen = QGuiApplication.primaryScreen()
    available = screen.availableGeometry()
    out: dict[str, object] = {"screen": [available.width(), available.height()],
                              "ratio": screen.devicePixelRatio()}
    now = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        settings = QSettings(str(Path(tmp) / "fenliu.ini"), QSettings.Format.IniFormat)
        for role in ("agent", "supervisor"):
            state = ConsoleState(ME, "阿美", role)
            backend = FakeBackend(state, lambda: now)
            window = MainWindow(state, backend, settings, lambda: now)
            backend.populate()
            fit_to_screen(window)
            window.show()
            for _ in range(10):
                app.processEvents()
            hint = window.minimumSizeHint()
            frame = window.frameGeometry()
            out[role] = {"min": [hint.width(), hint.height()], "size": [window.width(), window.height()],
                         "frame": [frame.x(), frame.y(), frame.width(), frame.height()]}
            window.close()
        login = LoginDialog(settings, "wss://fenliu.shop-example.com:8765")
        login.show()
        for _ in range(10):
            app.processEvents()
        server = login.server
        needed = QFontMetrics(server.font()).horizontalAdvance(server.text())
        out["login"] = {"field": server.width(), "text": needed}
        agents = [AgentLine(id="xiaolin", name="小林", status="online", load=2, cap=8)]
        transfer = TransferDialog("tb_8821377_buyer", agents)
        transfer.show()
        for _ in range(10):
            app.processEvents()
        title = QFontMetrics(app.font()).horizontalAdvance(transfer.windowTitle())
        out["transfer"] = {"width": transfer.width(), "title": title}
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
