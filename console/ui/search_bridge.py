"""``ClientSearch``: the search dialog's source over the running ``AgentClient`` (issue 13).

Like ``ClientBackend`` (bridge.py): each call spawns a short task on the qasync loop, kept until
it ends; the answer goes to the feed as a signal, a failure as a readable error. The history is
the existing ``open`` request, so a result opens exactly as the reception list does.
"""

from __future__ import annotations

import logging
from collections.abc import Coroutine
from typing import Any

from PySide6.QtCore import QCoreApplication

from console.client.agent import AgentClient
from console.ui.requests import Requests
from console.ui.search_model import SearchFeed

log = logging.getLogger(__name__)


class ClientSearch:
    """``SearchSource`` over a running ``AgentClient``."""

    def __init__(self, client: AgentClient, feed: SearchFeed | None = None) -> None:
        self.client = client
        self._feed = feed if feed is not None else SearchFeed()
        self._requests = Requests(lambda what, exc: self._feed.failed.emit(f"{what}: {exc}"))

    @property
    def feed(self) -> SearchFeed:
        return self._feed

    def search(self, query: str, before: int | None = None) -> None:
        async def run() -> None:
            answer = await self.client.search(query, before=before)
            self._feed.results_loaded.emit(query, answer.hits, answer.next_before, before is not None)

        self._spawn(QCoreApplication.translate("ClientSearch", "搜索"), run())

    def open_history(self, conversation: str) -> None:
        async def run() -> None:
            history = await self.client.open(conversation)
            self._feed.history_loaded.emit(conversation, history.conversation, history.messages)

        self._spawn(QCoreApplication.translate("ClientSearch", "打开会话"), run())

    def contact(self, conversation: str) -> None:
        async def run() -> None:
            await self.client.contact(conversation)
            self._feed.contacted.emit(conversation)

        self._spawn(QCoreApplication.translate("ClientSearch", "再次联系"), run())

    def cancel(self) -> None:
        self._requests.cancel()

    def _spawn(self, what: str, coro: Coroutine[Any, Any, None]) -> None:
        self._requests.spawn(what, coro)
