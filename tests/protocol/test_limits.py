"""The token bucket that bounds each connection's message rate."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from console.protocol import limits
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


# -- docs/PROTOCOL.md "Limits" states what the code enforces (issue 10) -----------------------------

REPO = Path(__file__).resolve().parents[2]


def _limit_rows() -> list[tuple[str, str, list[str]]]:
    text = (REPO / "docs" / "PROTOCOL.md").read_text(encoding="utf-8")
    section = text.split("## Limits\n", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 4 or cells[0] in ("limit", "---"):
            continue
        rows.append((cells[0], cells[1], re.findall(r"`([A-Z][A-Z0-9_]+)`", cells[2])))
    return rows


def _numbers(value: str) -> list[float]:
    """The numbers of a table cell, leaving out what is said in parentheses."""
    outside = re.sub(r"\([^)]*\)", "", value)
    return [float(n.replace(",", "")) for n in re.findall(r"\d[\d,]*(?:\.\d+)?", outside)]


def test_the_protocol_doc_states_the_limits_the_code_enforces() -> None:
    rows = _limit_rows()
    assert len(rows) >= 12, rows
    named: set[str] = set()
    for what, value, constants in rows:
        assert constants, f"{what}: no constant named"
        actual = [float(getattr(limits, name)) for name in constants]
        assert _numbers(value) == actual, f"{what}: the doc says {value!r}, the code {dict(zip(constants, actual, strict=True))}"
        named.update(constants)
    enforced = {name for name in limits.__all__ if name.isupper() and not name.startswith("CLOSE_")}
    assert enforced <= named, f"limits the doc does not state: {sorted(enforced - named)}"


def test_the_server_defaults_are_the_protocol_constants() -> None:
    from console.server.limits import Limits

    defaults = Limits()
    assert (defaults.agent_rate, defaults.agent_burst) == (limits.AGENT_RATE, limits.AGENT_BURST)
    assert (defaults.buyer_rate, defaults.buyer_burst) == (limits.BUYER_RATE, limits.BUYER_BURST)
    assert defaults.max_connections == limits.MAX_CONNECTIONS
    assert defaults.hello_timeout == limits.HELLO_TIMEOUT
    assert defaults.prelogin_per_address == limits.PRELOGIN_PER_ADDRESS
    assert defaults.rate_strikes == limits.RATE_STRIKES
    assert (defaults.login_failures, defaults.login_account_failures, defaults.login_window) == (
        limits.LOGIN_FAILURES, limits.LOGIN_ACCOUNT_FAILURES, limits.LOGIN_WINDOW)
    assert (defaults.login_lockout, defaults.login_lockout_cap) == (limits.LOGIN_LOCKOUT, limits.LOGIN_LOCKOUT_CAP)
    assert (defaults.hash_workers, defaults.hash_queue, defaults.hashes_per_address) == (
        limits.LOGIN_HASH_WORKERS, limits.LOGIN_HASH_QUEUE, limits.LOGIN_HASHES_PER_ADDRESS)
