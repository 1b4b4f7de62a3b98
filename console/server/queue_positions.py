"""Telling queued buyers their place (R10.4, R10.5) without looking at every queued buyer.

A buyer who joins a queue is told its place with the routing outcome itself, and nobody behind it
moves: joining touches one buyer. A buyer who leaves a queue (dequeued, closed, re-routed) moves
everyone behind it one place up, but what a buyer sees changes only where

- the tip changes: positions up to ``queue.tip_threshold`` show how many are ahead (R10.5);
- the estimated wait ``ceil(position / slots) x avg_handle`` changes (R10.4): after ``k`` leaves
  ahead of it, only a buyer now at a position ``q`` with ``q mod slots == 0`` or
  ``q mod slots > slots - k`` (every one once ``k >= slots``).

So a pool only remembers how many buyers left it since it was last told; once a second at most
(``INTERVAL``, coalescing the leaves of that second) the candidate positions are looked up in
O(log n) each (``Engine.queue_places``), ``CHUNK`` per loop turn, and a buyer is told only when
its estimate or tip differs from what it was last told. When what an estimate is computed from changes (the slots serving a
pool, the queue settings of a new policy), that pool is looked at whole, once.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from console.protocol.messages import QueueUpdate
from console.routing.engine import Engine
from console.routing.events import Decision
from console.server.journal import Journal

INTERVAL = 1.0
"""Seconds between two position updates to one buyer, at least."""
CHUNK = 500
"""Positions looked up per loop turn during a flush."""


@dataclass
class _Marks:
    left: int = 0  # buyers that left the pool since it was last told
    whole: bool = False  # look at every entry (the basis of the estimate changed)


class QueueTeller:
    """What each queued buyer was last told, and which pools must be looked at again."""

    def __init__(self, send: Callable[[str, QueueUpdate], None], journal: Journal | None = None) -> None:
        self._send = send
        self.journal = journal or Journal()
        self.told: dict[str, tuple[int, float, str]] = {}  # buyer -> (position, eta, tip) last told
        self._marks: dict[str, _Marks] = {}
        self._basis: dict[str, tuple[object, ...]] = {}  # pool -> what its estimates are computed from
        self._handle: asyncio.Handle | None = None  # the flush timer, or the next chunk
        self._work: dict[str, tuple[_Marks, Iterator[int]]] = {}  # a flush under way
        self._last_flush = float("-inf")

    # -- what happened ---------------------------------------------------------------------------

    def decided(self, d: Decision, left: str | None) -> None:
        """One decision about a buyer, who left the queue ``left`` with it (None: no queue left;
        ``changes.queue_left``)."""
        self._record(d.buyer)
        if left is not None:
            self._marks.setdefault(left, _Marks()).left += 1
            self.told.pop(d.buyer, None)
        if d.event == "queued" and d.position is not None and d.eta is not None and d.tip is not None:
            self.told[d.buyer] = (d.position, d.eta, d.tip)  # told with the outcome itself
        elif d.event != "queued":
            self.told.pop(d.buyer, None)

    def _record(self, buyer: str | None) -> None:
        """Undo for a failed request: what was told to ``buyer``, and the marks and bases."""
        journal = self.journal
        if buyer is not None and journal.fresh(("told", buyer)):
            told = self.told.get(buyer)
            journal.once(("told", buyer), lambda: self._put_told(buyer, told))
        if journal.fresh("queue marks"):  # copied once per request, not at every decision (issue 9)
            marks = {pool: _Marks(m.left, m.whole) for pool, m in self._marks.items()}
            basis = dict(self._basis)
            journal.once("queue marks", lambda: self._put_marks(marks, basis))

    def _put_told(self, buyer: str, told: tuple[int, float, str] | None) -> None:
        if told is None:
            self.told.pop(buyer, None)
        else:
            self.told[buyer] = told

    def _put_marks(self, marks: dict[str, _Marks], basis: dict[str, tuple[object, ...]]) -> None:
        self._marks, self._basis = marks, basis

    def check_basis(self, engine: Engine) -> None:
        """After a change: a pool whose slots or queue settings moved is looked at whole (R10.4)."""
        self._record(None)
        q = engine.policy.queue
        settings = (q.avg_handle, q.tip_threshold, q.tip_text, q.busy_text)
        for pool, length, slots in engine.queue_bases():
            basis = (slots, *settings)
            if self._basis.get(pool) != basis:
                self._basis[pool] = basis
                if length:
                    self._marks.setdefault(pool, _Marks()).whole = True

    def forget(self) -> None:
        """Everything is looked at again (a rebuild of the shop's memory)."""
        self.told.clear()
        self._basis.clear()
        self._marks.clear()
        self._work = {}

    @property
    def pending(self) -> bool:
        return bool(self._marks)

    # -- telling -----------------------------------------------------------------------------------

    def schedule(self, loop: asyncio.AbstractEventLoop, engine: Callable[[], Engine | None]) -> None:
        """Flush within ``INTERVAL`` of the last flush (one timer for every pool)."""
        if self._handle is not None or not self._marks:
            return
        delay = max(0.0, self._last_flush + INTERVAL - loop.time())
        self._handle = loop.call_later(delay, self._on_timer, loop, engine)

    def _on_timer(self, loop: asyncio.AbstractEventLoop, engine: Callable[[], Engine | None]) -> None:
        self._handle = None
        self._last_flush = loop.time()
        current = engine()
        if current is None:
            return
        self._work = self._plan(current)
        self._on_chunk(loop, engine)

    def _on_chunk(self, loop: asyncio.AbstractEventLoop, engine: Callable[[], Engine | None]) -> None:
        """One loop turn's share of a flush (``CHUNK`` look-ups), so a long queue never stalls the
        loop: requests run between chunks."""
        self._handle = None
        current = engine()
        if current is not None and self._step(current, CHUNK):
            self._handle = loop.call_soon(self._on_chunk, loop, engine)
            return
        self._work = {}
        self.schedule(loop, engine)  # leaves that came during the flush

    def _plan(self, engine: Engine) -> dict[str, tuple[_Marks, Iterator[int]]]:
        """Take the marks (with those of a flush not finished): per pool, the positions to look at."""
        marks, self._marks = self._marks, {}
        for pool, (unfinished, _) in self._work.items():
            mark = marks.setdefault(pool, _Marks())
            mark.left += unfinished.left
            mark.whole = mark.whole or unfinished.whole
        self._work = {}
        threshold = engine.policy.queue.tip_threshold
        lengths = {v.pool: v.length for v in engine.queues()}
        work = {}
        for pool, mark in marks.items():
            length = lengths.get(pool, 0)
            if length:
                slots = engine.queue_slots(pool)
                positions = range(1, length + 1) if mark.whole else _candidates(length, slots, threshold, mark.left)
                work[pool] = (mark, iter(positions))
        return work

    def _step(self, engine: Engine, budget: int) -> bool:
        """Look at up to ``budget`` positions; True while work remains. A pool marked again since
        the plan (more leaves, a new basis) is given back to the next flush with its old marks
        added: positions moved, so the rest of this plan would look at the wrong ones."""
        for pool in list(self._work):
            mark, positions = self._work[pool]
            again = self._marks.get(pool)
            if again is not None:
                again.left += mark.left
                again.whole = again.whole or mark.whole
                del self._work[pool]
                continue
            chunk = list(itertools.islice(positions, budget))
            self._tell(engine, pool, chunk)
            budget -= len(chunk)
            if budget <= 0:
                return True
            del self._work[pool]
        return bool(self._work)

    def _tell(self, engine: Engine, pool: str, positions: list[int]) -> int:
        sent = 0
        for entry in engine.queue_places(pool, positions):
            before = self.told.get(entry.buyer)
            if before is not None and before[1:] == (entry.eta, entry.tip):
                continue
            self.told[entry.buyer] = (entry.position, entry.eta, entry.tip)
            self._send(entry.buyer, QueueUpdate(position=entry.position, eta=entry.eta, tip=entry.tip))
            sent += 1
        return sent

    def flush(self, engine: Engine) -> None:
        """Tell every buyer of a marked pool whose estimate or tip changed, all at once."""
        self._work = self._plan(engine)
        while self._step(engine, CHUNK):
            pass

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None


def _candidates(length: int, slots: int, threshold: int, left: int) -> Iterator[int]:
    """Positions whose tip or estimate may differ after ``left`` buyers ahead of them left."""
    if left >= slots:
        yield from range(1, length + 1)
        return
    head = min(threshold, length)
    yield from range(1, head + 1)  # R10.5: the number ahead is in the tip
    # R10.4: ceil((q + k) / s) > ceil(q / s) for some 1 <= k <= left  <=>  q mod s in {0} or > s - left
    base = (head // slots) * slots
    while base <= length:
        for q in range(base + slots - left + 1, base + slots + 1):
            if head < q <= length:
                yield q
        base += slots
