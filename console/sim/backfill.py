"""A plausible yesterday for a demo: receptions, chats with human response times, ratings, orders.

Yesterday's tiles (satisfaction, 3-minute response rate, average response) are counted from
stored facts, so a fresh demo database shows "-" for them. ``plan_yesterday`` draws, from a seed
alone (pure: no clock, no I/O), the facts of one shop day for the given agents: each agent gets
its own pace and manner, so their tiles differ the way real colleagues' do. ``fenliu sim
--backfill-yesterday --data DIR`` writes them through the server's store (the server counts
yesterday when it starts, so run it before starting the server).
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from console.protocol.messages import Entry
from console.sim import phrases

OPEN_HOUR = 9.0
CLOSE_HOUR = 23.0


@dataclass(frozen=True, slots=True)
class PastMessage:
    buyer: str
    author: str  # buyer, agent
    text: str
    at: float
    agent: str | None = None


@dataclass(frozen=True, slots=True)
class PastWait:
    agent: str
    buyer: str
    started: float
    answered: float | None


@dataclass(frozen=True, slots=True)
class PastRating:
    buyer: str
    agent: str
    score: int
    at: float


@dataclass(frozen=True, slots=True)
class PastOrder:
    buyer: str
    order: str
    state: str  # unpaid, paid
    at: float


@dataclass
class Yesterday:
    """The facts of one day, ready to be written."""

    buyers: list[tuple[str, str]] = field(default_factory=list)  # (id, name)
    receptions: list[tuple[str, str, float]] = field(default_factory=list)  # (agent, buyer, at)
    messages: list[PastMessage] = field(default_factory=list)
    waits: list[PastWait] = field(default_factory=list)
    ratings: list[PastRating] = field(default_factory=list)
    orders: list[PastOrder] = field(default_factory=list)  # every state change, in time order


def plan_yesterday(agents: Sequence[str], day_start: float, day_end: float, *, seed: int = 1,
                   per_agent: int = 40) -> Yesterday:
    """One day (``day_start`` is local midnight) of receptions for ``agents``, from ``seed``."""
    if day_end <= day_start:
        raise ValueError("the day must end after it starts")
    rng = random.Random(seed)
    day = Yesterday()
    hours = min(24.0, (day_end - day_start) / 3600.0)
    open_at = day_start + min(OPEN_HOUR, hours) * 3600.0
    close_at = day_start + min(CLOSE_HOUR, hours) * 3600.0
    number = 0
    for agent in agents:
        pace = rng.uniform(0.6, 1.8)  # this agent's typical answer time, as a factor of 35 s
        mood = rng.uniform(-0.08, 0.06)  # and how their buyers tend to rate them
        count = max(1, round(per_agent * rng.uniform(0.6, 1.4)))
        for _ in range(count):
            number += 1
            buyer = f"y{seed}-b{number:04d}"
            day.buyers.append((buyer, phrases.NICKNAMES[number % len(phrases.NICKNAMES)].format(
                phrases.SURNAMES[number % len(phrases.SURNAMES)])))
            _session(rng, day, agent, buyer, rng.uniform(open_at, close_at - 1800.0), pace, mood, seed, number)
    day.messages.sort(key=lambda m: m.at)
    day.receptions.sort(key=lambda r: r[2])
    day.orders.sort(key=lambda o: o.at)
    return day


def _answer_time(rng: random.Random, pace: float) -> float:
    """A human answer time: log-normal around 35 s × pace, a long tail past three minutes."""
    return min(1200.0, max(3.0, math.exp(rng.gauss(math.log(35.0 * pace), 0.9))))


def _session(rng: random.Random, day: Yesterday, agent: str, buyer: str, at: float, pace: float, mood: float,
             seed: int, number: int) -> None:
    entry = rng.choices([Entry.PRODUCT_DETAIL, Entry.ORDER_DETAIL, Entry.LIVE, Entry.AFTER_SALE], [50, 15, 20, 15])[0]
    day.receptions.append((agent, buyer, at))
    lines = [rng.choice(phrases.QUESTIONS[entry])] + [rng.choice(phrases.FOLLOW_UPS) for _ in range(rng.choice((0, 1, 2)))]
    t = at
    for i, line in enumerate(lines):
        day.messages.append(PastMessage(buyer, "buyer", line, t))
        last = i == len(lines) - 1
        if last and rng.random() < 0.04:  # now and then a buyer's last line is never answered
            day.waits.append(PastWait(agent, buyer, t, None))
            break
        answer = t + _answer_time(rng, pace)
        text = rng.choice(phrases.AGENT_CLOSINGS) if last and i > 0 else rng.choice(phrases.AGENT_ANSWERS[entry])
        day.messages.append(PastMessage(buyer, "agent", text, answer, agent))
        day.waits.append(PastWait(agent, buyer, t, answer))
        t = answer + rng.uniform(10.0, 120.0)
    if entry in (Entry.PRODUCT_DETAIL, Entry.LIVE) and rng.random() < 0.45:
        order = f"y{seed}-o{number:04d}"
        placed = t + rng.uniform(30.0, 600.0)
        day.orders.append(PastOrder(buyer, order, "unpaid", placed))
        if rng.random() < 0.7:
            day.orders.append(PastOrder(buyer, order, "paid", placed + rng.uniform(20.0, 900.0)))
    if rng.random() < 0.5:
        satisfied = rng.random() < 0.9 + mood
        score = rng.choice((4, 5, 5)) if satisfied else rng.choice((1, 2, 3))
        day.ratings.append(PastRating(buyer, agent, score, t + rng.uniform(30.0, 300.0)))
