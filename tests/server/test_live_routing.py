"""Queues, the disconnect grace period, badges from the server's own data, live policy swaps."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.cli import main as fenliu
from console.protocol.messages import (
    ApplyPolicy,
    Arrive,
    CloseSession,
    ConversationUpdated,
    Entry,
    Error,
    ErrorCode,
    GetTeam,
    Ok,
    QueueUpdate,
    Reply,
    Routed,
    Say,
    SessionClosed,
    StatusChanged,
)
from console.reception.model import Kind, Section
from console.routing.events import Reason
from console.server.app import Server, ServerConfig, ServerError

from .helpers import POLICY, Client, pg_store_url, run, running_server, shop_of, store_args, store_config, write_policy
from .test_reception import buyer, online

QUEUE_POLICY = """
preset = "douyin"
seed = 3
disconnect_grace = "1s"

[queue]
mode = "shop"
avg_handle = "2m"
tip_threshold = 5

[[groups]]
id = "presale"
cap = 1

[[agents]]
id = "a1"
name = "小美"
groups = ["presale"]
cap = 1

[[agents]]
id = "a2"
name = "阿杰"
groups = ["presale"]
cap = 1

[[agents]]
id = "sup"
role = "supervisor"
"""


def test_queue_positions_are_pushed_as_they_change(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path, policy=QUEUE_POLICY) as server:
            a1 = await online(server, "a1")
            b1, b2, b3 = [await buyer(server, name) for name in ("b1", "b2", "b3")]
            assert (await b1.request(Arrive())).to == "agent"
            second = await b2.request(Arrive())
            third = await b3.request(Arrive())
            # R10.4: ceil(position / slots) x avg_handle, one slot (a1, cap 1)
            assert second.to == "queue" and second.position == 1 and second.why is Reason.QUEUED
            assert third.position == 2 and third.eta == 240.0 and third.tip == "排队中，您前面还有 1 位"
            sup = await Client.agent(server)
            await sup.login("sup")
            team = await sup.request(GetTeam())
            [queue] = [q for q in team.team.queues if q.length]
            assert queue.length == 2

            await a1.request(CloseSession(conversation="b1"))  # R9.3: the freed slot takes b2
            routed = await b2.expect(Routed)
            assert routed.why is Reason.DEQUEUED and routed.name == "小美"
            moved = await b3.expect(QueueUpdate)
            assert moved.position == 1 and moved.eta == 120.0 and moved.tip == "排队中，您前面还有 0 位"
            await a1.expect(ConversationUpdated, lambda e: e.conversation.id == "b2")

    run(scenario())


def test_dropped_console_goes_offline_after_grace_and_waiting_buyers_move(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path, policy=QUEUE_POLICY) as server:
            a1 = await online(server, "a1")
            b1 = await buyer(server, "b1")
            assert (await b1.request(Arrive())).name == "小美"
            await b1.request(Say(text="在吗", client_id="m1"))
            a2 = await online(server, "a2")
            await a1.close()  # no goodbye: R3.4 grace, then offline, then R3.3
            moved = await b1.expect(Routed, timeout=15)
            assert moved.why is Reason.REROUTE_OFFLINE and moved.name == "阿杰"
            row = (await a2.expect(ConversationUpdated, lambda e: e.conversation.id == "b1")).conversation
            assert row.section is Section.PENDING and row.holder == "agent:a2"

    run(scenario())


def test_badges_come_only_from_server_data(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert fenliu(["accounts", "buyer", "xiaoer-01", "--kind", "staff", "--name", "平台小二", "--data", str(data), *store_args(data)]) == 0
    assert fenliu(["accounts", "buyer", "grp-01", "--kind", "group", "--data", str(data), *store_args(data)]) == 0

    async def scenario() -> None:
        async with running_server(tmp_path) as server:
            a1 = await online(server, "a1")
            real = await buyer(server, "xiaoer-01", "随便什么名字")
            fake = await buyer(server, "b-fake", "淘宝小二-官方平台")
            group = await buyer(server, "grp-01", "粉丝群")
            for client in (real, fake, group):
                await client.request(Arrive(entry=Entry.PRODUCT_DETAIL))
                await client.request(Say(text="你好", client_id="m1"))
            rows = {}
            while len(rows) < 3:
                update = await a1.expect(ConversationUpdated)
                rows[update.conversation.id] = update.conversation
            assert rows["xiaoer-01"].kind is Kind.STAFF and rows["xiaoer-01"].section is Section.STAFF
            assert rows["b-fake"].kind is Kind.CONSUMER and rows["b-fake"].section is Section.PENDING
            assert rows["grp-01"].kind is Kind.GROUP and rows["grp-01"].section is Section.GROUP

    run(scenario())


def test_policy_swap_is_validated_and_live(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path) as server:
            a1 = await online(server, "a1")
            b1 = await buyer(server, "b1")
            await b1.request(Arrive(entry=Entry.PRODUCT_DETAIL))
            sup = await Client.agent(server)
            await sup.login("sup")
            bad = await sup.request(ApplyPolicy(toml=POLICY + '\n[queue]\nmode = "sometimes"\n'))
            assert isinstance(bad, Error) and bad.code is ErrorCode.BAD_POLICY and "queue.mode" in bad.message
            stranger = POLICY + '\n[[agents]]\nid = "nobody"\n'
            unknown = await sup.request(ApplyPolicy(toml=stranger))
            assert isinstance(unknown, Error) and unknown.code is ErrorCode.BAD_POLICY and "nobody" in unknown.message
            swapped = POLICY.replace('handoff_words = ["人工"]', 'handoff_words = ["人工", "真人"]')
            assert isinstance(await sup.request(ApplyPolicy(toml=swapped)), Ok)
            again = await b1.request(Arrive(entry=Entry.PRODUCT_DETAIL))  # the session carried over
            assert again.why is Reason.OPEN_SESSION and again.name == "小美"
            agent_try = await a1.request(ApplyPolicy(toml=swapped))
            assert isinstance(agent_try, Error) and agent_try.code is ErrorCode.FORBIDDEN

    run(scenario())


def test_policy_naming_an_unknown_account_is_refused_at_start(tmp_path: Path) -> None:
    async def scenario() -> None:
        config = ServerConfig(port=0, data_dir=tmp_path / "data", policy_file=write_policy(tmp_path),
                              **store_config(tmp_path / "data"))
        with pytest.raises(ServerError, match=r"agents\[0\]\.id: no account 'a1'") as refused:
            await Server(config).start()
        # the hint is a command that reaches this shop's accounts
        reach = (f"--store URL --shop {shop_of(tmp_path / 'data')}" if pg_store_url() is not None
                 else f"--data {tmp_path / 'data'}")
        assert f"fenliu accounts add a1 --role agent {reach})" in str(refused.value)

    run(scenario())


def test_policy_apply_command_swaps_a_running_server(tmp_path: Path) -> None:
    import asyncio

    new_policy = tmp_path / "new.toml"
    new_policy.write_text(POLICY.replace('handoff_words = ["人工"]', 'handoff_words = ["人工", "真人"]'), encoding="utf-8")
    broken = tmp_path / "broken.toml"
    broken.write_text(POLICY + '\n[[agents]]\nid = "nobody"\n', encoding="utf-8")

    async def scenario() -> None:
        async with running_server(tmp_path) as server:
            loop = asyncio.get_running_loop()

            def apply(file: Path, user: str) -> int:
                import io
                import sys

                stdin, sys.stdin = sys.stdin, io.StringIO("s3cret-pw\n")
                try:
                    return fenliu(["policy", "apply", str(file), "--server", server.url, "--user", user,
                                   "--password-stdin"])
                finally:
                    sys.stdin = stdin

            assert await loop.run_in_executor(None, apply, new_policy, "sup") == 0
            assert await loop.run_in_executor(None, apply, broken, "sup") == 2  # unknown account
            assert await loop.run_in_executor(None, apply, new_policy, "a1") == 2  # not a supervisor
            assert server.shop is not None and "真人" in server.shop.policy.bot.handoff_words

    run(scenario())


def test_idle_session_closes_on_the_engine_timer(tmp_path: Path) -> None:
    policy = POLICY.replace('disconnect_grace = "1h"', 'disconnect_grace = "1h"\n\n[session]\nclose_after = "1s"')

    async def scenario() -> None:
        async with running_server(tmp_path, policy=policy) as server:
            a1 = await online(server, "a1")
            b1 = await buyer(server, "b1")
            await b1.request(Arrive(entry=Entry.PRODUCT_DETAIL))
            await b1.request(Say(text="在吗", client_id="m1"))
            await a1.request(Reply(conversation="b1", text="在的，请问有什么可以帮您", client_id="c1"))
            closed = await b1.expect(SessionClosed, timeout=15)  # R9.2: the agent spoke last, 1 s of silence
            assert closed.why is Reason.IDLE
            row = (await a1.expect(ConversationUpdated, lambda e: not e.conversation.open)).conversation
            assert row.section is Section.REPLIED
            status = await a1.expect(StatusChanged, lambda e: e.load == 0)
            assert status.status == "online"

    run(scenario())


@pytest.mark.sqlite_only  # a shop of shops/ is a SQLite folder
def test_the_missing_account_hint_names_a_shop_of_the_data_folder(tmp_path: Path) -> None:
    from console.routing.policy import PolicyError, load_policy_toml
    from console.server.accounts import Accounts
    from console.server.store import Store

    store = Store(tmp_path / "data" / "shops" / "s2" / "fenliu.db")
    try:
        with pytest.raises(PolicyError) as refused:
            Accounts(store).check_policy(load_policy_toml(POLICY))
    finally:
        store.close()
    assert f"--role agent --data {tmp_path / 'data'} --shop s2)" in str(refused.value)
