"""The console's requests under way: each a task kept until it ends, cancelled together.

STYLE.md (qasync): keep a reference to every task. A request that fails is logged, and a
``ClientError`` (the server's refusal, a lost connection) is handed to ``on_error`` with the words
naming the request, for the window to show.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from console.client.errors import ClientError

log = logging.getLogger(__name__)


class Requests:
    def __init__(self, on_error: Callable[[str, BaseException], None] | None = None) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self._on_error = on_error

    def __len__(self) -> int:
        return len(self._tasks)

    def spawn(self, what: str, coro: Coroutine[Any, Any, None]) -> None:
        """Run ``coro`` (the request ``what``, in the user's words) and keep it until it ends."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(lambda finished: self._done(what, finished))

    def _done(self, what: str, finished: asyncio.Task[Any]) -> None:
        self._tasks.discard(finished)
        if finished.cancelled():
            return
        exc = finished.exception()
        if exc is None:
            return
        if isinstance(exc, ClientError):
            log.info("%s refused: %s", what, exc)
        else:
            log.error("%s failed", what, exc_info=exc)
        if self._on_error is not None:
            self._on_error(what, exc)

    def cancel(self) -> None:
        for task in self._tasks:
            task.cancel()

    async def drain(self, timeout: float) -> None:
        """Wait (a little) for the requests under way, e.g. before closing."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)
