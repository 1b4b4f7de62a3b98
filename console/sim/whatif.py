"""What-if: a recorded day's engine inputs replayed under another policy (CONSOLE.md §7, issue 14).

Pure: the caller reads the data folder (console/server/whatif.py) and hands over the engine as it
was at the day's start and the day's logged inputs (``engine_log`` rows: event, policy, advance);
this module replays them twice on a simulated clock (the logged times) and compares.

- **Baseline**: the rows exactly as the server's restart applies them (console/server/driver.py),
  policy swaps included. The engine is deterministic (R8.7), so its decisions must equal the
  ``decisions`` table for the day: ``Comparison.baseline_matches`` says whether they do.
- **What-if**: the same starting state, the other policy installed at the day's start (as a live
  swap would, ``Engine.set_policy``: sessions and queues carry over), then the same traffic.

What "the same traffic" is when the policy differs (the choices, in one place):

- Buyers' inputs are facts and are replayed as recorded: arrivals, messages, order changes,
  agents' status changes, the bot's hand-offs (the engine ignores one for a buyer the bot does
  not hold under the what-if).
- The day's logged policy swaps are skipped: the what-if policy is in force the whole day.
- The recorded timer firings (``advance`` rows) are not replayed: the what-if engine fires its own
  timers (R9.2 idle closes) at their due times, which is what the server does live.
- A close (an agent or a supervisor ending the conversation) ends **the buyer's conversation**,
  whoever holds it under the what-if: the work was done, by whichever agent has the buyer. If
  the buyer is still waiting in a queue or the message pool at that moment, the close waits: it
  happens once the buyer reaches an agent, after the handling time the conversation had in the
  baseline (from being routed to its holder to the close). A close for a buyer with no open
  session under the what-if (it idled out sooner) is dropped.
- A holder's reply is the reply of whoever holds the buyer under the what-if; while the buyer is
  queued there is nobody to reply, and it is dropped.
- Transfers and claims are applied when they still make sense (the engine accepts them) and
  dropped otherwise, e.g. a claim of a buyer who, under the what-if, never went to the pool.
- Inputs the what-if engine refuses (an agent the policy does not have) are dropped too.

Every dropped or deferred input is counted in ``Run.adjusted`` so the comparison says how far
the what-if had to bend the record.

Figures, per side (``figures``): per agent received (§1: routed to the agent, a re-arrive into an
open session not counted), the reasons of those receptions, the longest and average wait in a
queue of the buyers the agent took from one; per pool its peak length, buyers queued, longest
and average wait (a buyer still queued at the end waits until the last input) and how many
wait at the end; the share of each reason over all placements (routed or queued).

Progress and cancel: ``compare`` calls ``progress(fraction)`` now and then and ``cancelled()``
as often; when that returns true it raises :class:`Cancelled` (nothing is returned).
"""

from __future__ import annotations

import heapq
import pickle
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from console.protocol.holders import agent_of
from console.routing.engine import Engine, EngineError
from console.routing.events import AnyEvent, Close, Decision, HolderReply, event_decoder
from console.routing.policy import Policy, PolicyError, load_policy_toml
from console.routing.state import HolderKind, Session

PROGRESS_EVERY = 2000
"""Inputs between two progress reports (and two cancel checks)."""
QUEUE_PREFIX = "queue:"  # a group queue's pool (queue:GROUP); queue:shop and pool have no group


class Cancelled(Exception):
    """The caller's ``cancelled()`` said stop."""


class WhatIfError(Exception):
    """The day cannot be replayed (said in words, Chinese then English)."""


@dataclass(frozen=True, slots=True)
class LogRow:
    """One ``engine_log`` row."""

    seq: int
    at: float
    kind: str  # event, policy, advance
    body: str


@dataclass(frozen=True, slots=True)
class Recorded:
    """One ``decisions`` row, in the shape a replayed Decision is compared in."""

    buyer: str
    event: str
    to: str
    why: str
    rule: str
    at: float
    previous: str | None = None
    position: int | None = None
    eta: float | None = None


def recorded_of(d: Decision) -> Recorded:
    return Recorded(d.buyer, d.event, d.to, d.why.value, d.rule, d.t, d.previous, d.position, d.eta)


