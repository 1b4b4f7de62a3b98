"""Run-time hook of the desktop bundle, in place of PyInstaller's ``pyi_rth_pyside6`` (fenliu.spec).

PyInstaller's hook imports PySide6.QtCore at every start to check for an embedded qt.conf, which
costs ~80 ms of CPU before ``fenliu --version`` or ``fenliu server`` can do anything, although
neither uses Qt. The PySide6 wheels register that qt.conf themselves when QtCore is imported, so
Qt finds its prefix, plugins and translations inside the bundle either way
(``FENLIU_BUNDLE_CHECK=1`` checks it). What is left to do here costs nothing: tell Qt where the
plugins are (as PyInstaller's hook does), and on Windows put the bundle on PATH for Qt's DLLs.
"""

import os
import sys


def _fenliu_qt_paths() -> None:
    base = sys._MEIPASS  # type: ignore[attr-defined]
    if sys.platform.startswith("win"):
        os.environ["QT_PLUGIN_PATH"] = os.path.join(base, "PySide6", "plugins")
        os.environ["PATH"] = base + os.pathsep + os.environ.get("PATH", "")
    else:
        os.environ["QT_PLUGIN_PATH"] = os.path.join(base, "PySide6", "Qt", "plugins")


_fenliu_qt_paths()
del _fenliu_qt_paths
