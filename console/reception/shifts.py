"""Shift timelines (issue 14, CONSOLE.md §7): each agent's day as spans of one status.

A pure function of the audit log's status entries (the one record of status changes, written at
the engine's own time for each change, so a timeline is exact across restarts): where the day
starts (each agent's last status before it, ``offline`` when it has none), every change during
it, and ``now`` (a day still going on ends there). Time per status and the number of breaks (a
break is each time the agent went ``suspended``, 挂起) come from the spans.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

ONLINE, SUSPENDED, OFFLINE = "online", "suspended", "offline"


@dataclass(frozen=True, slots=True)
class Span:
    start: float
    end: float
    status: str

    @property
    def seconds(self) -> float:
        return self.end - self.start


@dataclass(frozen=True, slots=True)
class Change:
    """One status change of the audit log: ``agent`` went ``status`` at ``at``."""

    at: float
    agent: str
    status: str


@dataclass(slots=True)
class Shift:
    agent: str
    spans: list[Span] = field(default_factory=list)

    def seconds(self, status: str) -> float:
        return sum(s.seconds for s in self.spans if s.status == status)

    @property
    def breaks(self) -> int:
        """Times the agent went suspended (挂起) during the day (a day begun suspended counts it)."""
        return sum(1 for s in self.spans if s.status == SUSPENDED)

    @property
    def first_online(self) -> float | None:
        return next((s.start for s in self.spans if s.status == ONLINE), None)


def shifts(agents: Iterable[str], start: float, end: float, now: float, opening: Mapping[str, str],
           changes: Iterable[Change]) -> list[Shift]:
    """Each agent's spans over ``[start, min(end, now))``, in ``agents``' order.

    ``opening``: the status an agent had when the day began; ``changes`` in time order (those
    outside the day, or of agents not listed, are ignored). Adjacent spans never share a status."""
    stop = max(start, min(end, now))
    current = {agent: (start, opening.get(agent, OFFLINE)) for agent in agents}
    out = {agent: Shift(agent) for agent in current}
    for change in changes:
        if change.agent not in current or not start <= change.at < stop:
            continue
        since, status = current[change.agent]
        if change.status == status:
            continue
        if change.at > since:
            out[change.agent].spans.append(Span(since, change.at, status))
        current[change.agent] = (change.at, change.status)
    for agent, (since, status) in current.items():
        if stop > since:
            spans = out[agent].spans
            spans.append(Span(since, stop, status))
        _merge(out[agent].spans)
    return list(out.values())


def _merge(spans: list[Span]) -> None:
    """Join neighbours of one status (a zero-length span between them dropped)."""
    merged: list[Span] = []
    for span in spans:
        if merged and merged[-1].status == span.status:
            merged[-1] = Span(merged[-1].start, span.end, span.status)
        else:
            merged.append(span)
    spans[:] = merged
