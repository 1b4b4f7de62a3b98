"""The token bucket that bounds each connection's message rate."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from console.protocol.limits import RateLimit


def test_burst_then_refuse_then_refill() -> None:
    limit = RateLimit(rate=2, burst=3)
    assert [limit.allow(10.0) for _ in range(4)] == [True, True, True, False]
    assert limit.allow(10.4) is False  # 0.8 token
    assert limit.allow(10.5) is True  # 1.0 token
    assert limit.allow(100.0) and limit.allow(100.0) and limit.allow(100.0)
    assert not limit.allow(100.0)  # refill stops at the burst


def test_clock_going_backwards_grants_nothing() -> None:
    limit = RateLimit(rate=1, burst=1)
    assert limit.allow(5.0)
    assert not limit.allow(1.0)
    assert not limit.allow(5.5)
    assert limit.allow(6.0)


def test_bad_settings() -> None:
    with pytest.raises(ValueError):
        RateLimit(rate=0)
    with pytest.raises(ValueError):
        RateLimit(burst=0.5)


@given(st.lists(st.floats(0, 0.5), min_size=1, max_size=200), st.floats(0.5, 50), st.integers(1, 50))
def test_never_more_than_burst_plus_rate_times_elapsed(gaps: list[float], rate: float, burst: int) -> None:
    limit = RateLimit(rate=rate, burst=burst)
    now, allowed = 0.0, 0
    for gap in gaps:
        now += gap
        allowed += limit.allow(now)
    assert allowed <= burst + rate * now + 1e-9
