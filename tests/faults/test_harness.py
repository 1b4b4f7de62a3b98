"""The harness's own clock helpers: a fault run must never cross a local midnight by accident,
and the midnight scenario computes "today" without the server's code."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.faults.process import local_day, noon_zone

# Every hour of a day, and both sides of the date line.
MOMENTS = [1_767_225_600.0 + h * 3600 + 17 for h in range(24)]


@pytest.mark.parametrize("now", MOMENTS)
def test_noon_zone_puts_now_near_noon(now: float) -> None:
    local = datetime.fromtimestamp(now, ZoneInfo(noon_zone(now)))
    assert 11 <= local.hour <= 12, (noon_zone(now), local)


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "Etc/GMT+11", "Etc/GMT-12", "UTC"])
@pytest.mark.parametrize("now", MOMENTS[::5])
def test_local_day_holds_the_moment_and_starts_at_midnight(zone: str, now: float) -> None:
    start, end = local_day(now, zone)
    assert start <= now < end
    assert end - start == 86400  # these zones have no daylight saving
    midnight = datetime.fromtimestamp(start, ZoneInfo(zone))
    assert (midnight.hour, midnight.minute, midnight.second) == (0, 0, 0)
