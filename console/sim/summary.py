"""A readable table of a replay, per agent and per pool, for supervisors trying a policy."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from console.protocol.holders import agent_of
from console.routing.durations import format_duration
from console.sim.replay import Line


@dataclass(slots=True)
class _AgentRow:
    received: int = 0
    closed: int = 0
    reasons: Counter[str] = field(default_factory=Counter)


@dataclass(slots=True)
class _PoolRow:
    queued: int = 0
    left: int = 0
    longest_wait: float = 0.0
    waiting: dict[str, float] = field(default_factory=dict)  # buyer -> joined


def summarize(lines: Iterable[Line], agent_names: dict[str, str]) -> str:
    """Per agent: buyers received, closes, reasons. Per pool: joins, departures, longest wait."""
    agents: dict[str, _AgentRow] = {a: _AgentRow() for a in agent_names}
    pools: dict[str, _PoolRow] = {}
    others: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    end = 0.0
    for line in lines:
        d, end = line.decision, line.t
        agent = agent_of(d.to)
        if d.event == "closed":
            if agent in agents:
                agents[agent].closed += 1
            continue
        reasons[d.why.value] += 1
        for pool in pools.values():  # a buyer leaving a pool
            joined = pool.waiting.pop(d.buyer, None) if d.why.value != "open_session" else None
            if joined is not None:
                pool.left += 1
                pool.longest_wait = max(pool.longest_wait, line.t - joined)
        if d.why.value == "open_session":
            continue
        if d.event == "queued":
            row = pools.setdefault(d.to, _PoolRow())
            row.queued += 1
            row.waiting[d.buyer] = line.t
        elif agent in agents:
            agents[agent].received += 1
            agents[agent].reasons[d.why.value] += 1
        else:
            others[d.to] += 1
    for row in pools.values():
        for joined in row.waiting.values():
            row.longest_wait = max(row.longest_wait, end - joined)

    out = ["agent            received  closed  reasons"]
    for agent, arow in agents.items():
        name = agent_names[agent]
        label = f"{agent} ({name})" if name != agent else name
        why = ", ".join(f"{r} {n}" for r, n in arow.reasons.most_common())
        out.append(f"{label:<16} {arow.received:>8}  {arow.closed:>6}  {why or '-'}")
    out.append("")
    out.append("pool             queued  left  still waiting  longest wait")
    if not pools:
        out.append("(no buyer queued)")
    for target, prow in sorted(pools.items()):
        out.append(f"{target:<16} {prow.queued:>6}  {prow.left:>4}  {len(prow.waiting):>13}  "
                   f"{format_duration(prow.longest_wait):>12}")
    if others:
        out.append("")
        out.append("other targets: " + ", ".join(f"{t} {n}" for t, n in sorted(others.items())))
    out.append("")
    out.append("reasons: " + ", ".join(f"{r} {n}" for r, n in reasons.most_common()))
    return "\n".join(out)
