"""The short version of bench/failover.py (issue 15): two server processes on one PostgreSQL,
shops spread over both, steady buyer traffic, kill -9 of the owner of a random shop, restarted as
a standby each time. Every takeover happens, nothing acknowledged is lost or stored twice, no
shop is accepted by two processes at once, and each buyer's messages keep their order."""

from __future__ import annotations

import asyncio
import math
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

import failover  # noqa: E402  (bench/failover.py)

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX processes")


def test_kill_nine_of_owners_loses_nothing_and_never_serves_a_shop_twice(pg_url: str, tmp_path: Path) -> None:
    args = failover.parser().parse_args(["--shops", "4", "--kills", "2", "--settle", "0.2", "--prefix", "fo",
                                         "--timeout", "45", "--probe", "0.3"])
    result = asyncio.run(failover.bench(args, pg_url, tmp_path))
    assert result["kills"] == 2 and math.isfinite(result["takeover_max_s"]), result
    assert result["acked"] > 0
    assert (result["lost"], result["duplicated"], result["double_assignments"], result["order_violations"]) \
        == (0, 0, 0, 0), result
