"""Scenario files (SCENARIOS.md): a shop policy plus a timeline, validated before anything runs.

``load_scenario`` turns the parsed JSON into a :class:`Scenario` whose steps are ready-made
engine events and checked expectations, or raises :class:`ScenarioError` with the one line the
``replay`` command prints: ``step 4: ...`` or ``shop.queue.mode: ...``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from console.routing.durations import parse_duration
from console.routing.events import (
    AnyEvent,
    Arrive,
    BuyerSay,
    Close,
    Handoff,
    HolderReply,
    OrderChange,
    Reason,
    SetStatus,
    Status,
)
from console.routing.policy import ENTRIES, ORDER_EVENTS, Policy, PolicyError, load_policy_dict


class ScenarioError(ValueError):
    """A scenario that is not valid; the message is the one line to print."""


@dataclass(frozen=True, slots=True)
class ArriveMany:
    prefix: str
    count: int
    every: float
    template: Arrive  # buyer is filled in per arrival


@dataclass(frozen=True, slots=True)
class Expect:
    buyer: str | None = None
    to: str | None = None
    to_any: tuple[str, ...] | None = None
    why: str | None = None
    position: int | None = None
    eta: float | None = None
    closed: bool | None = None
    prefix: str | None = None
    share: dict[str, float] = field(default_factory=dict)
    tolerance: float = 0.0


@dataclass(frozen=True, slots=True)
class Step:
    index: int
    t: float  # seconds since start
    action: AnyEvent | ArriveMany | None
    expect: Expect | None


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    rules: tuple[str, ...]
    start: float  # epoch seconds
    policy: Policy
    steps: tuple[Step, ...]


_ARRIVE_FIELDS = {"entry", "product", "question", "intent", "crowd", "role", "exclusive"}
_VERBS: dict[str, tuple[set[str], set[str]]] = {  # verb: (required, optional) fields besides t/do
    "status": ({"agent", "status"}, set()),
    "arrive": ({"buyer"}, _ARRIVE_FIELDS),
    "arrive_many": ({"prefix", "count"}, _ARRIVE_FIELDS | {"every"}),
    "order": ({"buyer", "order", "state"}, set()),
    "say": ({"buyer", "text"}, set()),
    "reply": ({"buyer", "text"}, set()),
    "close": ({"buyer"}, set()),
    "handoff": ({"buyer"}, set()),
}
_EXPECT_KEYS = {"buyer", "to", "to_any", "why", "position", "eta", "closed", "prefix", "share", "tolerance"}
_REASONS = {r.value for r in Reason}


def _text(value: object, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{what} must be a non-empty string, got {value!r}")
    return value


def _opt_text(data: Mapping[str, Any], key: str) -> str | None:
    return _text(data[key], key) if key in data and data[key] is not None else None


class _Validator:
    def __init__(self, policy: Policy) -> None:
        self.agents = {a.id for a in policy.agents}
        self.groups = {g.id for g in policy.groups}
        self.prefixes: set[str] = set()

    def agent(self, value: object, what: str = "agent") -> str:
        name = _text(value, what)
        if name not in self.agents:
            raise ValueError(f"unknown agent {name!r}")
        return name

    def target(self, value: object) -> str:
        text = _text(value, "target")
        kind, _, ref = text.partition(":")
        if text in ("bot", "pool", "queue:shop"):
            return text
        if kind == "agent" and ref:
            self.agent(ref)
            return text
        if kind == "queue" and ref:
            if ref not in self.groups:
                raise ValueError(f"unknown group {ref!r} in target {text!r}")
            return text
        raise ValueError(f"bad target {text!r} (agent:ID, bot, pool, queue:GROUP or queue:shop)")

    def arrive(self, step: Mapping[str, Any], buyer: str) -> Arrive:
        entry = step.get("entry", "other")
        if not isinstance(entry, str) or entry not in ENTRIES:
            raise ValueError(f"unknown entry {entry!r} (one of: {', '.join(ENTRIES)})")
        crowd = step.get("crowd", [])
        if not isinstance(crowd, list) or not all(isinstance(c, str) and c for c in crowd):
            raise ValueError("crowd must be a list of strings")
        role = step.get("role", "consumer")
        if not isinstance(role, str) or role not in ("consumer", "merchant"):
            raise ValueError(f"unknown role {role!r} (consumer or merchant)")
        exclusive = self.agent(step["exclusive"], "exclusive") if step.get("exclusive") is not None else None
        return Arrive(buyer=buyer, entry=entry, product=_opt_text(step, "product"),
                      question=_opt_text(step, "question"), intent=_opt_text(step, "intent"),
                      crowd=tuple(crowd), role=role, exclusive=exclusive)

    def action(self, verb: str, step: Mapping[str, Any]) -> AnyEvent | ArriveMany:
        if verb == "status":
            status = step["status"]
            if not isinstance(status, str) or status not in {s.value for s in Status}:
                raise ValueError(f"unknown status {status!r} (online, suspended or offline)")
            return SetStatus(agent=self.agent(step["agent"]), status=Status(status))
        if verb == "arrive_many":
            count = step["count"]
            if isinstance(count, bool) or not isinstance(count, int) or count < 1:
                raise ValueError(f"count must be a whole number >= 1, got {count!r}")
            prefix = _text(step["prefix"], "prefix")
            self.prefixes.add(prefix)
            return ArriveMany(prefix=prefix, count=count, every=parse_duration(step.get("every", 0)),
                              template=self.arrive(step, prefix))
        buyer = _text(step["buyer"], "buyer")
        if verb == "arrive":
            return self.arrive(step, buyer)
        if verb == "order":
            state = step["state"]
            if not isinstance(state, str) or state not in ORDER_EVENTS:
                raise ValueError(f"unknown order state {state!r} (one of: {', '.join(ORDER_EVENTS)})")
            return OrderChange(buyer=buyer, order=_text(step["order"], "order"), state=state)
        if verb in ("say", "reply"):
            text = step["text"]
            if not isinstance(text, str):
                raise ValueError(f"text must be a string, got {text!r}")
            return BuyerSay(buyer=buyer, text=text) if verb == "say" else HolderReply(buyer=buyer, text=text)
        return Close(buyer=buyer) if verb == "close" else Handoff(buyer=buyer)

    def expect(self, data: object) -> Expect:
        if not isinstance(data, Mapping):
            raise ValueError("expect must be an object")
        unknown = set(data) - _EXPECT_KEYS
        if unknown:
            raise ValueError(f"unknown expect key {sorted(unknown)[0]!r}")
        if "prefix" in data:
            prefix = _text(data["prefix"], "prefix")
            if prefix not in self.prefixes:
                raise ValueError(f"no arrive_many before this step uses prefix {prefix!r}")
            share = data.get("share")
            if not isinstance(share, Mapping) or not share:
                raise ValueError("a prefix expectation needs a 'share' object of target: fraction")
            shares = {}
            for target, fraction in share.items():
                if isinstance(fraction, bool) or not isinstance(fraction, int | float) or not 0 <= fraction <= 1:
                    raise ValueError(f"share of {target!r} must be a number from 0 to 1")
                shares[self.target(target)] = float(fraction)
            tolerance = data.get("tolerance", 0)
            if isinstance(tolerance, bool) or not isinstance(tolerance, int | float) or tolerance < 0:
                raise ValueError("tolerance must be a number >= 0")
            return Expect(prefix=prefix, share=shares, tolerance=float(tolerance))
        if "buyer" not in data:
            raise ValueError("expect needs 'buyer' (or 'prefix' with 'share')")
        checks = {"to", "to_any", "why", "position", "eta", "closed"} & set(data)
        if not checks:
            raise ValueError("expect names a buyer but nothing to check (to, to_any, why, position, eta, closed)")
        why = data.get("why")
        if why is not None and (not isinstance(why, str) or why not in _REASONS):
            raise ValueError(f"unknown reason {why!r}")
        to_any = data.get("to_any")
        if to_any is not None and (not isinstance(to_any, list) or not to_any):
            raise ValueError("to_any must be a non-empty list of targets")
        position = data.get("position")
        if position is not None and (isinstance(position, bool) or not isinstance(position, int) or position < 1):
            raise ValueError(f"position must be a whole number >= 1, got {position!r}")
        closed = data.get("closed")
        if closed is not None and not isinstance(closed, bool):
            raise ValueError(f"closed must be true or false, got {closed!r}")
        return Expect(
            buyer=_text(data["buyer"], "buyer"),
            to=self.target(data["to"]) if "to" in data else None,
            to_any=tuple(self.target(t) for t in to_any) if to_any is not None else None,
            why=why, position=position,
            eta=parse_duration(data["eta"]) if "eta" in data else None,
            closed=closed,
        )


def _start(value: object) -> float:
    if not isinstance(value, str):
        raise ScenarioError(f"start: expected an ISO date-time like 2026-11-11T09:00:00+08:00, got {value!r}")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ScenarioError(f"start: not an ISO date-time: {value!r}") from None
    if moment.tzinfo is None:
        raise ScenarioError(f"start: {value!r} needs a UTC offset, e.g. +08:00")
    return moment.timestamp()


def load_scenario(data: object) -> Scenario:
    """Validate a parsed scenario file completely; raise ScenarioError naming the first problem."""
    if not isinstance(data, Mapping):
        raise ScenarioError("the scenario must be a JSON object")
    for key in ("start", "shop", "steps"):
        if key not in data:
            raise ScenarioError(f"{key}: missing")
    start = _start(data["start"])
    try:
        policy = load_policy_dict(data["shop"], "shop")
    except PolicyError as exc:
        raise ScenarioError(str(exc)) from None
    raw_steps = data["steps"]
    if not isinstance(raw_steps, list):
        raise ScenarioError("steps: expected a list")
    validator = _Validator(policy)
    steps: list[Step] = []
    last_t = 0.0
    for index, raw in enumerate(raw_steps):
        try:
            steps.append(_step(index, raw, validator))
        except (ValueError, KeyError, TypeError) as exc:
            problem = f"missing field {exc.args[0]!r}" if isinstance(exc, KeyError) else str(exc)
            raise ScenarioError(f"step {index}: {problem}") from None
        if steps[-1].t < last_t:
            raise ScenarioError(f"step {index}: time goes backwards ({steps[-1].t:g}s after {last_t:g}s)")
        last_t = steps[-1].t
    name = data.get("name", "")
    rules = data.get("rules", [])
    return Scenario(name=name if isinstance(name, str) else str(name),
                    rules=tuple(str(r) for r in rules) if isinstance(rules, list) else (),
                    start=start, policy=policy, steps=tuple(steps))


def _step(index: int, raw: object, validator: _Validator) -> Step:
    if not isinstance(raw, Mapping):
        raise ValueError("a step must be an object")
    if "t" not in raw:
        raise KeyError("t")
    t = parse_duration(raw["t"])
    if "expect" in raw:
        extra = set(raw) - {"t", "expect"}
        if extra:
            raise ValueError(f"unknown field {sorted(extra)[0]!r} in an expect step")
        return Step(index, t, None, validator.expect(raw["expect"]))
    if "do" not in raw:
        raise ValueError("a step needs 'do' or 'expect'")
    verb = raw["do"]
    if not isinstance(verb, str) or verb not in _VERBS:
        raise ValueError(f"unknown verb {verb!r} (one of: {', '.join(_VERBS)})")
    required, optional = _VERBS[verb]
    for key in sorted(required):
        if key not in raw:
            raise KeyError(key)
    extra = set(raw) - required - optional - {"t", "do"}
    if extra:
        raise ValueError(f"unknown field {sorted(extra)[0]!r} for {verb!r}")
    return Step(index, t, validator.action(verb, raw), None)
