"""The audit log over a real server (issue 14): status changes, transfers, closes by supervisors,
policy applies and account changes, who, when, what; kept across restarts; supervisors only."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from console.protocol.messages import (
    ApplyPolicy,
    Arrive,
    AuditAction,
    AuditLog,
    CloseSession,
    DayReport,
    Error,
    ErrorCode,
    GetAudit,
    GetReport,
    GetTeam,
    Ok,
    SetStatus,
    Status,
    Transfer,
)
from console.server.repository.schema import SCHEMA_VERSION

from .helpers import Client, run, running_server, store_args
from .test_reception import buyer, online
from .test_room import ROOM


def _what(log: AuditLog) -> list[tuple[str, str, str, str, str]]:
    return [(e.by, e.action.value, e.subject, e.value, e.previous) for e in log.entries]


def test_changes_are_audited_with_who_and_what(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path, policy=ROOM) as server:
            sup = await Client.agent(server)
            await sup.login("sup")
            start = await sup.request(GetAudit())
            assert isinstance(start, AuditLog), start
            seen = start.entries[-1].id if start.entries else 0
            a1 = await online(server, "a1")
            await online(server, "a2")
            b1 = await buyer(server, "b1", "买家一")
            assert (await b1.request(Arrive())).name == "小美"
            assert isinstance(await a1.request(Transfer(conversation="b1", agent="a2", note="请跟进")), Ok)
            refused = await a1.request(Transfer(conversation="b1", agent="ghost"))
            assert isinstance(refused, Error)  # refused: nothing audited
            assert isinstance(await sup.request(CloseSession(conversation="b1")), Ok)
            assert isinstance(await a1.request(SetStatus(status=Status.SUSPENDED)), Ok)
            assert isinstance(await a1.request(SetStatus(status=Status.SUSPENDED)), Ok)  # no change: no entry
            assert isinstance(await sup.request(ApplyPolicy(toml=ROOM.replace("seed = 3", "seed = 4"))), Ok)
            new = await sup.request(GetAudit(after=seen))
            assert isinstance(new, AuditLog) and new.opening == [] and not new.more
            assert new.now is not None and new.now >= new.entries[-1].at
            assert _what(new)[:5] == [
                ("a1", "status", "a1", "online", "offline"),
                ("a2", "status", "a2", "online", "offline"),
                ("a1", "transfer", "b1", "a2", "a1"),
                ("sup", "close", "b1", "", "a2"),
                ("a1", "status", "a1", "suspended", "online"),
            ]
            [policy] = new.entries[5:]
            assert (policy.by, policy.action, policy.previous) == ("sup", AuditAction.POLICY, "apply_policy")
            assert [e.id for e in new.entries] == sorted(e.id for e in new.entries) and new.entries[0].id > seen
            # a status entry's time is the engine's own time for the change (the room's "for how long")
            team = {a.id: a for a in (await sup.request(GetTeam())).team.agents}
            assert new.entries[4].at == team["a1"].status_since
            assert (await sup.request(GetAudit(after=new.entries[-1].id))).entries == []
            report = await sup.request(GetReport())
            assert isinstance(report, DayReport) and [e.id for e in report.audit][-6:] == [e.id for e in new.entries]

    run(scenario())


def test_the_log_and_its_times_survive_a_restart(tmp_path: Path) -> None:
    async def scenario() -> tuple[AuditLog, AuditLog]:
        async with running_server(tmp_path, policy=ROOM) as server:
            await online(server, "a1")
            sup = await Client.agent(server)
            await sup.login("sup")
            before = await sup.request(GetAudit())
        async with running_server(tmp_path, policy=ROOM, seed=False) as server:
            sup = await Client.agent(server)
            await sup.login("sup")
            after = await sup.request(GetAudit())
        return before, after

    before, after = run(scenario())
    statuses = [e for e in before.entries if e.action is AuditAction.STATUS]
    assert [(e.subject, e.value) for e in statuses] == [("a1", "online")]
    assert after.entries[: len(before.entries)] == before.entries  # the same rows, the same times
    # the restart's grace period has not run out (1h): a1 still online, nothing new about it
    assert [e for e in after.entries[len(before.entries):] if e.action is AuditAction.STATUS] == []


def test_an_account_changed_by_the_command_beside_the_server_is_audited(tmp_path: Path) -> None:
    async def scenario() -> AuditLog:
        async with running_server(tmp_path, policy=ROOM) as server:
            sup = await Client.agent(server)
            await sup.login("sup")
            seen = (await sup.request(GetAudit())).entries
            env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
            done = subprocess.run([sys.executable, "-m", "console", "accounts", "disable", "a2", "--data",
                                   str(tmp_path / "data"), *store_args(tmp_path / "data")], env=env, capture_output=True, text=True, timeout=60)
            assert done.returncode == 0, done.stderr
            log = await sup.request(GetAudit(after=seen[-1].id if seen else None))
            assert isinstance(log, AuditLog)
            return log

    log = run(scenario())
    [entry] = [e for e in log.entries if e.action is AuditAction.ACCOUNT]
    assert (entry.subject, entry.value) == ("a2", "disable")
    assert entry.by.startswith("fenliu accounts (")


def test_an_agent_is_refused_the_audit_log(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path, policy=ROOM) as server:
            a1 = await online(server, "a1")
            answer = await a1.request(GetAudit())
            assert isinstance(answer, Error) and answer.code is ErrorCode.FORBIDDEN, answer
            sup = await Client.agent(server)
            await sup.login("sup")
            bad = await sup.request(GetAudit(day="2026-02-30"))
            assert isinstance(bad, Error) and bad.code is ErrorCode.INVALID and bad.field == "day"

    run(scenario())


@pytest.mark.sqlite_only  # a SQLite schema-5 file
def test_a_schema_5_database_gets_its_status_history_from_the_engine_log(tmp_path: Path) -> None:
    import sqlite3

    from console.server.store import Store

    async def scenario() -> None:
        async with running_server(tmp_path, policy=ROOM) as server:
            a1 = await online(server, "a1")
            assert isinstance(await a1.request(SetStatus(status=Status.SUSPENDED)), Ok)
            assert isinstance(await a1.request(SetStatus(status=Status.ONLINE)), Ok)

    run(scenario())
    path = tmp_path / "data" / "fenliu.db"
    db = sqlite3.connect(path)
    expected = db.execute("SELECT at, by, subject, value, previous FROM audit WHERE action = 'status' ORDER BY id"
                          ).fetchall()
    db.execute("DROP TABLE audit")  # as a database of schema 5 was
    db.execute("UPDATE schema_version SET version = 5")
    db.commit()
    db.close()
    Store(path, synchronous="OFF").close()
    db = sqlite3.connect(path)
    migrated = db.execute("SELECT at, by, subject, value, previous FROM audit WHERE action = 'status' ORDER BY id"
                          ).fetchall()
    assert db.execute("SELECT version FROM schema_version").fetchone()[0] == SCHEMA_VERSION
    db.close()
    assert [(at, subject, value, previous) for at, _, subject, value, previous in migrated] == \
        [(at, subject, value, previous) for at, _, subject, value, previous in expected]
    assert [r[3] for r in migrated] == ["online", "suspended", "online"] and {r[1] for r in migrated} == {""}


def test_a_refused_request_leaves_no_audit_row_and_no_change(tmp_path: Path) -> None:
    """A request commits all its effects or none: a status change audited inside a request that
    then fails is gone from the log and from routing alike. (Planted once: committing the audit row
    on its own, outside the request's savepoint: this test failed, the request could no longer be
    rolled back.)"""
    import pytest

    from console.routing.events import Status as EngineStatus

    async def scenario() -> None:
        async with running_server(tmp_path, policy=ROOM) as server:
            shop = server.shop
            assert shop is not None
            await shop.committed()
            before = shop.store.all("SELECT id FROM audit")
            with pytest.raises(RuntimeError), shop.atomic():
                shop.set_status("a1", EngineStatus.ONLINE)
                assert shop.store.one("SELECT COUNT(*) FROM audit")[0] == len(before) + 1
                raise RuntimeError("the rest of the request failed")
            await shop.committed()
            assert shop.store.all("SELECT id FROM audit") == before
            assert shop.driver.engine is not None and shop.driver.engine.agent("a1").status is EngineStatus.OFFLINE
            with shop.atomic():
                shop.set_status("a1", EngineStatus.ONLINE)
            await shop.committed()
            assert len(shop.store.all("SELECT id FROM audit")) == len(before) + 1

    run(scenario())


def test_the_log_names_its_buyers_and_groups(tmp_path: Path) -> None:
    """The room shows names, never internal ids (issue 14): the answer carries the names of the
    buyers its transfers and closes are about (the buyers table) and of the groups transferred to;
    the team's queue rows carry their group's name."""
    named = ROOM.replace('id = "presale"\n', 'id = "presale"\nname = "售前"\n', 1)

    async def scenario() -> None:
        async with running_server(tmp_path, policy=named) as server:
            sup = await Client.agent(server)
            await sup.login("sup")
            a1 = await online(server, "a1")
            await online(server, "a2")
            b1 = await buyer(server, "b1", "买家一")
            await b1.request(Arrive())
            b2 = await buyer(server, "b2", "买家二")
            await b2.request(Arrive())
            assert isinstance(await a1.request(Transfer(conversation="b1", agent="a2")), Ok)
            assert isinstance(await sup.request(Transfer(conversation="b2", group="presale")), Ok)
            assert isinstance(await sup.request(CloseSession(conversation="b1")), Ok)
            log = await sup.request(GetAudit())
            assert isinstance(log, AuditLog), log
            assert [(e.action.value, e.subject) for e in log.entries if e.action in (AuditAction.TRANSFER, AuditAction.CLOSE)] == [
                ("transfer", "b1"), ("transfer", "b2"), ("close", "b1")]
            assert log.buyers == {"b1": "买家一", "b2": "买家二"} and log.groups == {"presale": "售前"}
            queues = (await sup.request(GetTeam())).team.queues
            assert [(q.pool, q.name) for q in queues] == [("queue:shop", ""), ("queue:presale", "售前")]  # the team's too
            later = await sup.request(GetAudit(after=log.entries[-1].id))  # nothing new: no names either
            assert isinstance(later, AuditLog) and later.buyers == {} and later.groups == {}

    run(scenario())
