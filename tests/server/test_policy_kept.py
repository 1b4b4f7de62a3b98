"""A policy applied live is kept in the data folder and used at the next start (issue 10, point 7).

A real server on port 0, a supervisor console applying a policy over the protocol, restarts on
the same data folder with and without ``--policy``, and ``fenliu policy history``.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from console.cli import main as fenliu
from console.protocol.messages import ApplyPolicy, Ok
from console.server.app import Server, ServerConfig

from .helpers import POLICY, Client, run, running_server, store_args, store_config

APPLIED = POLICY.replace('disconnect_grace = "1h"', 'disconnect_grace = "2h"')


def _in_force(server: Server) -> str:
    assert server.shop is not None
    return server.shop.driver.policy_text


def test_a_policy_applied_live_is_what_the_next_start_uses(tmp_path: Path, caplog: pytest.LogCaptureFixture,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert APPLIED != POLICY
    data = tmp_path / "data"

    async def scenario() -> None:
        async with running_server(tmp_path) as server:
            sup = await Client.agent(server)
            await sup.login("sup")
            assert isinstance(await sup.request(ApplyPolicy(toml=APPLIED)), Ok)
            await sup.close()
        # `fenliu server` without --policy: the policy in force, not the example file
        restarted = Server(ServerConfig(port=0, data_dir=data, **store_config(data)))
        await restarted.start()
        try:
            assert _in_force(restarted) == APPLIED
        finally:
            await restarted.stop()
        # --policy given again: the file wins, and the server says so
        with caplog.at_level(logging.INFO, logger="fenliu.server"):
            async with running_server(tmp_path, seed=False) as server:
                assert _in_force(server) == POLICY
        assert any("replaces the one in force" in r.getMessage() and "by sup" in r.getMessage()
                   for r in caplog.records), [r.getMessage() for r in caplog.records]

    run(scenario())
    capsys.readouterr()
    assert fenliu(["policy", "history", "--data", str(data), *store_args(data)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3, lines
    assert "by fenliu server" in lines[0] and "policy.toml" in lines[0]
    assert "by sup" in lines[1] and "via apply_policy" in lines[1]
    assert "by fenliu server" in lines[2] and lines[2].endswith("(in force)")
    seq = lines[1].split()[0]
    assert fenliu(["policy", "history", "--data", str(data), "--show", seq, *store_args(data)]) == 0
    expected = APPLIED if APPLIED.endswith("\n") else APPLIED + "\n"
    assert capsys.readouterr().out == expected


def test_a_restart_with_the_same_file_records_nothing_new(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    async def scenario() -> None:
        for _ in range(2):
            async with running_server(tmp_path):
                pass

    run(scenario())
    capsys.readouterr()
    assert fenliu(["policy", "history", "--data", str(tmp_path / "data"), *store_args(tmp_path / "data")]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 1
