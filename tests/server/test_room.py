"""The supervisor's room over a real server (issue 14): pick a queue's buyers and an agent's
conversations from lists; agents are refused each of these requests."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.protocol.messages import (
    AgentConversations,
    Arrive,
    CloseSession,
    DayReport,
    Error,
    ErrorCode,
    GetAgentConversations,
    GetQueue,
    GetReport,
    GetTeam,
    Ok,
    QueueBuyers,
    Reply,
    ReplyAck,
    Routed,
    Say,
    TeamUpdated,
)

from .helpers import AGENTS, Client, run, running_server, where_of
from .test_reception import buyer, online

ROOM = """
preset = "douyin"
seed = 3
disconnect_grace = "1h"

[queue]
mode = "shop"
avg_handle = "2m"

[[groups]]
id = "presale"
cap = 1

""" + AGENTS


def test_a_queue_lists_its_buyers_in_order_with_names_and_waits(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path, policy=ROOM) as server:
            a1, _a2 = await online(server, "a1"), await online(server, "a2")
            held = []
            for i in (1, 2):
                client = await buyer(server, f"h{i}", f"先到{i}")
                held.append((await client.request(Arrive())).name)
            for i in (1, 2, 3):
                client = await buyer(server, f"q{i}", f"排队{i}")
                assert (await client.request(Arrive())).position == i
            sup = await Client.agent(server)
            await sup.login("sup")
            answer = await sup.request(GetQueue(pool="queue:presale"))
            assert isinstance(answer, QueueBuyers), answer
            assert [(b.id, b.name, b.position) for b in answer.buyers] == [
                ("q1", "排队1", 1), ("q2", "排队2", 2), ("q3", "排队3", 3)]
            assert all(b.waited >= 0 and b.eta is not None for b in answer.buyers)
            # a slot frees: the head leaves the queue and the list follows
            first = "h1" if held[0] == "小美" else "h2"
            assert isinstance(await a1.request(CloseSession(conversation=first)), Ok)
            again = await sup.request(GetQueue(pool="queue:presale"))
            assert [(b.id, b.position) for b in again.buyers] == [("q2", 1), ("q3", 2)]
            missing = await sup.request(GetQueue(pool="queue:nobody"))
            assert isinstance(missing, Error) and missing.code is ErrorCode.NOT_FOUND

    run(scenario())


def test_an_agent_lists_only_the_sessions_it_holds(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path, policy=ROOM) as server:
            a1 = await online(server, "a1")
            b1 = await buyer(server, "b1", "买家一")
            routed = await b1.request(Arrive())
            assert isinstance(routed, Routed) and routed.name == "小美"
            sup = await Client.agent(server)
            await sup.login("sup")
            answer = await sup.request(GetAgentConversations(agent="a1"))
            assert isinstance(answer, AgentConversations), answer
            assert [(c.id, c.name, c.holder) for c in answer.conversations] == [("b1", "买家一", "agent:a1")]
            assert (await sup.request(GetAgentConversations(agent="a2"))).conversations == []
            assert isinstance(await a1.request(CloseSession(conversation="b1")), Ok)
            assert (await sup.request(GetAgentConversations(agent="a1"))).conversations == []
            missing = await sup.request(GetAgentConversations(agent="ghost"))
            assert isinstance(missing, Error) and missing.code is ErrorCode.NOT_FOUND

    run(scenario())


@pytest.mark.parametrize("request_", [GetQueue(pool="queue:presale"), GetAgentConversations(agent="a2")],
                         ids=["get_queue", "get_agent_conversations"])
def test_an_agent_is_refused_the_room(tmp_path: Path, request_: GetQueue | GetAgentConversations) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path, policy=ROOM) as server:
            a1 = await online(server, "a1")
            answer = await a1.request(request_)
            assert isinstance(answer, Error) and answer.code is ErrorCode.FORBIDDEN, answer

    run(scenario())


def test_a_supervisor_closes_an_agents_session_and_another_agent_cannot(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path, policy=ROOM) as server:
            await online(server, "a1")
            a2 = await online(server, "a2")
            b1 = await buyer(server, "b1", "买家一")
            assert (await b1.request(Arrive())).name == "小美"
            refused = await a2.request(CloseSession(conversation="b1"))
            assert isinstance(refused, Error) and refused.code is ErrorCode.FORBIDDEN
            sup = await Client.agent(server)
            await sup.login("sup")
            assert isinstance(await sup.request(CloseSession(conversation="b1")), Ok)
            assert (await sup.request(GetAgentConversations(agent="a1"))).conversations == []
            again = await sup.request(CloseSession(conversation="b1"))
            assert isinstance(again, Error) and again.code is ErrorCode.CONFLICT

    run(scenario())


def test_the_team_says_since_when_each_status_and_the_longest_wait(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path, policy=ROOM) as server:
            sup = await Client.agent(server)
            await sup.login("sup")
            before = {a.id: a for a in (await sup.request(GetTeam())).team.agents}
            assert before["a1"].status_since is None and before["a1"].waiting_since is None
            await online(server, "a1")
            b1 = await buyer(server, "b1", "买家一")
            await b1.request(Arrive())
            await b1.request(Say(text="在吗", client_id="m1"))
            team = {a.id: a for a in (await sup.request(GetTeam())).team.agents}
            assert team["a1"].status_since is not None and team["a1"].waiting_since is not None
            assert team["a1"].status_since <= team["a1"].waiting_since
            assert team["a2"].status_since is None

    run(scenario())


def test_since_when_survives_a_restart_exactly(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path, policy=ROOM) as server:
            await online(server, "a1")
            sup = await Client.agent(server)
            await sup.login("sup")
            since = {a.id: a.status_since for a in (await sup.request(GetTeam())).team.agents}
        assert since["a1"] is not None
        async with running_server(tmp_path, policy=ROOM, seed=False) as server:
            sup = await Client.agent(server)
            await sup.login("sup")
            again = {a.id: a.status_since for a in (await sup.request(GetTeam())).team.agents}
        assert again["a1"] == since["a1"]  # the SetStatus input's logged time, not the restart's

    run(scenario())


def test_the_days_report_is_the_commands_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The room's export asks the server for the rows `fenliu report` computes (one owner), which
    its worker process computes, never its loop: in the server's own process (this one) the
    function raises, and the report still comes."""
    from console.reception.report import agent_rows, conversation_rows
    from console.server.kpis import local_day
    from console.server.repository.reports import open_read_only, policy_in_force, read_day

    def on_the_loop(*_: object) -> None:
        raise AssertionError("the day's report was computed in the server's process")

    monkeypatch.setattr("console.server.room.day_report", on_the_loop)
    monkeypatch.setattr("console.server.day_charts.day_report", on_the_loop)

    async def scenario() -> DayReport:
        async with running_server(tmp_path, policy=ROOM) as server:
            a1 = await online(server, "a1")
            b1 = await buyer(server, "b1", "买家一")
            await b1.request(Arrive())
            await b1.request(Say(text="在吗", client_id="m1"))
            assert isinstance(await a1.request(Reply(conversation="b1", text="在的", client_id="r1")), ReplyAck)
            assert isinstance(await a1.request(CloseSession(conversation="b1")), Ok)
            sup = await Client.agent(server)
            await sup.login("sup")
            bad = await sup.request(GetReport(day="2026-02-30"))
            assert isinstance(bad, Error) and bad.code is ErrorCode.INVALID and bad.field == "day"
            report = await sup.request(GetReport())
            assert isinstance(report, DayReport), report
            return report

    report = run(scenario())
    [row] = report.conversations
    assert (row.buyer, row.buyer_name, row.agent, row.agent_messages) == ("b1", "买家一", "a1", 1)
    assert row.first_response_s is not None and row.closed_at is not None
    assert {a.agent: a.received for a in report.agents} == {"a1": 1, "a2": 0, "sup": 0}
    db = open_read_only(where_of(tmp_path / "data"))
    try:
        from datetime import date

        records = read_day(db, local_day(date.fromisoformat(report.day), report.timezone), policy_in_force(db))
    finally:
        db.close()
    conversations = conversation_rows(records)
    assert report.conversations == conversations and report.agents == agent_rows(records, conversations)


