"""Python's cyclic garbage collector, run on the GUI thread only.

The console runs worker threads: qasync's executor serves ``asyncio.to_thread`` (the outbox
writes its file there) and, in the demo and the live tests, the in-process server hashes
passwords there. CPython's collector runs in whichever thread happens to allocate past the
threshold. When that is a worker thread and the garbage holds Qt wrappers (a closed dialog in a
reference cycle, say), their C++ objects are destroyed off the GUI thread, which Qt does not
allow: the process dies with a segmentation fault ("Garbage-collecting" on a qasync worker in
the fault handler's trace, seen about once in 15 runs of the UI tests on a loaded machine).

So the automatic collector is switched off while the console runs, and a timer on the GUI thread
runs the same generational collections when the counts pass the same thresholds (the pattern of
pyqtgraph's ``GarbageCollector``). Reference counting still frees everything that is not in a
cycle at once, in any thread, as before.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

CHECK_MS = 500


def collect_if_due() -> int:
    """Run the generational collections whose thresholds the allocation counts have passed."""
    thresholds = gc.get_threshold()
    counts = gc.get_count()
    found = 0
    for generation in (2, 1, 0):  # the oldest due generation collects the younger ones too
        if counts[generation] > thresholds[generation]:
            found += gc.collect(generation)
            break
    return found


class MainThreadCollector(QObject):
    """While started, cyclic garbage is collected by a GUI-thread timer, never by a worker."""

    def __init__(self, parent: QObject | None = None, interval_ms: int = CHECK_MS) -> None:
        super().__init__(parent)
        self._was_enabled = gc.isenabled()
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(collect_if_due)

    def start(self) -> None:
        gc.disable()
        self._timer.start()

    def stop(self) -> None:
        """Back to automatic collection (as it was), after one full collection here."""
        self._timer.stop()
        gc.collect()
        if self._was_enabled:
            gc.enable()