@dataclass(slots=True)
class DayLog:
    """A day's replay input: the engine at the day's start and the day's logged inputs."""

    label: str  # YYYY-MM-DD
    engine: Engine  # as it was before the first of ``rows``; not changed by a replay (copied)
    rows: list[LogRow]
    recorded: list[Recorded] | None = None  # the day's decisions table, to check the baseline
    prefix_inputs: int = 0  # inputs applied to rebuild ``engine`` (the loading's share of the work)
    agent_names: dict[str, str] = field(default_factory=dict)


def rebuild(rows: Iterable[LogRow], engine: Engine | None = None, start: float | None = None, *,
            step: Callable[[], None] | None = None) -> tuple[Engine, float]:
    """The engine after ``rows``, as ``EngineDriver.restore`` applies them; and the last time.

    Without ``engine`` the first row must be the log's first policy (the engine's creation, at
    ``start`` or the row's time). ``step`` is called after each row (progress, cancel)."""
    rows = iter(rows)
    if engine is None:
        first = next(rows, None)
        if first is None or first.kind != "policy":
            raise WhatIfError("引擎日志不是以策略开始的 / the engine log does not start with a policy")
        engine = Engine(load_policy_toml(first.body), start=first.at if start is None else start)
    last = engine.now
    for row in rows:
        last = max(last, row.at)
        _apply_recorded(engine, row, last)
        if step is not None:
            step()
    return engine, last


def _apply_recorded(engine: Engine, row: LogRow, at: float, event: AnyEvent | None = None) -> list[Decision]:
    if row.kind == "event":
        try:
            return engine.apply(event if event is not None else event_decoder.decode(row.body), at)
        except EngineError:  # cannot happen for a log the driver wrote (it logs accepted inputs only)
            return []
    if row.kind == "advance":
        return engine.advance(at)
    return engine.set_policy(load_policy_toml(row.body), at)


def copy_engine(engine: Engine) -> Engine:
    copied = pickle.loads(pickle.dumps(engine, protocol=pickle.HIGHEST_PROTOCOL))
    assert isinstance(copied, Engine)
    return copied


# ---------------------------------------------------------------------------------------------
# Runs


@dataclass(slots=True)
class Run:
    """One side of the comparison: every decision, in order, and what the replay had to adjust."""

    policy: Policy
    decisions: list[Decision] = field(default_factory=list)
    end: float = 0.0
    adjusted: Counter[str] = field(default_factory=Counter)
    handling: dict[int, float] = field(default_factory=dict)  # close row seq -> seconds with its holder


class Ticker:
    """Counts work done; every ``PROGRESS_EVERY`` steps reports the fraction and checks cancel."""

    def __init__(self, total: int, progress: Callable[[float], None] | None,
                 cancelled: Callable[[], bool] | None) -> None:
        self.total = max(total, 1)
        self.done = 0
        self.progress = progress
        self.cancelled = cancelled

    def step(self) -> None:
        self.done += 1
        if self.done % PROGRESS_EVERY == 0:
            self.check()

    def check(self) -> None:
        if self.cancelled is not None and self.cancelled():
            raise Cancelled()
        if self.progress is not None:
            self.progress(min(self.done / self.total, 1.0))


def _session(engine: Engine, buyer: str) -> Session | None:
    state = engine.buyers.get(buyer)
    return state.session if state is not None else None


def _decoded(rows: Sequence[LogRow]) -> list[AnyEvent | None]:
    return [event_decoder.decode(row.body) if row.kind == "event" else None for row in rows]


def _baseline(day: DayLog, events: list[AnyEvent | None], ticker: Ticker) -> Run:
    engine = copy_engine(day.engine)
    run = Run(engine.policy)
    last = engine.now
    for row, event in zip(day.rows, events, strict=True):
        ticker.step()
        last = max(last, row.at)
        if isinstance(event, Close):
            session = _session(engine, event.buyer)
            if session is not None:
                run.handling[row.seq] = max(0.0, last - session.routed_at)
        run.decisions.extend(_apply_recorded(engine, row, last, event))
    run.end = last
    return run


