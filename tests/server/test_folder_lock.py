"""One server per data folder: a second one exits naming the folder and the PID holding it."""

from __future__ import annotations

import asyncio
import io
import os
import signal
import sys
from pathlib import Path

import pytest

from console.cli import main as fenliu
from console.protocol.messages import LoginOk
from console.server.app import Server, ServerConfig, ServerError
from console.server.store import FolderLock

from .helpers import Client, run, running_server, seed_accounts, write_policy
from .test_kill import start

pytestmark = [pytest.mark.skipif(sys.platform == "win32", reason="fcntl.flock"), pytest.mark.sqlite_only]  # the SQLite data folder's lock (PostgreSQL: test_pg_ownership.py)


def _second(folder: Path) -> Server:
    return Server(ServerConfig(port=0, data_dir=folder / "data", policy_file=folder / "policy.toml"))


def test_a_second_server_on_the_folder_is_refused_and_names_the_holder(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path):
            before = (tmp_path / "data" / "fenliu.db").read_bytes()
            with pytest.raises(ServerError) as refused:
                await _second(tmp_path).start()
            message = str(refused.value)
            assert str(tmp_path / "data") in message and f"PID {os.getpid()}" in message
            assert "--data" in message
            assert FolderLock.holder(tmp_path / "data") == os.getpid()
            assert (tmp_path / "data" / "fenliu.db").read_bytes() == before  # the second touched nothing
        assert FolderLock.holder(tmp_path / "data") is None  # released at stop
        second = _second(tmp_path)
        await second.start()  # and the folder can be served again
        await second.stop()

    run(scenario())


def test_the_lock_of_a_killed_server_goes_with_it(tmp_path: Path) -> None:
    seed_accounts(tmp_path / "data", write_policy(tmp_path))

    async def scenario() -> None:
        process, _ = await start(tmp_path)
        try:
            with pytest.raises(ServerError, match=f"PID {process.pid}"):
                await _second(tmp_path).start()
        finally:
            process.send_signal(signal.SIGKILL)
            await asyncio.wait_for(process.wait(), 30)
        server = _second(tmp_path)
        await server.start()
        await server.stop()

    run(scenario())


def test_the_command_exits_with_the_message(tmp_path: Path) -> None:
    seed_accounts(tmp_path / "data", write_policy(tmp_path))

    async def scenario() -> None:
        first, _ = await start(tmp_path)
        try:
            second = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "console", "server", "--port", "0", "--data", str(tmp_path / "data"),
                "--policy", str(tmp_path / "policy.toml"), stderr=asyncio.subprocess.PIPE)
            try:
                _, stderr = await asyncio.wait_for(second.communicate(), 30)
            finally:
                if second.returncode is None:  # it started after all: do not leave it running
                    second.kill()
                    await second.wait()
            assert second.returncode == 2
            assert f"PID {first.pid}".encode() in stderr and b"Traceback" not in stderr
        finally:
            first.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(first.wait(), 30) == 0

    run(scenario())


def test_account_commands_work_beside_a_running_server_buyer_kinds_wait(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Accounts are read from the database at each login, so ``accounts passwd`` may run beside
    the server (SQLite serializes the writes); buyer kinds are cached by the server, so ``accounts
    buyer`` refuses while one runs instead of writing what the server would not see."""
    data = str(tmp_path / "data")

    async def scenario() -> None:
        async with running_server(tmp_path) as server:
            monkeypatch.setattr("sys.stdin", io.StringIO("n3w-passw0rd\n"))
            assert fenliu(["accounts", "passwd", "a1", "--password-stdin", "--data", data]) == 0
            client = await Client.agent(server)
            ok, _ = await client.login("a1", "n3w-passw0rd")  # the running server sees the new password
            assert isinstance(ok, LoginOk)
            await client.close()
            assert fenliu(["accounts", "buyer", "xiaoer-01", "--kind", "staff", "--data", data]) == 1
            assert f"PID {os.getpid()}" in capsys.readouterr().err
        assert fenliu(["accounts", "buyer", "xiaoer-01", "--kind", "staff", "--data", data]) == 0

    run(scenario())
