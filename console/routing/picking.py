"""Picking one agent among candidates (R8.1-R8.5), with the engine's one seeded generator (R8.7)."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar

from console.routing.policy import Pick


class Candidate(Protocol):
    """What a pick strategy looks at; the engine's agent state provides it."""

    @property
    def index(self) -> int: ...  # policy order

    @property
    def level(self) -> int: ...

    @property
    def saturation(self) -> float: ...

    @property
    def received_today(self) -> int: ...


C = TypeVar("C", bound=Candidate)


def _weighted(candidates: Sequence[C], weights: Sequence[float], rng: random.Random) -> C:
    total = sum(weights)
    if total <= 0:
        return candidates[rng.randrange(len(candidates))]
    point = rng.random() * total
    running = 0.0
    for candidate, weight in zip(candidates, weights, strict=True):
        running += weight
        if point < running:
            return candidate
    return candidates[-1]


def pick(strategy: Pick, candidates: Sequence[C], rng: random.Random, conversion: Callable[[C], float]) -> C:
    """Choose one of ``candidates`` (non-empty, in policy order) by ``strategy``."""
    if len(candidates) == 1:
        return candidates[0]
    if strategy is Pick.LEVEL:  # R8.1
        return _weighted(candidates, [c.level for c in candidates], rng)
    if strategy is Pick.CONVERSION:  # R8.2
        return _weighted(candidates, [c.level * conversion(c) for c in candidates], rng)
    if strategy is Pick.LEAST_SATURATED:  # R8.3
        return min(candidates, key=lambda c: (c.saturation, c.received_today, c.index))
    if strategy is Pick.EVEN_DAILY:  # R8.4
        return min(candidates, key=lambda c: (c.received_today, c.saturation, c.index))
    return candidates[rng.randrange(len(candidates))]  # R8.5