def _whatif(day: DayLog, events: list[AnyEvent | None], policy: Policy, handling: dict[int, float],
            ticker: Ticker) -> Run:
    engine = copy_engine(day.engine)
    run = Run(policy)
    out = run.decisions
    start = day.rows[0].at if day.rows else engine.now
    try:
        out.extend(engine.set_policy(policy, max(engine.now, start)))
    except PolicyError as exc:
        raise WhatIfError(f"这个策略不能在当天开始时换上: {exc} / the policy cannot be swapped in at the "
                          f"day's start: {exc}") from None
    waiting_close: dict[str, float] = {}  # buyer -> handling seconds, once it reaches an agent
    due_closes: list[tuple[float, int, str]] = []  # (when, order, buyer)
    serial = 0

    def note(decisions: list[Decision]) -> None:
        nonlocal serial
        for d in decisions:
            out.append(d)
            if d.buyer in waiting_close and d.event == "routed" and agent_of(d.to) is not None:
                serial += 1
                heapq.heappush(due_closes, (d.t + waiting_close.pop(d.buyer), serial, d.buyer))
            elif d.event == "closed":
                waiting_close.pop(d.buyer, None)

    def closes_until(until: float) -> None:
        while due_closes and due_closes[0][0] <= until:
            when, _, buyer = heapq.heappop(due_closes)
            if session_kind(engine, buyer) is HolderKind.AGENT:
                note(engine.apply(Close(buyer=buyer), max(engine.now, when)))
                run.adjusted["close_deferred"] += 1
            else:
                run.adjusted["close_dropped"] += 1

    last = engine.now
    for row, event in zip(day.rows, events, strict=True):
        ticker.step()
        last = max(last, row.at)
        closes_until(last)
        if event is None:
            if row.kind == "policy":
                run.adjusted["policy_swap_skipped"] += 1
            continue  # advance: the engine's own timers fire at their due times
        if isinstance(event, Close | HolderReply):
            kind = session_kind(engine, event.buyer)
            if kind is None:
                run.adjusted["close_dropped" if isinstance(event, Close) else "reply_dropped"] += 1
                continue
            if kind in (HolderKind.QUEUE, HolderKind.POOL):
                if isinstance(event, Close):
                    waiting_close[event.buyer] = handling.get(row.seq, 0.0)
                else:
                    run.adjusted["reply_dropped"] += 1
                continue
        try:
            note(engine.apply(event, last))
        except EngineError:
            run.adjusted[f"{type(event).__name__.lower()}_dropped"] += 1
    closes_until(last)
    note(engine.advance(last))
    run.end = last
    if waiting_close:
        run.adjusted["close_still_waiting"] += len(waiting_close)
    return run


def session_kind(engine: Engine, buyer: str) -> HolderKind | None:
    """Who holds the buyer's open session (agent, bot, queue, pool), or None."""
    session = _session(engine, buyer)
    return session.kind if session is not None else None


# ---------------------------------------------------------------------------------------------
# Figures


@dataclass(slots=True)
class AgentFigures:
    received: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    queue_waits: list[float] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"received": self.received, "reasons": dict(sorted(self.reasons.items())),
                "taken_from_queue": len(self.queue_waits),
                "longest_wait_s": round(max(self.queue_waits, default=0.0), 3),
                "average_wait_s": round(sum(self.queue_waits) / len(self.queue_waits), 3) if self.queue_waits else 0.0}


@dataclass(slots=True)
class PoolFigures:
    peak: int = 0
    length: int = 0
    queued: int = 0
    waits: list[float] = field(default_factory=list)
    waiting_at_end: int = 0

    def as_json(self) -> dict[str, Any]:
        return {"peak": self.peak, "queued": self.queued, "waiting_at_end": self.waiting_at_end,
                "longest_wait_s": round(max(self.waits, default=0.0), 3),
                "average_wait_s": round(sum(self.waits) / len(self.waits), 3) if self.waits else 0.0}


@dataclass(slots=True)
class Figures:
    agents: dict[str, AgentFigures]
    pools: dict[str, PoolFigures]
    reasons: Counter[str]
    decisions: int

    def as_json(self) -> dict[str, Any]:
        total = sum(self.reasons.values())
        return {"decisions": self.decisions,
                "agents": {a: f.as_json() for a, f in self.agents.items()},
                "pools": {p: f.as_json() for p, f in sorted(self.pools.items())},
                "reasons": {r: round(n / total, 4) for r, n in sorted(self.reasons.items())} if total else {}}


