"""Plain observers and async streams: how the client tells its user about changes, without Qt.

The Qt console connects a slot per observer through a thin adapter (``console/ui``); the
simulator and the tests read an ``EventStream`` with ``async for``. Both get the same values in
the same order, synchronously with the client's own bookkeeping, so nothing is seen early or late.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from typing import Generic, TypeVar

T = TypeVar("T")

log = logging.getLogger(__name__)


class Observers(Generic[T]):
    """A list of callbacks called with each emitted value; a failing callback is logged, not fatal."""

    def __init__(self) -> None:
        self._callbacks: list[Callable[[T], None]] = []

    def connect(self, callback: Callable[[T], None]) -> Callable[[], None]:
        """Call ``callback(value)`` on each ``emit``; returns the function that disconnects it."""
        self._callbacks.append(callback)

        def disconnect() -> None:
            if callback in self._callbacks:
                self._callbacks.remove(callback)

        return disconnect

    def emit(self, value: T) -> None:
        for callback in list(self._callbacks):
            try:
                callback(value)
            except Exception:
                log.exception("an observer failed on %r", type(value).__name__)


class EventStream(Generic[T]):
    """An unbounded queue fed by an ``Observers``: ``async for value in stream`` or ``await get()``.

    Close it (``close()`` or ``async with``) to stop feeding it. Values emitted before it was
    opened are not in it.
    """

    def __init__(self, source: Observers[T]) -> None:
        self._queue: asyncio.Queue[T] = asyncio.Queue()
        self._disconnect = source.connect(self._queue.put_nowait)

    async def get(self, timeout: float | None = None) -> T:
        """The next value; ``TimeoutError`` when none comes within ``timeout`` seconds."""
        return await asyncio.wait_for(self._queue.get(), timeout)

    def get_nowait(self) -> T | None:
        try:
            return self._queue.get_nowait()
        except asyncio.QueueEmpty:
            return None

    async def wait_for(self, predicate: Callable[[T], bool], timeout: float) -> T:
        """Skip values until one satisfies ``predicate``; ``TimeoutError`` after ``timeout`` s."""
        async with asyncio.timeout(timeout):
            while True:
                value = await self._queue.get()
                if predicate(value):
                    return value

    def close(self) -> None:
        self._disconnect()

    async def __aenter__(self) -> EventStream[T]:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()

    def __aiter__(self) -> AsyncIterator[T]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[T]:
        while True:
            yield await self._queue.get()
