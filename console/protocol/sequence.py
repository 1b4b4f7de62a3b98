"""The console's side of event numbering (CONSOLE.md §5: nothing lost, nothing twice).

The server numbers each agent's events and keeps them in its database (``console/server/hub.py``),
answering a ``Resume(last_seq)`` with the missed ones or a fresh ``Snapshot``. The console keeps a
``SeqTracker`` that drops repeats and notices gaps.
"""

from __future__ import annotations

from enum import StrEnum

from console.protocol.messages import AgentEvent, Snapshot


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
