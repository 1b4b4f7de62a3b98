"""A full disk: the server stops instead of running ahead of its database (issue 9).

The server is the real ``fenliu server`` in a child process whose files may not grow past a limit
(``RLIMIT_FSIZE``: a write past it fails with EFBIG, as on a full disk; Python ignores SIGXFSZ).
A buyer writes long messages, each answered by the agent, until a write fails. Then: no
acknowledgement for the request that hit the failure, the process exits non-zero with a paragraph
(no traceback), the database holds every acknowledged message and nothing of the failed one, the
agent's event numbers have no holes; started again with room, the server goes on from there.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
from pathlib import Path

import pytest

from console.protocol.messages import Arrive, Open, Reply, ReplyAck, Say, SayAck

from .helpers import Client, run, seed_accounts, write_policy
from .test_kill import LISTENING, _Url
from .test_live_routing import QUEUE_POLICY
from .test_reception import buyer, online

pytestmark = [pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE"), pytest.mark.sqlite_only]  # RLIMIT_FSIZE on the SQLite files


async def _start(folder: Path, file_limit: int | None) -> tuple[asyncio.subprocess.Process, _Url]:
    def limit() -> None:
        import resource

        if file_limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_limit, file_limit))

    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "console", "server", "--port", "0", "--data", str(folder / "data"),
        "--policy", str(folder / "policy.toml"), stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1"}, preexec_fn=limit,
    )
    assert process.stderr is not None
    while True:
        line = await asyncio.wait_for(process.stderr.readline(), 30)
        if not line:
            raise RuntimeError("the server exited before listening")
        found = LISTENING.search(line)
        if found:
            return process, _Url(found.group(1).decode())


def _db(folder: Path) -> sqlite3.Connection:
    return sqlite3.connect(folder / "data" / "fenliu.db")


def _agent_seqs(folder: Path) -> dict[str, list[int]]:
    with _db(folder) as db:
        rows = db.execute("SELECT agent, seq FROM agent_events ORDER BY agent, seq").fetchall()
    seqs: dict[str, list[int]] = {}
    for agent, seq in rows:
        seqs.setdefault(agent, []).append(seq)
    return seqs


def _assert_no_holes(folder: Path) -> None:
    for agent, seqs in _agent_seqs(folder).items():
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), f"holes in {agent}'s events"


def test_full_disk_stops_the_server_and_loses_nothing_acknowledged(tmp_path: Path) -> None:
    seed_accounts(tmp_path / "data", write_policy(tmp_path, QUEUE_POLICY))
    text = "请问这件衣服的尺码偏大还是偏小，我平时穿M号" * 60  # ~1,300 characters: WAL pages fill fast

    async def setup() -> None:  # a first life with room: buyer routed to a1
        process, server = await _start(tmp_path, None)
        try:
            await online(server, "a1")  # type: ignore[arg-type]
            b1 = await buyer(server, "b1")  # type: ignore[arg-type]
            await b1.request(Arrive())
        finally:
            process.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(process.wait(), 30) == 0

    async def full_life() -> tuple[dict[str, int], set[str], bytes]:
        sizes = [f.stat().st_size for f in (tmp_path / "data").rglob("*") if f.is_file()]
        process, server = await _start(tmp_path, max(sizes) + 192 * 1024)
        acked: dict[str, int] = {}
        unacked: set[str] = set()
        a1 = await online(server, "a1")  # type: ignore[arg-type]
        b1 = await buyer(server, "b1")  # type: ignore[arg-type]
        try:
            for i in range(400):
                answer = await b1.request(Say(text=f"{i}{text}", client_id=f"m{i}"))
                if not isinstance(answer, SayAck):
                    unacked.add(f"m{i}")
                    break
                acked[f"m{i}"] = answer.message_id
                answer = await a1.request(Reply(conversation="b1", text=f"{i}{text}", client_id=f"c{i}"))
                if not isinstance(answer, ReplyAck):
                    unacked.add(f"c{i}")
                    break
                acked[f"c{i}"] = answer.message_id
        except Exception:  # noqa: BLE001 - the connection closed under the request: no ack either
            unacked.add(f"m{len(acked) // 2}" if len(acked) % 2 == 0 else f"c{len(acked) // 2}")
        assert unacked, "the file limit was never reached"
        try:
            code = await asyncio.wait_for(process.wait(), 30)
        finally:
            if process.returncode is None:  # it kept serving: do not leave it running
                process.kill()
                await process.wait()
        assert process.stderr is not None
        stderr = await process.stderr.read()
        assert code != 0
        return acked, unacked, stderr

    async def next_life(acked: dict[str, int]) -> None:
        process, server = await _start(tmp_path, None)
        try:
            a1 = await Client.agent(server)  # type: ignore[arg-type]
            await a1.login("a1")
            history = await a1.request(Open(conversation="b1", limit=500))
            assert {m.client_id: m.id for m in history.messages if m.client_id} == acked
            b1 = await buyer(server, "b1")  # type: ignore[arg-type]
            assert isinstance(await b1.request(Say(text="还在吗", client_id="after")), SayAck)
        finally:
            process.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(process.wait(), 30) == 0

    run(setup())
    acked, unacked, stderr = run(full_life())
    tail = stderr.split(b"CRITICAL")[-1]
    assert b"could not be written" in tail and b"Traceback" not in tail
    with _db(tmp_path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored = dict(db.execute("SELECT client_id, id FROM messages WHERE client_id IS NOT NULL").fetchall())
    assert stored == acked  # every acknowledged message, and nothing of the failed request
    assert not unacked & set(stored)
    _assert_no_holes(tmp_path)
    run(next_life(acked))
    _assert_no_holes(tmp_path)
