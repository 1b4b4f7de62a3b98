"""README's "first real setup" works as typed (issue 12, defect 10): the commands are read from
the README itself and run in a scratch folder; the last one (the console) is replaced by the
real client logging in as the account the setup created."""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from console.client.agent import AgentClient
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.slow
PASSWORD = "first-setup-password"


def readme_setup() -> list[list[str]]:
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("A first real setup", 1)[1].split("\n\n", 2)[1]
    commands = []
    for line in block.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            commands.append(shlex.split(line))
    return commands


def test_the_readme_setup_runs_as_typed(tmp_path: Path) -> None:
    commands = readme_setup()
    assert [c[:2] for c in commands] == [["cp", "resources/policy.first-shop.toml"], ["fenliu", "accounts"],
                                         ["fenliu", "accounts"], ["fenliu", "policy"], ["fenliu", "server"],
                                         ["fenliu", "console"]]
    env = {**os.environ, "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "share"),
           "XDG_CONFIG_HOME": str(tmp_path / "config")}
    fenliu = [sys.executable, "-m", "console"]
    data = ["--data", str(tmp_path / "data")]  # README: every command that touches the data takes --data
    cp, *rest = commands
    (tmp_path / cp[2]).write_bytes((REPO_ROOT / cp[1]).read_bytes())
    for command in rest[:3]:
        args = fenliu + command[1:]
        stdin = None
        if command[1:3] == ["accounts", "add"]:
            args += ["--password-stdin", *data]
            stdin = PASSWORD + "\n"
        done = subprocess.run(args, cwd=tmp_path, env=env, input=stdin, capture_output=True, text=True,
                              timeout=60, check=False)
        assert done.returncode == 0, (command, done.stdout, done.stderr)
        if command[1] == "policy":
            assert "xiaomei" in done.stdout and "zhuguan" in done.stdout
    server_command = rest[3]
    server = subprocess.Popen(fenliu + server_command[1:] + ["--port", "0", *data], cwd=tmp_path, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        url = None
        assert server.stdout is not None
        for line in server.stdout:
            found = re.search(r"listening on (ws://\S+)", line)
            if found:
                url = found.group(1)
                break
        assert url is not None, "the server did not start"
        assert rest[4][1:3] == ["console", "--server"]

        async def log_in() -> str:
            client = AgentClient(url, "xiaomei", PASSWORD, state_dir=tmp_path / "state")
            await asyncio.wait_for(client.start(), 20)
            try:
                return client.account.role.value if client.account is not None else ""
            finally:
                await client.close()

        assert asyncio.run(log_in()) == "agent"
    finally:
        server.terminate()
        server.wait(20)
