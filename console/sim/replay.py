"""Run a scenario through the real engine on a simulated clock (SCENARIOS.md).

``replay(scenario)`` yields one :class:`Line` per decision, in the order things happened, and
evaluates ``expect`` steps as it goes. No I/O: the ``replay`` command prints.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from console.routing.engine import Engine
from console.routing.events import Arrive, Decision
from console.sim.scenario import ArriveMany, Expect, Scenario


@dataclass(frozen=True, slots=True)
class Line:
    step: int
    t: float  # seconds since start
    decision: Decision

    def as_json(self) -> dict[str, Any]:
        d = self.decision
        out: dict[str, Any] = {"step": self.step, "t": float(self.t), "buyer": d.buyer, "event": d.event,
                               "to": d.to, "why": d.why.value}
        if d.event == "queued":
            out["position"] = d.position
            out["eta"] = _number(d.eta or 0.0)
            out["tip"] = d.tip
        return out


@dataclass(frozen=True, slots=True)
class Failure:
    step: int
    message: str


@dataclass(slots=True)
class _Seen:
    """Per buyer: the latest routed/queued line and whether a close followed it."""

    latest: dict[str, Decision] = field(default_factory=dict)
    closed: dict[str, bool] = field(default_factory=dict)

    def note(self, decision: Decision) -> None:
        if decision.event == "closed":
            self.closed[decision.buyer] = True
        else:
            self.latest[decision.buyer] = decision
            self.closed[decision.buyer] = False


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


class Replay:
    """One run of a scenario. Iterate ``run()`` for the lines; ``failures`` fills as it goes."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.engine = Engine(scenario.policy, start=scenario.start)
        self.failures: list[Failure] = []
        self.checked = 0
        self._seen = _Seen()
        self._arrivals: list[tuple[float, int, Arrive]] = []
        self._serial = 0
        self._prefix_counts: dict[str, int] = {}

    def _emit(self, step: int, decisions: list[Decision]) -> Iterator[Line]:
        for decision in decisions:
            self._seen.note(decision)
            yield Line(step, decision.t - self.scenario.start, decision)

    def _advance(self, until: float, step: int) -> Iterator[Line]:
        """Move the clock to ``until``: timers and scheduled arrivals due by then, in time order
        (a timer before an arrival at the same moment)."""
        while True:
            wake = self.engine.next_wake()
            arrival = self._arrivals[0][0] if self._arrivals else None
            if wake is not None and wake <= until and (arrival is None or wake <= arrival):
                yield from self._emit(step, self.engine.advance(wake))
            elif arrival is not None and arrival <= until:
                at, _, event = heapq.heappop(self._arrivals)
                yield from self._emit(step, self.engine.apply(event, at))
            else:
                yield from self._emit(step, self.engine.advance(until))
                return

    def run(self) -> Iterator[Line]:
        start = self.scenario.start
        last = 0
        for step in self.scenario.steps:
            last = step.index
            now = start + step.t
            yield from self._advance(now, step.index)
            if step.expect is not None:
                self._check(step.index, step.expect)
            elif isinstance(step.action, ArriveMany):
                many = step.action
                self._prefix_counts[many.prefix] = self._prefix_counts.get(many.prefix, 0) + many.count
                for i in range(many.count):
                    event = Arrive(buyer=f"{many.prefix}{i + 1}", entry=many.template.entry,
                                   product=many.template.product, question=many.template.question,
                                   intent=many.template.intent, crowd=many.template.crowd,
                                   role=many.template.role, exclusive=many.template.exclusive)
                    self._serial += 1
                    heapq.heappush(self._arrivals, (now + i * many.every, self._serial, event))
                yield from self._advance(now, step.index)
            elif step.action is not None:
                yield from self._emit(step.index, self.engine.apply(step.action, now))
        if self._arrivals:  # arrivals after the last step still happen, with the last index
            yield from self._advance(max(a[0] for a in self._arrivals), last)

    # -----------------------------------------------------------------------------------------

    def _check(self, index: int, expect: Expect) -> None:
        self.checked += 1
        problem = self._problem(expect)
        if problem:
            self.failures.append(Failure(index, problem))

    def _problem(self, e: Expect) -> str | None:
        if e.prefix is not None:
            n = self._prefix_counts.get(e.prefix, 0)
            counts: dict[str, int] = {}
            for i in range(1, n + 1):
                decision = self._seen.latest.get(f"{e.prefix}{i}")
                if decision is not None:
                    counts[decision.to] = counts.get(decision.to, 0) + 1
            wrong = []
            for target, wanted in e.share.items():
                got = counts.get(target, 0) / n if n else 0.0
                if abs(got - wanted) > e.tolerance + 1e-9:
                    wrong.append(f"{target} {got:.3f} (expected {wanted:.3f} ± {e.tolerance:g})")
            return f"shares of {e.prefix}1..{e.prefix}{n}: " + "; ".join(wrong) if wrong else None
        assert e.buyer is not None
        latest = self._seen.latest.get(e.buyer)
        if e.closed is not None:
            closed = self._seen.closed.get(e.buyer, False)
            if closed != e.closed:
                return f"{e.buyer}: expected closed={str(e.closed).lower()}, got closed={str(closed).lower()}"
        checks = (e.to, e.to_any, e.why, e.position, e.eta)
        if all(c is None for c in checks):
            return None
        if latest is None:
            return f"{e.buyer}: expected a routed/queued event, but the buyer has none"
        got = f"got {latest.event} to {latest.to} (why {latest.why.value}"
        got += f", position {latest.position}, eta {_number(latest.eta or 0)})" if latest.event == "queued" else ")"
        if e.to is not None and latest.to != e.to:
            return f"{e.buyer}: expected to {e.to}, {got}"
        if e.to_any is not None and latest.to not in e.to_any:
            return f"{e.buyer}: expected to one of {', '.join(e.to_any)}, {got}"
        if e.why is not None and latest.why.value != e.why:
            return f"{e.buyer}: expected why {e.why}, {got}"
        if e.position is not None and (latest.event != "queued" or latest.position != e.position):
            return f"{e.buyer}: expected queued at position {e.position}, {got}"
        if e.eta is not None and (latest.event != "queued" or latest.eta != e.eta):
            return f"{e.buyer}: expected queued with eta {_number(e.eta)}, {got}"
        return None
