"""A killed server (kill -9) loses no acknowledged message, routing state or queue place (CONSOLE.md §5).

The server runs as the real ``fenliu server`` command in a child process; the test reads the
port from its "listening" line, drives it, kills it without warning and starts it again on the
same data folder.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from pathlib import Path

import pytest

from console.protocol.messages import Arrive, Open, Reply, ReplyAck, Say, SayAck

from .helpers import Client, run, seed_accounts, store_config, write_policy
from .test_live_routing import QUEUE_POLICY
from .test_reception import buyer, online

LISTENING = re.compile(rb"listening on (ws://\S+)")


class _Url:
    def __init__(self, url: str) -> None:
        self.url = url


async def start(folder: Path) -> tuple[asyncio.subprocess.Process, _Url]:
    on_pg = store_config(folder / "data")  # PostgreSQL (conftest store_kind): the test's shop there
    pg = ["--store", on_pg["store"], "--shop", on_pg["shops"][0]] if on_pg else []
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "console", "server", "--port", "0", "--data", str(folder / "data"),
        "--policy", str(folder / "policy.toml"), *pg, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stderr is not None
    while True:
        line = await asyncio.wait_for(process.stderr.readline(), 30)
        if not line:
            raise RuntimeError("the server exited before listening")
        found = LISTENING.search(line)
        if found:
            return process, _Url(found.group(1).decode())


@pytest.mark.skipif(sys.platform == "win32", reason="kill -9")
def test_kill_minus_nine_loses_nothing_acknowledged(tmp_path: Path) -> None:
    seed_accounts(tmp_path / "data", write_policy(tmp_path, QUEUE_POLICY))

    async def first_life() -> dict[str, int]:
        process, server = await start(tmp_path)
        acked: dict[str, int] = {}
        a1 = await online(server, "a1")  # type: ignore[arg-type]
        b1 = await buyer(server, "b1")  # type: ignore[arg-type]
        await b1.request(Arrive())
        queued = [await buyer(server, f"q{i}") for i in range(3)]  # type: ignore[arg-type]
        for client in queued:
            await client.request(Arrive())
        for i in range(20):
            ack = await b1.request(Say(text=f"问题{i}", client_id=f"m{i}"))
            assert isinstance(ack, SayAck)
            acked[f"m{i}"] = ack.message_id
            reply = await a1.request(Reply(conversation="b1", text=f"回答{i}", client_id=f"c{i}"))
            assert isinstance(reply, ReplyAck)
            acked[f"c{i}"] = reply.message_id
        process.send_signal(signal.SIGKILL)
        await process.wait()
        return acked

    async def second_life(acked: dict[str, int]) -> None:
        process, server = await start(tmp_path)
        try:
            a1 = await Client.agent(server)  # type: ignore[arg-type]
            await a1.login("a1")
            history = await a1.request(Open(conversation="b1", limit=500))
            stored = {m.client_id: m.id for m in history.messages}
            assert stored == acked  # every acknowledged message, each once
            for i, client_id in enumerate(("q0", "q1", "q2")):  # queue order kept (R10.7)
                again = await (await buyer(server, client_id)).request(Arrive())  # type: ignore[arg-type]
                assert again.to == "queue" and again.position == i + 1 and again.why == "open_session"
        finally:
            process.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(process.wait(), 30) == 0

    acked = run(first_life())
    run(second_life(acked))