def figures(decisions: Sequence[Decision], agents: Sequence[str], end: float) -> Figures:
    """Per agent, per pool and overall figures of one side (see the module's docstring)."""
    per_agent = {a: AgentFigures() for a in agents}
    pools: dict[str, PoolFigures] = {}
    reasons: Counter[str] = Counter()
    in_queue: dict[str, tuple[str, float]] = {}  # buyer -> (pool, since)
    for d in decisions:
        if d.why.value == "open_session":
            continue  # R9.1: a re-arrive into the session the buyer has (same holder, same queue place)
        left = in_queue.pop(d.buyer, None)
        wait = None
        if left is not None:
            pool, since = left
            wait = d.t - since
            figures_of = pools[pool]
            figures_of.length -= 1
            figures_of.waits.append(wait)
        if d.event == "closed":
            continue
        reasons[d.why.value] += 1
        if d.event == "queued":
            pool_figures = pools.setdefault(d.to, PoolFigures())
            pool_figures.queued += 1
            pool_figures.length += 1
            pool_figures.peak = max(pool_figures.peak, pool_figures.length)
            in_queue[d.buyer] = (d.to, d.t)
        elif (holder := agent_of(d.to)) is not None:
            agent = per_agent.setdefault(holder, AgentFigures())
            agent.received += 1
            agent.reasons[d.why.value] += 1
            if wait is not None:
                agent.queue_waits.append(wait)
    for pool, since in in_queue.values():
        pools[pool].waits.append(max(0.0, end - since))
        pools[pool].waiting_at_end += 1
    return Figures(per_agent, pools, reasons, len(decisions))


# ---------------------------------------------------------------------------------------------
# The comparison


@dataclass(slots=True)
class Comparison:
    day: str
    inputs: int
    baseline: Run
    whatif: Run
    baseline_figures: Figures
    whatif_figures: Figures
    recorded: int | None  # decisions in the record (None: not checked)
    mismatch: str | None  # the first difference between baseline and record, in words
    agent_names: dict[str, str]
    group_names: dict[str, str] = field(default_factory=dict)  # a group's name, for its queue (queue:ID)

    @property
    def baseline_matches(self) -> bool | None:
        return None if self.recorded is None else self.mismatch is None

    def as_json(self) -> dict[str, Any]:
        agents = list(dict.fromkeys([*self.baseline_figures.agents, *self.whatif_figures.agents]))
        empty = AgentFigures().as_json()
        pools = sorted(set(self.baseline_figures.pools) | set(self.whatif_figures.pools))
        empty_pool = PoolFigures().as_json()
        base, other = self.baseline_figures.as_json(), self.whatif_figures.as_json()
        return {
            "day": self.day,
            "inputs": self.inputs,
            "baseline_matches_record": self.baseline_matches,
            "recorded_decisions": self.recorded,
            "mismatch": self.mismatch,
            "decisions": {"baseline": base["decisions"], "whatif": other["decisions"]},
            "adjusted": dict(sorted(self.whatif.adjusted.items())),
            "agents": [{"id": a, "name": self.agent_names.get(a, a),
                        "baseline": base["agents"].get(a, empty), "whatif": other["agents"].get(a, empty)}
                       for a in agents],
            "pools": [{"pool": p, "name": self.group_names.get(p.removeprefix(QUEUE_PREFIX), "")
                       if p.startswith(QUEUE_PREFIX) else "",
                       "baseline": base["pools"].get(p, empty_pool),
                       "whatif": other["pools"].get(p, empty_pool)} for p in pools],
            "reasons": {"baseline": base["reasons"], "whatif": other["reasons"]},
        }


def first_mismatch(replayed: Sequence[Decision], recorded: Sequence[Recorded]) -> str | None:
    for index, (got, want) in enumerate(zip(map(recorded_of, replayed), recorded, strict=False)):
        if got != want:
            return f"decision {index + 1}: replayed {got}, recorded {want}"
    if len(replayed) != len(recorded):
        return f"replayed {len(replayed)} decisions, the record has {len(recorded)}"
    return None


