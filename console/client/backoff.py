"""How long to wait before the next reconnection attempt: exponential, capped, with jitter.

Jitter matters at 11.11: when the server restarts, hundreds of consoles lose it at the same
moment, and without it they would all come back at the same moment too. "Equal jitter" keeps half
of each delay fixed (so a console never hammers the server) and draws the other half at random.
The random generator is passed in, so tests and the simulator are reproducible.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class Backoff:
    """Delays ``initial * factor**n``, capped at ``cap``, each drawn from ``[d/2, d]``."""

    initial: float = 0.5
    factor: float = 2.0
    cap: float = 15.0
    rng: random.Random = field(default_factory=random.Random)
    attempts: int = 0

    def __post_init__(self) -> None:
        if self.initial <= 0 or self.factor < 1 or self.cap < self.initial:
            raise ValueError("backoff needs 0 < initial <= cap and factor >= 1")

    def next_delay(self) -> float:
        """The delay before the next attempt (and count this attempt)."""
        base = min(self.cap, self.initial * self.factor ** min(self.attempts, 64))
        self.attempts += 1
        return base / 2 + self.rng.uniform(0, base / 2)

    def reset(self) -> None:
        """A connection succeeded: the next failure starts from ``initial`` again."""
        self.attempts = 0