def test_a_killed_worker_is_replaced_and_the_export_still_comes(tmp_path: Path) -> None:
    """The room's worker process (the day in pictures, the export) killed: its pool is broken for
    good, so the server starts another and the next export still comes."""
    import os
    import signal

    async def scenario() -> None:
        async with running_server(tmp_path, policy=ROOM) as server:
            sup = await Client.agent(server)
            await sup.login("sup")
            assert isinstance(await sup.request(GetReport()), DayReport)
            charts = next(iter(server.hosts.values())).agents.charts  # the one shop
            pool = charts._pool
            assert pool is not None
            for pid in list(pool._processes):  # type: ignore[attr-defined]
                os.kill(pid, signal.SIGKILL)
            report = await sup.request(GetReport())
            assert isinstance(report, DayReport), report
            assert charts._pool is not pool

    run(scenario())


def test_a_buyer_starting_to_wait_is_pushed_to_supervisors(tmp_path: Path) -> None:
    """The room stays live without a routing decision: a buyer writing to its agent moves the
    agent's longest wait, and supervisors get a team update saying so."""
    async def scenario() -> None:
        async with running_server(tmp_path, policy=ROOM) as server:
            a1 = await online(server, "a1")
            b1 = await buyer(server, "b1", "买家一")
            await b1.request(Arrive())
            await b1.request(Say(text="在吗", client_id="m1"))
            assert isinstance(await a1.request(Reply(conversation="b1", text="在的", client_id="r1")), ReplyAck)
            sup = await Client.agent(server)
            await sup.login("sup")
            answered = {a.id: a for a in (await sup.request(GetTeam())).team.agents}
            assert answered["a1"].waiting_since is None
            await b1.request(Say(text="有货吗", client_id="m2"))
            pushed = await sup.expect(TeamUpdated, lambda e: next(
                a for a in e.team.agents if a.id == "a1").waiting_since is not None)
            assert pushed.team.agents[0].load == 1

    run(scenario())


def test_the_message_pool_lists_by_the_oldest_unanswered_message(tmp_path: Path) -> None:
    from console.protocol.messages import Entry

    async def scenario() -> None:
        async with running_server(tmp_path) as server:  # the default policy: nobody online, R6.1 pool
            sup = await Client.agent(server)
            await sup.login("sup")
            for buyer_id, name in (("p1", "先留言"), ("p2", "后留言")):
                client = await buyer(server, buyer_id, name)
                assert (await client.request(Arrive(entry=Entry.PRODUCT_DETAIL))).to == "pool"
                await client.request(Say(text="有人吗", client_id="m1"))
            answer = await sup.request(GetQueue(pool="pool"))
            assert isinstance(answer, QueueBuyers), answer
            assert [(b.id, b.name, b.position, b.eta) for b in answer.buyers] == [
                ("p1", "先留言", 1, None), ("p2", "后留言", 2, None)]
            assert answer.buyers[0].waited >= answer.buyers[1].waited

    run(scenario())
