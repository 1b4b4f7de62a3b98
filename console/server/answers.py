"""One connection's answers: each once the commit that holds its request stands, in request order.

A request that went through ``Shop.atomic`` is answered through an after-commit action of the
store (``Answers.committed``) instead of its handler awaiting the commit: the handler goes straight
back to reading the connection's next frame (pipelining), and the answer is queued on the hub's
outbox when the batch holding the request's writes is durable (issue 9: a Future and a task
wake-up per request were a tenth of a message's cost). Two guarantees stay:

- an answer leaves only after the commit that holds it, and after the request's pushes (they are
  handed to the store first, ``Hub._after``; the store runs actions in the order registered);
- the answers of one connection leave in the order of its requests (PROTOCOL.md "Messages in
  general"), errors and refusals included: while any answer of the connection is pending, every
  other one (an error, a rate-limit refusal, a read) joins the same ordered path.

If the batch never becomes durable (``StoreFailed``: disk full, I/O error) a pending answer of a
request that changed something becomes ``internal`` "the server failed; nothing was changed" (as
``await committed()`` raising did), and the shop's memory is read back from its database
(``Shop.batch_lost``); an error queued behind it is sent as it was (its request changed nothing).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from websockets.asyncio.server import ServerConnection

from console.protocol.messages import Error, ErrorCode, Event, Response
from console.server.hub import Hub
from console.server.store import Store, StoreError

Later = Callable[[], Response | Event]
"""An answer made only once its commit stands (a snapshot "as of" the last committed event)."""

FAILED = "the server failed; nothing was changed"


class Answers:
    """The answers owed on one connection, in its requests' order (see the module's docstring)."""

    def __init__(self, conn: ServerConnection, hub: Hub) -> None:
        self.conn = conn
        self.hub = hub  # the shop's hub once the connection belongs to a shop (``serve``)
        self.store: Store | None = None
        self._lost: Callable[[], None] | None = None
        # answers handed to the store and not sent yet, oldest first, each with its request's rid
        # and whether it waited for a commit (then it becomes ``internal`` if that commit fails)
        self._pending: deque[tuple[Response | Event | Later, str | None, bool]] = deque()

    def serve(self, hub: Hub, store: Store, lost: Callable[[], None]) -> None:
        """The connection now belongs to a shop (hello, login): its hub, its store, and what to
        do when a batch is lost (``Shop.batch_lost``). Call with nothing pending."""
        assert not self._pending
        self.hub, self.store, self._lost = hub, store, lost

    @property
    def pending(self) -> int:
        return len(self._pending)

    def send(self, message: Response | Event) -> None:
        """An answer that waits for no commit (an error, a read, a refusal): at once, or behind
        the answers still pending on this connection."""
        if self._pending:
            self._queue(message, None, False)
        else:
            self.hub.reply(self.conn, message)

    def committed(self, answer: Response | Event | Later, rid: str | None = None) -> None:
        """Answer once the writes made so far (the request ``rid``'s) are durable: at once if
        they are. A ``Later`` is made then (``rid`` names its request for a failure's error)."""
        self._queue(answer, answer.rid if isinstance(answer, Response) else rid, True)

    async def settle(self) -> None:
        """Wait until every pending answer is on the hub's outbox (before closing the connection:
        a close writes what is queued there, ``Hub.close_now``)."""
        if self._pending and self.store is not None:
            try:
                await self.store.committed()
            except StoreError:
                pass  # the failure callbacks have answered them

    def _queue(self, answer: Response | Event | Later, rid: str | None, waited: bool) -> None:
        store = self.store
        if store is None:  # not a shop's connection yet: nothing of its is pending either
            self.hub.reply(self.conn, answer() if callable(answer) else answer)
            return
        self._pending.append((answer, rid, waited))
        store.after_commit(self._sent, self._failed)

    def _sent(self) -> None:
        answer, _, _ = self._pending.popleft()
        self.hub.reply(self.conn, answer() if callable(answer) else answer)

    def _failed(self, error: BaseException) -> None:
        answer, rid, waited = self._pending.popleft()
        if not waited:
            assert not callable(answer)
            self.hub.reply(self.conn, answer)
            return
        self.hub.reply(self.conn, Error(rid=rid, code=ErrorCode.INTERNAL, message=FAILED))
        if self._lost is not None:
            self._lost()
