"""The day in pictures (issue 14, CONSOLE.md §7): the series the room draws, from a day's records.

Pure: the records of ``console.reception.report`` (the decision log, the waits) come in, the
series go out; the server reads the database (``console.server.day_charts``), the room draws.

- ``arrivals``: conversations that began (``report.sessions``: a session's first decision) per
  5 minutes; ``queue``: the most buyers waiting in a queue (a decision placed them in
  ``queue:...`` and no later one moved them) at any moment of each 5 minutes;
- ``response_3min``: per hour, the share of the waits begun in it answered within 180 s (the KPI
  tiles' definition, ``kpi.Accumulator``); null for an hour without waits;
- ``load``: per agent, the most sessions it held at once in each 5 minutes;
- ``reasons``: why each conversation of the day was first placed (ROUTING.md §12), most first.

Series stop at ``now`` for the day still going on (a past day runs to midnight).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import msgspec

from console.protocol.holders import Holder, HolderKind
from console.reception.kpi import Accumulator, Wait
from console.reception.report import DayRecords, sessions

BUCKET_S = 300.0  # five minutes
HOUR_S = 3600.0
QUEUED = "queue:"  # the queue's slot in the running counts (no agent id has a colon)


class AgentLoad(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    agent: str
    name: str = ""
    load: list[int]  # the most sessions held at once, per bucket


class ReasonCount(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reason: str  # ROUTING.md §12's code
    count: int


class DayCharts(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    start: float  # the local day's first moment (epoch seconds); bucket i covers start + i * bucket_s
    bucket_s: float = BUCKET_S
    arrivals: list[int] = []
    queue: list[int] = []
    response_3min: list[float | None] = []  # per hour
    load: list[AgentLoad] = []
    reasons: list[ReasonCount] = []


def _buckets(start: float, stop: float, size: float) -> int:
    return max(0, math.ceil((stop - start) / size))


def day_charts(records: DayRecords, now: float) -> DayCharts:
    day = records.day
    stop = max(day.start, min(day.end, now))
    n = _buckets(day.start, stop, BUCKET_S)

    def bucket(at: float) -> int | None:
        if not day.start <= at < stop:
            return None
        return min(n - 1, int((at - day.start) // BUCKET_S))

    arrivals = [0] * n
    reasons: Counter[str] = Counter()
    for buyer_sessions in sessions(records.decisions).values():
        for session in buyer_sessions:
            i = bucket(session.first.at)
            if i is not None:
                arrivals[i] += 1
                reasons[session.first.why] += 1

    # Walk the log: who holds each buyer; the queue's length and each agent's load at each change.
    agents = [agent for agent, _ in records.agents]
    names = dict(records.agents)
    holder: dict[str, str] = {}
    held: Counter[str] = Counter()  # agent -> sessions held; QUEUED -> buyers in a queue

    def apply(buyer: str, event: str, target: str) -> None:
        before = holder.pop(buyer, None)
        if before is not None:
            held[_slot(before)] -= 1
        if event != "closed":
            holder[buyer] = target
            held[_slot(target)] += 1

    queue = [0] * n
    load = {agent: [0] * n for agent in agents}

    def carry(i: int) -> None:
        queue[i] = held[QUEUED]
        for agent, series in load.items():
            series[i] = held[agent]

    current = 0
    started = False
    for d in records.decisions:
        if d.at >= stop:
            break
        if d.at >= day.start and n:
            if not started:
                carry(0)
                started = True
            i = bucket(d.at)
            assert i is not None
            while current < i:
                current += 1
                carry(current)
        apply(d.buyer, d.event, d.target)
        if d.at >= day.start and n:
            queue[current] = max(queue[current], held[QUEUED])
            for agent, series in load.items():
                series[current] = max(series[current], held[agent])
    if n and not started:
        carry(0)
    while current < n - 1:
        current += 1
        carry(current)

    hours = _buckets(day.start, stop, HOUR_S)
    per_hour = [Accumulator() for _ in range(hours)]
    for w in records.waits:
        if day.start <= w.started < stop:
            per_hour[int((w.started - day.start) // HOUR_S)].add_wait(Wait(w.agent, w.started, w.answered))
    rates = [acc.fast / acc.waits if acc.waits else None for acc in per_hour]

    return DayCharts(
        start=day.start, arrivals=arrivals, queue=queue, response_3min=rates,
        load=[AgentLoad(agent=a, name=names.get(a, "") or a, load=load[a]) for a in agents],
        reasons=[ReasonCount(reason=r, count=c) for r, c in sorted(reasons.items(), key=lambda rc: (-rc[1], rc[0]))],
    )


def _slot(target: str) -> str:
    """Whom a decision's target counts for: an agent's load, the queue, or nobody ("")."""
    holder = Holder.parse(target)
    if holder.agent is not None:
        return holder.agent
    return QUEUED if holder.kind is HolderKind.QUEUE else ""


def peak(series: Sequence[int]) -> int:
    return max(series, default=0)