def compare(day: DayLog, policy: Policy, *, progress: Callable[[float], None] | None = None,
            cancelled: Callable[[], bool] | None = None) -> Comparison:
    """Replay ``day`` as recorded and under ``policy``; compare. Raises Cancelled, WhatIfError."""
    ticker = Ticker(2 * len(day.rows), progress, cancelled)
    ticker.check()
    events = _decoded(day.rows)
    baseline = _baseline(day, events, ticker)
    whatif = _whatif(day, events, policy, baseline.handling, ticker)
    ticker.check()
    names = {a.id: a.name for a in day.engine.policy.agents}
    names.update({a.id: a.name for a in baseline.policy.agents})
    names.update({a.id: a.name for a in policy.agents})
    names.update(day.agent_names)
    groups = {g.id: g.name for side in (day.engine.policy, baseline.policy, policy) for g in side.groups if g.name}
    known = list(names)
    mismatch = None if day.recorded is None else first_mismatch(baseline.decisions, day.recorded)
    result = Comparison(
        day=day.label, inputs=len(day.rows), baseline=baseline, whatif=whatif,
        baseline_figures=figures(baseline.decisions, known, baseline.end),
        whatif_figures=figures(whatif.decisions, [a.id for a in policy.agents], whatif.end),
        recorded=None if day.recorded is None else len(day.recorded), mismatch=mismatch, agent_names=names,
        group_names=groups)
    if progress is not None:
        progress(1.0)
    return result


# ---------------------------------------------------------------------------------------------
# Text


def _seconds(value: float) -> str:
    if value < 60:
        return f"{value:.0f}s"
    return f"{int(value // 60)}m{int(value % 60):02d}s"


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _table(rows: list[list[str]]) -> list[str]:
    """Columns padded to their widest cell (CJK counts two); the first left-aligned, the rest right."""
    widths = [max(_width(row[i]) for row in rows) for i in range(len(rows[0]))]
    out = []
    for row in rows:
        cells = [row[0] + " " * (widths[0] - _width(row[0]))]
        cells += [" " * (w - _width(cell)) + cell for cell, w in zip(row[1:], widths[1:], strict=True)]
        out.append("  ".join(cells).rstrip())
    return out


def _pair(before: object, after: object) -> str:
    return f"{before} → {after}"


def render_json(data: dict[str, Any]) -> str:
    """The comparison (``Comparison.as_json``) as tables: each figure as 'as recorded → what-if'."""
    lines = [f"假如 what-if · {data['day']} · {data['inputs']} 条输入 inputs · 每格: 实际 → 假如 / each cell: "
             "as recorded → what-if"]
    if data["baseline_matches_record"] is True:
        lines.append(f"基线与记录一致 baseline reproduces the record ({data['recorded_decisions']} decisions)")
    elif data["baseline_matches_record"] is False:
        lines.append(f"基线与记录不一致 baseline differs from the record: {data['mismatch']}")
    lines.append("")
    rows = [["坐席 agent", "接待 received", "最长排队 longest wait", "平均排队 average wait", "主要原因 top reason"]]
    for agent in data["agents"]:
        b, w = agent["baseline"], agent["whatif"]
        top = [max(side["reasons"], key=side["reasons"].get) if side["reasons"] else "-" for side in (b, w)]
        rows.append([f"{agent['name']} ({agent['id']})", _pair(b["received"], w["received"]),
                     _pair(_seconds(b["longest_wait_s"]), _seconds(w["longest_wait_s"])),
                     _pair(_seconds(b["average_wait_s"]), _seconds(w["average_wait_s"])), _pair(*top)])
    lines += _table(rows)
    if data["pools"]:
        rows = [["队列 queue", "峰值 peak", "排队 queued", "最长 longest", "平均 average", "结束时仍等 at end"]]
        for pool in data["pools"]:
            b, w = pool["baseline"], pool["whatif"]
            rows.append([f"{pool['name']} ({pool['pool']})" if pool["name"] else pool["pool"], _pair(b["peak"], w["peak"]), _pair(b["queued"], w["queued"]),
                         _pair(_seconds(b["longest_wait_s"]), _seconds(w["longest_wait_s"])),
                         _pair(_seconds(b["average_wait_s"]), _seconds(w["average_wait_s"])),
                         _pair(b["waiting_at_end"], w["waiting_at_end"])])
        lines += ["", *_table(rows)]
    rows = [["原因 reason", "占比 share"]]
    for reason in sorted(set(data["reasons"]["baseline"]) | set(data["reasons"]["whatif"])):
        b_share = data["reasons"]["baseline"].get(reason, 0.0)
        w_share = data["reasons"]["whatif"].get(reason, 0.0)
        rows.append([reason, _pair(f"{b_share:.1%}", f"{w_share:.1%}")])
    lines += ["", *_table(rows)]
    if data["adjusted"]:
        lines += ["", "为这个策略调整的输入 inputs adjusted for the what-if: "
                  + ", ".join(f"{k} {v}" for k, v in data["adjusted"].items())]
    return "\n".join(lines)
