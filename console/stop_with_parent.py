"""A child process that stops when the process that started it is gone, even a crashed one.

``fenliu demo`` starts the server and the simulator as children and stops them in order when the
console closes. A console that dies (a signal 11, a kill -9) runs no ``finally``: the children
would live on, holding the port and the data folder. So the demo names itself in the children's
environment (``FENLIU_STOP_WITH_PARENT=<pid>``) and each child watches its parent: once that
process is gone (the child's parent changes), the child sends itself SIGTERM (the server closes
in order, as on Ctrl+C) and exits outright if that has not ended it after a grace period. Polling
``os.getppid`` works on every platform, unlike Linux's ``PR_SET_PDEATHSIG``.
"""

from __future__ import annotations

import os
import signal
import threading
import time

ENV = "FENLIU_STOP_WITH_PARENT"
CHECK_S = 0.5
GRACE_S = 10.0


def environment(parent: int | None = None) -> dict[str, str]:
    """The environment entry that makes a ``fenliu`` child stop with ``parent`` (default: this process)."""
    return {ENV: str(os.getpid() if parent is None else parent)}


def watch_from_environment() -> threading.Thread | None:
    """If this process was started with ``FENLIU_STOP_WITH_PARENT``, watch that parent (the entry
    is removed, so this process's own children do not inherit it)."""
    value = os.environ.pop(ENV, "")
    if not value.isdigit():
        return None
    parent = int(value)
    if os.getppid() != parent:  # already gone (or not started by it): stop now
        _stop()
        return None
    thread = threading.Thread(target=_watch, args=(parent,), name="stop-with-parent", daemon=True)
    thread.start()
    return thread


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(CHECK_S)
    _stop()


def _stop() -> None:
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(GRACE_S)
    os._exit(1)
