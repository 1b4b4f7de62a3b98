"""Per-agent event numbering and resume (CONSOLE.md §5: nothing lost, nothing twice).

The server keeps one ``Backlog`` per agent: it numbers each event (``next_seq``), remembers the
latest ``capacity`` of them, and answers a ``Resume(last_seq)`` with the missed events in order,
or ``None`` when the console is too far behind (or ahead, after a server reset) and needs a fresh
``Snapshot``. The console keeps a ``SeqTracker`` that drops repeats and notices gaps.
"""

from __future__ import annotations

from collections import deque
from enum import StrEnum

from console.protocol.messages import AgentEvent, Snapshot

DEFAULT_BACKLOG = 5000


class Backlog:
    """The latest events of one agent, numbered 1, 2, 3 … without holes."""

    def __init__(self, last_seq: int = 0, capacity: int = DEFAULT_BACKLOG) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self._events: deque[AgentEvent] = deque(maxlen=capacity)
        self._last = last_seq

    @property
    def last_seq(self) -> int:
        """The number of the latest event (0 before any)."""
        return self._last

    def next_seq(self) -> int:
        """The number the next pushed event must carry."""
        return self._last + 1

    def push(self, event: AgentEvent) -> None:
        """Remember an event stamped with ``next_seq()``.

        A ``Snapshot`` takes no number of its own: it carries ``last_seq``, the latest event it
        already includes, and is never replayed, so it cannot be pushed.
        """
        if isinstance(event, Snapshot):
            raise ValueError("a snapshot carries last_seq and is not part of the backlog")
        if event.seq != self._last + 1:
            raise ValueError(f"event seq {event.seq} is not the next one ({self._last + 1})")
        self._last = event.seq
        self._events.append(event)

    def since(self, last_seq: int) -> list[AgentEvent] | None:
        """Events after ``last_seq`` in order, or None when they are no longer all held."""
        if last_seq == self._last:
            return []
        if last_seq > self._last or last_seq < 0:
            return None
        if not self._events:
            return None
        first = self._events[0].seq
        if last_seq + 1 < first:
            return None
        return [e for e in self._events if e.seq > last_seq]


class Verdict(StrEnum):
    NEW = "new"  # apply it
    DUPLICATE = "duplicate"  # seen already: drop it
    GAP = "gap"  # something was missed: resume or ask for a snapshot


class SeqTracker:
    """The console's view of the sequence: what it saw last and whether the next event fits."""

    def __init__(self, last_seq: int | None = None) -> None:
        self.last_seq = last_seq

    def accept(self, event: AgentEvent) -> Verdict:
        """Judge an incoming event and, when it is new, move ``last_seq`` on."""
        if isinstance(event, Snapshot):  # replaces everything: the sequence starts again from it
            self.last_seq = event.seq
            return Verdict.NEW
        if self.last_seq is None:
            return Verdict.GAP
        if event.seq <= self.last_seq:
            return Verdict.DUPLICATE
        if event.seq != self.last_seq + 1:
            return Verdict.GAP
        self.last_seq = event.seq
        return Verdict.NEW
