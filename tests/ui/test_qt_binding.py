"""The Qt binding itself: PySide6 6.12.0 drops a reference to ``True`` on every Python
``Signal.emit`` (it returns a borrowed ``Py_True``). On Python 3.11, where ``True`` is not
immortal, a console emitting a few thousand signals then aborts with ``bool_dealloc``. Pin
PySide6-Essentials below 6.12 (or to a fixed release) until this test passes."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal


class _Emitter(QObject):
    fired = Signal()


def test_emit_keeps_the_refcount_of_true(qapp: object) -> None:
    emitter = _Emitter()
    before = sys.getrefcount(True)
    for _ in range(100):
        emitter.fired.emit()
    leaked = before - sys.getrefcount(True)
    if leaked > 0:  # keep the interpreter alive for the rest of the run
        import ctypes

        for _ in range(leaked):
            ctypes.pythonapi.Py_IncRef(ctypes.py_object(True))
    assert leaked < 50, f"PySide6 dropped {leaked} references to True in 100 emits"
