"""The reconnection delays: growing, capped, jittered, reproducible with a seeded generator."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from console.client import Backoff


@given(seed=st.integers(0, 2**32), initial=st.floats(0.01, 5), cap=st.floats(5, 60), tries=st.integers(1, 80))
def test_delays_stay_between_half_and_all_of_the_capped_exponential(seed: int, initial: float, cap: float,
                                                                     tries: int) -> None:
    backoff = Backoff(initial=initial, cap=cap, rng=random.Random(seed))
    for n in range(tries):
        base = min(cap, initial * 2.0**n)
        assert base / 2 <= backoff.next_delay() <= base
    backoff.reset()
    assert backoff.next_delay() <= initial


def test_the_same_seed_gives_the_same_delays_and_bad_settings_are_refused() -> None:
    def delays(seed: int) -> list[float]:
        backoff = Backoff(rng=random.Random(seed))
        return [backoff.next_delay() for _ in range(10)]

    assert delays(3) == delays(3) != delays(4)
    with pytest.raises(ValueError):
        Backoff(initial=0)
    with pytest.raises(ValueError):
        Backoff(initial=10, cap=5)
