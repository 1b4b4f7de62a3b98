"""The issue-9 measuring tools still measure: the relay's acknowledgements (``bench/peak.py
--relay-acks``), the shop's Python alone (``bench/shop_cpu.py --python-only``) and the panel's
sessions read both ways (``bench/panel_sessions.py``), small runs."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from typing import Any

import pytest
from websockets.asyncio.client import connect

from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.sqlite_only  # the tools choose their own store


async def _recv(conn: Any) -> dict[str, Any]:
    frame: dict[str, Any] = json.loads(await asyncio.wait_for(conn.recv(), 30))  # a frame that never comes fails
    return frame


async def _buyer_frames(acks: bool) -> list[dict[str, Any]]:
    """A buyer arrives, says one thing and is answered, through the relay: what the buyer got."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(REPO_ROOT / "bench" / "peak.py"), "--relay", "--agents", "1", "--cap", "1",
        *(["--relay-acks"] if acks else []), stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert proc.stdout is not None and proc.stdin is not None
    try:
        port = int((await proc.stdout.readline()).split()[1])
        async with connect(f"ws://127.0.0.1:{port}/agent?n=0") as agent, \
                connect(f"ws://127.0.0.1:{port}/buyer?b=b1") as buyer:
            await buyer.send(json.dumps({"type": "arrive", "rid": "r1"}))
            got = [await _recv(buyer)]
            await buyer.send(json.dumps({"type": "say", "rid": "r2", "text": "在吗", "client_id": "c1"}))
            said = await _recv(agent)
            assert said["type"] == "say" and said["client_id"] == "c1"
            await agent.send(json.dumps({"type": "reply", "rid": "r3", "conversation": "b1", "text": "在的"}))
            agent_got = await _recv(agent) if acks else None
            while not got or got[-1]["type"] != "reply":
                got.append(await _recv(buyer))
            if acks:
                assert agent_got == {"type": "ok", "rid": "r3"}
            return got
    finally:
        proc.stdin.close()
        await proc.wait()


def test_the_relay_acknowledges_say_and_reply_only_when_asked() -> None:
    plain = asyncio.run(_buyer_frames(acks=False))
    assert [f["type"] for f in plain] == ["routed", "reply"]
    acked = asyncio.run(_buyer_frames(acks=True))
    assert [f["type"] for f in acked] == ["routed", "ok", "reply"] and acked[1]["rid"] == "r2"


def _shop_cpu(pairs: int, *extra: str) -> dict[str, Any]:
    result = subprocess.run([sys.executable, str(REPO_ROOT / "bench" / "shop_cpu.py"), "--child", "--pairs", str(pairs),
                             "--concurrency", "4", "--queued", "10", *extra],
                            capture_output=True, text=True, check=True, timeout=120)
    row: dict[str, Any] = json.loads(result.stdout.splitlines()[-1])
    return row


def test_shop_cpu_runs_with_sqlite_and_without() -> None:
    whole = _shop_cpu(60)
    assert whole["cpu_us_per_message"] > 0 and whole["wal_frames_per_message"] > 0
    # past a trim of the agents' event log (every TRIM_EVERY events), whose reads by column name
    # failed on the stub before session 11
    alone = _shop_cpu(1000, "--python-only")
    assert alone["cpu_us_per_message"] > 0 and alone["wal_frames_per_message"] == 0


def test_panel_sessions_prints_both_reads_and_they_agree() -> None:
    result = subprocess.run([sys.executable, str(REPO_ROOT / "bench" / "panel_sessions.py"), "--json",
                             "--sizes", "300", "--rounds", "1"], capture_output=True, text=True, check=True, timeout=120)
    [row] = [json.loads(line) for line in result.stdout.splitlines()]
    assert list(row) == ["messages", "sessions", "ms", "baseline_ms", "ratio"] and row["messages"] == 300
    assert row["ms"] > 0 and row["baseline_ms"] > 0
