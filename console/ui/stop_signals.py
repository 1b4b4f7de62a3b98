"""Stopping the console in order on SIGTERM, SIGINT and SIGHUP (issue 12, defect 4).

Without this a signal kills the process where it stands: ``fenliu demo``'s ``finally`` that stops
its server and simulator never runs and the children go on (the simulator for 8 hours). Python
runs a signal handler only between bytecodes of the main thread, and the Qt event loop can sit in
C for as long as nothing happens, so the handler alone is not enough: ``signal.set_wakeup_fd``
writes a byte to a socket the Qt loop watches, which wakes the loop; the handler then cancels the
console's main task, whose ``finally`` blocks close the window, the client and the caller's
children in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
from collections.abc import Iterator
from types import FrameType

from PySide6.QtCore import QSocketNotifier

STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGINT", "SIGHUP") if hasattr(signal, name))


class SignalStop:
    """While installed, a stop signal cancels ``task``; ``received`` is the signal number."""

    def __init__(self, task: asyncio.Task[object]) -> None:
        self.task = task
        self.received: int | None = None

    def _on_signal(self, number: int, frame: FrameType | None) -> None:
        if self.received is None:
            self.received = number
            self.task.cancel()

    @contextlib.contextmanager
    def installed(self) -> Iterator[SignalStop]:
        reader, writer = socket.socketpair()
        reader.setblocking(False)
        writer.setblocking(False)
        notifier = QSocketNotifier(reader.fileno(), QSocketNotifier.Type.Read)
        notifier.activated.connect(lambda: _drain(reader))  # Python code runs: so do the handlers
        previous_fd = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
        previous = {number: signal.signal(number, self._on_signal) for number in STOP_SIGNALS}
        try:
            yield self
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)
            signal.set_wakeup_fd(previous_fd)
            notifier.setEnabled(False)
            notifier.deleteLater()
            reader.close()
            writer.close()


def _drain(reader: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while reader.recv(512):
            pass
