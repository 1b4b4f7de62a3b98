"""Issue 10, point 1: disabling an account, or changing its password, cuts its live consoles off.

`fenliu accounts` writes the database from another process while the server runs; here it runs
in a thread of the test with its own connection, as a second process would."""

from __future__ import annotations

import asyncio
from pathlib import Path

from websockets.exceptions import ConnectionClosed

from console.cli import main
from console.client.agent import AgentClient, ConnectionState
from console.protocol.limits import CLOSE_REVOKED
from console.protocol.messages import Arrive, ConversationUpdated, Entry, Ok, Routed, Say, SetStatus, StatusChanged
from console.routing.events import Status
from console.server.accounts import Accounts

from .helpers import PASSWORD, Client, open_store, run, running_server, store_args
from .test_reception import buyer, online

WITHIN = 10.0  # the server looks once a second


async def _closed_with(client: Client) -> int | None:
    try:
        while True:
            await asyncio.wait_for(client.conn.recv(), WITHIN)
    except ConnectionClosed:
        return client.conn.close_code


def _new_password(data: Path, account: str, password: str) -> None:
    store = open_store(data)
    try:
        Accounts(store).set_password(account, password)
        store.flush()
    finally:
        store.close()


def test_a_disabled_agents_console_is_cut_off_and_its_buyers_go_to_a_colleague(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path) as server:
            a1 = await online(server, "a1")
            b1 = await buyer(server, "b1", "王小姐")
            routed = await b1.request(Arrive(entry=Entry.PRODUCT_DETAIL))
            assert isinstance(routed, Routed) and routed.name == "小美"  # a1, the only one online
            await b1.request(Say(text="我的手机号 13800000000", client_id="m1"))
            a2 = await online(server, "a2")

            assert await asyncio.to_thread(main, ["accounts", "disable", "a1", "--data", str(tmp_path / "data"), *store_args(tmp_path / "data")]) == 0
            assert await _closed_with(a1) == CLOSE_REVOKED
            assert a1.conn.close_reason.startswith("account disabled")
            # R3.3 at once, not after the grace period: the waiting buyer goes to a2
            moved = await a2.expect(ConversationUpdated, lambda e: e.conversation.id == "b1", timeout=WITHIN)
            assert moved.conversation.holder == "agent:a2"
            assert server.shop is not None and server.shop.driver.engine is not None
            assert server.shop.driver.engine.agent("a1").status is Status.OFFLINE
            b2 = await buyer(server, "b2")
            assert (await b2.request(Arrive(entry=Entry.PRODUCT_DETAIL))).name == "阿杰"  # never a1 again

    run(scenario())


def test_a_password_change_cuts_off_every_console_until_the_new_password_is_used(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path) as server:
            first = await online(server, "a1")
            other = await Client.agent(server)
            await other.login("a1")
            await asyncio.to_thread(_new_password, tmp_path / "data", "a1", "new-pw-2026")
            assert await _closed_with(first) == CLOSE_REVOKED
            assert await _closed_with(other) == CLOSE_REVOKED
            again = await Client.agent(server)
            await again.login("a1", "new-pw-2026")  # the owner logs in again, with the new password
            assert isinstance(await again.request(SetStatus(status=Status.ONLINE)), Ok)
            await again.expect(StatusChanged, lambda e: e.status is Status.ONLINE)
            assert server.revocations is not None
            assert server.revocations.check() == []  # the new console stays

    run(scenario())


def test_the_console_client_stops_and_says_why(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path) as server:
            client = AgentClient(server.url, "a1", password=PASSWORD, state_dir=tmp_path / "state")
            await client.start()
            try:
                assert client.state.state is ConnectionState.ONLINE
                assert await asyncio.to_thread(main, ["accounts", "disable", "a1", "--data",
                                                      str(tmp_path / "data"), *store_args(tmp_path / "data")]) == 0
                async with asyncio.timeout(WITHIN):
                    while client.state.state is not ConnectionState.OFFLINE:
                        await asyncio.sleep(0.05)
                assert client.state.error is not None and "access ended" in client.state.error
            finally:
                await client.close()

    run(scenario())
