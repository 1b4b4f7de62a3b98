"""The short version of bench/failover.py (issue 15): two server processes on one PostgreSQL,
shops spread over both, steady buyer traffic and an agent closing sessions (dequeues), kill -9 of
the owner of a random shop, restarted as a standby each time. Every takeover happens, nothing
acknowledged is lost or stored twice, no shop is routed by two processes (decisions.owner), the
queue is served in order (R10.3) and each buyer's messages keep their order. The bench's checks
are tried on made-up decision sequences too: each finds what it is for."""

from __future__ import annotations

import asyncio
import math
import sys
from pathlib import Path

import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

import failover  # noqa: E402  (bench/failover.py)

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX processes")


def test_kill_nine_of_owners_loses_nothing_and_never_serves_a_shop_twice(pg_url: str, tmp_path: Path) -> None:
    args = failover.parser().parse_args(["--shops", "4", "--kills", "2", "--settle", "0.2", "--prefix", "fo",
                                         "--timeout", "45"])
    result = asyncio.run(failover.bench(args, pg_url, tmp_path))
    assert result["kills"] == 2 and math.isfinite(result["takeover_max_s"]), result
    assert result["acked"] > 0
    assert (result["lost"], result["duplicated"], result["double_assignments"], result["order_violations"]) \
        == (0, 0, 0, 0), result
    with psycopg.connect(pg_url, autocommit=True) as conn:  # the checks had something to check
        dequeued = sum(conn.execute(f"SELECT count(*) FROM shop_fo{i:02d}.decisions WHERE why = 'dequeued'"
                                    ).fetchone()[0] for i in range(4))
        owners = sum(conn.execute(f"SELECT count(DISTINCT owner) FROM shop_fo{i:02d}.decisions").fetchone()[0]
                     for i in range(4))
    assert dequeued > 4 and owners > 4  # queues served, and shops routed by more than one incarnation


def test_the_owner_check_counts_a_server_that_routes_after_another_began() -> None:
    assert failover.owner_violations(["a", "a", None, "b", "b", "c"]) == 0  # takeovers, one after another
    assert failover.owner_violations(["a", "b", "a", "b", "a"]) == 2  # a kept routing after b took the shop


def test_the_queue_check_counts_dequeues_out_of_order_and_places_not_at_the_back() -> None:
    q = [("b1", "queued", "queue:shop", "offline_queue", 1), ("b2", "queued", "queue:shop", "offline_queue", 2),
         ("b3", "queued", "queue:presale", "queued", 1),
         ("b1", "queued", "queue:shop", "open_session", 1)]  # a re-arrival keeps its place (R9.1)
    in_order = [("b1", "routed", "agent:a1", "dequeued", None), ("b2", "routed", "agent:a1", "dequeued", None),
                ("b3", "routed", "agent:a1", "dequeued", None)]
    assert failover.queue_violations(q + in_order) == 0
    assert failover.queue_violations(q + [in_order[1], in_order[0], in_order[2]]) == 1  # R10.3: b2 before b1
    assert failover.queue_violations(q + [("b4", "queued", "queue:shop", "queued", 1)]) == 1  # R10.2: not the back
