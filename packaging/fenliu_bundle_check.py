"""Is everything the console needs inside the desktop bundle? ``FENLIU_BUNDLE_CHECK=1 dist/fenliu/fenliu``.

Frozen into the bundle beside the launcher (packaging/launcher.py). It checks what PyInstaller can
miss and what ``fenliu --version`` never touches: every module under ``console`` (the commands are
imported lazily), the resources, the native extensions (argon2's cffi bindings, msgspec, sqlite3),
time-zone data, websockets over loopback inside qasync's Qt event loop, and the Qt side: the
platform plugin, the style sheet, the English translation, and the main window drawn offscreen.

Prints one line per check, then one JSON line with what it found (``tests/packaging`` reads it),
and exits 1 when a check failed. Runs offscreen unless ``QT_QPA_PLATFORM`` says otherwise
(``QT_QPA_PLATFORM=xcb`` under Xvfb tries the real X11 plugin); ``FENLIU_BUNDLE_CHECK_SHOT=FILE.png``
saves the window it drew.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from collections.abc import Callable
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

found: dict[str, Any] = {"frozen": bool(getattr(sys, "frozen", False))}


def check_modules() -> str:
    import importlib
    import pkgutil

    import console

    # console.__main__ is `python -m console`: importing it would run fenliu.
    names = sorted(m.name for m in pkgutil.walk_packages(console.__path__, "console.") if m.name != "console.__main__")
    for name in names:
        importlib.import_module(name)
    found["modules"] = ["console", *names]
    return f"{len(names) + 1} modules under console import"


def check_commands() -> str:
    from console import __version__
    from console.cli import build_parser

    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.dest == "command")
    commands = sorted(subparsers.choices)  # type: ignore[arg-type]
    found["version"] = __version__
    found["commands"] = commands
    return f"fenliu {__version__}: {' '.join(commands)}"


def check_resources() -> str:
    from pathlib import Path

    from console.paths import resources_dir

    root = resources_dir()
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    if not files:
        raise AssertionError(f"no resources at {root}")
    found["resources"] = files
    # Every module-level path into a resources folder (DEFAULT_POLICY, DEFAULT_FAQ, ...) must exist,
    # whichever way its module found the folder.
    pointers = 0
    for name, module in list(sys.modules.items()):
        if name != "console" and not name.startswith("console."):
            continue
        for attr, value in list(vars(module).items()):
            if isinstance(value, Path) and "resources" in value.parts:
                pointers += 1
                if not value.exists():
                    raise AssertionError(f"{name}.{attr} points to a missing file: {value}")
    found["resource_pointers"] = pointers
    return f"{len(files)} files in {root}; {pointers} module-level paths into it exist"


def check_native() -> str:
    import sqlite3
    import zoneinfo
    from datetime import datetime

    import argon2
    import msgspec
    import platformdirs
    import tomli_w

    hasher = argon2.PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
    if not hasher.verify(hasher.hash("分流"), "分流"):
        raise AssertionError("argon2 verify failed")
    if msgspec.json.decode(msgspec.json.encode({"分流": [1, 2]})) != {"分流": [1, 2]}:
        raise AssertionError("msgspec round trip failed")
    with sqlite3.connect(":memory:") as db:
        version = db.execute("select sqlite_version()").fetchone()[0]
    offset = datetime(2024, 11, 11, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai")).utcoffset()
    if offset is None or offset.total_seconds() != 8 * 3600:
        raise AssertionError(f"Asia/Shanghai offset {offset}")
    tomli_w.dumps({"a": 1})
    platformdirs.user_data_dir("fenliu", appauthor=False)
    return f"argon2, msgspec, sqlite {version}, Asia/Shanghai, platformdirs, tomli-w"


def check_qt() -> str:
    import asyncio
    import tempfile
    import time
    from pathlib import Path

    import qasync
    import websockets
    from PySide6.QtCore import QLibraryInfo, QSettings, qVersion
    from PySide6.QtGui import QFontDatabase, QGuiApplication, QImageReader

    from console.ui.app import CJK_FAMILIES, create_application, install_translator
    from console.ui.fake_backend import ME, FakeBackend
    from console.ui.main_window import MainWindow
    from console.ui.state import ConsoleState

    app = create_application(["fenliu"])
    if not app.styleSheet():
        raise AssertionError("the style sheet (resources/styles/console.qss) did not load")
    # Qt finds its own files (plugins, translations) through its prefix, which must be inside the bundle.
    qt_paths = {name: QLibraryInfo.path(getattr(QLibraryInfo.LibraryPath, name))
                for name in ("PrefixPath", "PluginsPath", "TranslationsPath")}
    for name, path in qt_paths.items():
        if not Path(path).is_dir():
            raise AssertionError(f"Qt's {name} is not a folder: {path}")
    translators = install_translator(app, "en")
    if not any("fenliu" in t.filePath() for t in translators):
        raise AssertionError("resources/translations/fenliu_en.qm did not load")
    for translator in translators:
        app.removeTranslator(translator)
    translators = install_translator(app, "zh_CN")
    if not any("qtbase_zh_CN" in t.filePath() for t in translators):
        raise AssertionError(f"Qt's own qtbase_zh_CN.qm did not load from {qt_paths['TranslationsPath']}")
    for translator in translators:
        app.removeTranslator(translator)

    with tempfile.TemporaryDirectory() as tmp:
        settings = QSettings(str(Path(tmp) / "fenliu.ini"), QSettings.Format.IniFormat)
        state = ConsoleState(ME, "阿美", "supervisor")
        now = time.time()
        backend = FakeBackend(state, lambda: now)
        window = MainWindow(state, backend, settings, lambda: now)
        window.resize(1200, 800)
        backend.populate()
        window.show()
        window.model.flush()
        for _ in range(5):
            app.processEvents()
        image = window.grab().toImage()
        shot = os.environ.get("FENLIU_BUNDLE_CHECK_SHOT")  # a PNG of the window, for people to look at
        if shot:
            image.save(shot)
        if image.isNull() or image.width() < 100:
            raise AssertionError("the main window did not draw")
        rows = window.model.rowCount()
        # Dark text on the light style sheet: a drawn window is not one flat colour.
        colours = {image.pixel(x, y) for x in range(0, image.width(), 37) for y in range(0, image.height(), 29)}
        if len(colours) < 3:
            raise AssertionError("the main window drew a blank")
        window.close()
        del settings

    async def echo_round_trip() -> str:
        async def echo(conn: Any) -> None:
            async for message in conn:
                await conn.send(message)

        async with websockets.serve(echo, "127.0.0.1", 0) as server:
            port = server.sockets[0].getsockname()[1]
            async with websockets.connect(f"ws://127.0.0.1:{port}") as client:
                await client.send("分流")
                return str(await asyncio.wait_for(client.recv(), 10))

    loop = qasync.QEventLoop(app)
    try:
        echoed = loop.run_until_complete(echo_round_trip())
    finally:
        loop.close()
    if echoed != "分流":
        raise AssertionError(f"websocket echo gave {echoed!r}")

    families = set(QFontDatabase.families())
    found["qt"] = {
        "version": qVersion(),
        "platform": QGuiApplication.platformName(),
        "image_formats": sorted(bytes(f.data()).decode() for f in QImageReader.supportedImageFormats()),
        "cjk_fonts": [f for f in CJK_FAMILIES if f in families],
        "rows": rows,
        "paths": qt_paths,
    }
    return (f"Qt {qVersion()} on {QGuiApplication.platformName()}: main window drawn ({rows} rows), "
            f"translation and style sheet loaded, websocket echo inside qasync's loop; "
            f"CJK fonts: {', '.join(found['qt']['cjk_fonts']) or 'none (install fonts-noto-cjk)'}")


def check_plots() -> str:
    """The room's day in pictures (pyqtgraph, numpy) imports and draws inside the bundle."""
    import time

    import numpy
    import pyqtgraph
    from PySide6.QtWidgets import QApplication

    from console.ui.day_view import DayView
    from console.ui.fake_backend import ME, FakeBackend
    from console.ui.state import ConsoleState

    app = QApplication.instance()
    assert app is not None  # check_qt made it
    state = ConsoleState(ME, "阿美", "supervisor")
    now = time.time()
    view = DayView()
    state.day_charts_loaded.connect(view.show_charts)
    FakeBackend(state, lambda: now).day_charts()
    view.resize(900, 600)
    view.show()
    for _ in range(5):
        app.processEvents()
    image = view.grab().toImage()
    colours = {image.pixel(x, y) for x in range(0, image.width(), 23) for y in range(0, image.height(), 19)}
    if view.charts is None or len(colours) < 4:
        raise AssertionError("the day in pictures did not draw")
    view.close()
    return f"pyqtgraph {pyqtgraph.__version__} with numpy {numpy.__version__}: the day in pictures drawn"


CHECKS: tuple[tuple[str, Callable[[], str]], ...] = (
    ("modules", check_modules),
    ("commands", check_commands),
    ("resources", check_resources),
    ("native", check_native),
    ("qt", check_qt),
    ("plots", check_plots),
)


def main() -> int:
    failed = []
    for name, check in CHECKS:
        try:
            print(f"ok    {name}: {check()}", flush=True)
        except Exception as exc:  # noqa: BLE001 - report every failure, then exit 1
            failed.append(name)
            print(f"FAIL  {name}: {type(exc).__name__}: {exc}", flush=True)
            traceback.print_exc()
    found["failed"] = failed
    print(json.dumps(found, ensure_ascii=False), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
