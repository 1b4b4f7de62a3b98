"""AgentClient against a real server on port 0: login, live events, typed errors, reconnects.

Reconnection is made deterministic without sleeps: the client is given a backoff far longer than
any test, the server cuts the connection, the test does what must be missed, then presses the
client's "retry now" (``retry_now``), exactly as a user would.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from console.client import AgentClient, Backoff, BuyerClient, ClientError, ConnectionState, NotConnected
from console.protocol.messages import (
    AgentEvent,
    ConversationUpdated,
    Entry,
    ErrorCode,
    MessageAdded,
    Section,
    Snapshot,
    StatusChanged,
)
from console.routing.events import Status
from tests.client.support import (
    PASSWORD,
    TIMEOUT,
    drop_agent_connections,
    prepare,
    run,
    serving,
)

PATIENT = Backoff(initial=3600.0, cap=3600.0)  # never retries by itself within a test


def client_for(server_url: str, tmp_path: Path, user: str = "a1", **kwargs: object) -> AgentClient:
    return AgentClient(server_url, user, PASSWORD, state_dir=tmp_path / "state", **kwargs)  # type: ignore[arg-type]


def test_login_snapshot_and_live_events(tmp_path: Path) -> None:
    async def main() -> None:
        async with serving(prepare(tmp_path)) as server:
            client = client_for(server.url, tmp_path)
            events = client.subscribe()
            await client.start()
            try:
                assert client.state.state is ConnectionState.ONLINE
                assert client.account is not None and client.account.name == "小美"
                snapshot = await events.get(TIMEOUT)
                assert isinstance(snapshot, Snapshot) and snapshot.status is Status.OFFLINE

                await client.set_status(Status.ONLINE)
                status = await events.wait_for(lambda e: isinstance(e, StatusChanged), TIMEOUT)
                assert isinstance(status, StatusChanged) and status.status is Status.ONLINE

                async with BuyerClient(server.url, "b1", "小王") as buyer:
                    routed = await buyer.arrive(Entry.PRODUCT_DETAIL, product="p1001")
                    assert (routed.to, routed.name) == ("agent", "小美")
                    await buyer.say("在吗")
                    added = await events.wait_for(lambda e: isinstance(e, MessageAdded), TIMEOUT)
                    assert isinstance(added, MessageAdded) and added.message.text == "在吗"
                assert client.view.conversations["b1"].section is Section.PENDING
                assert client.view.status is Status.ONLINE
            finally:
                await client.close()
            assert client.state.state is ConnectionState.OFFLINE

    run(main())


def test_server_refusals_are_typed_client_errors(tmp_path: Path) -> None:
    async def main() -> None:
        async with serving(prepare(tmp_path)) as server:
            async with client_for(server.url, tmp_path) as client:
                with pytest.raises(ClientError) as missing:
                    await client.open("nobody")
                assert missing.value.code is ErrorCode.NOT_FOUND and missing.value.field == "conversation"
                with pytest.raises(ClientError) as forbidden:
                    await client.get_team()  # supervisors only
                assert forbidden.value.code is ErrorCode.FORBIDDEN
                with pytest.raises(ClientError) as invalid:  # refused before it is sent
                    await client.clear(Section.PENDING)
                assert invalid.value.code is ErrorCode.INVALID
                with pytest.raises(ClientError) as long_text:
                    await client.queue_reply("b1", "好" * 4001)
                assert long_text.value.code is ErrorCode.INVALID and len(client.outbox) == 0
                assert await client.get_kpis() is not None  # the connection goes on

            wrong = AgentClient(server.url, "a1", "not-the-password", state_dir=tmp_path / "state")
            with pytest.raises(ClientError) as denied:
                await wrong.start()
            assert denied.value.code is ErrorCode.UNAUTHENTICATED
            assert wrong.state.state is ConnectionState.OFFLINE
            with pytest.raises(NotConnected):
                await wrong.get_kpis()
            await wrong.close()

    run(main())


def assert_once_in_order(received: list[AgentEvent]) -> None:
    """From the first snapshot on, event numbers go up by one: nothing twice, nothing missing."""
    assert isinstance(received[0], Snapshot)
    numbers = [e.seq for e in received]
    assert numbers == list(range(numbers[0], numbers[0] + len(numbers))), numbers


def test_missed_events_are_replayed_once_in_order_after_a_drop(tmp_path: Path) -> None:
    async def main() -> None:
        async with serving(prepare(tmp_path)) as server:
            client = client_for(server.url, tmp_path, backoff=PATIENT)
            received: list[AgentEvent] = []
            client.events.connect(received.append)
            events = client.subscribe()
            states = client.subscribe_states()
            await client.start()
            try:
                await client.set_status(Status.ONLINE)
                async with BuyerClient(server.url, "b7", "老李") as buyer:
                    await buyer.arrive(Entry.PRODUCT_DETAIL)
                    await events.wait_for(lambda e: isinstance(e, ConversationUpdated), TIMEOUT)

                    assert drop_agent_connections(server, "a1") == 1
                    await states.wait_for(lambda s: s.state is ConnectionState.RECONNECTING, TIMEOUT)
                    texts = ["在吗", "这款有货吗", "几天发货"]
                    for text in texts:
                        await buyer.say(text)  # acknowledged: the agent's events are committed
                    assert not client.is_online
                    missed_from = len(received)

                    client.retry_now()
                    await client.wait_online(TIMEOUT)
                    assert client.account is not None and client.account.resumed
                    for _ in texts:
                        await events.wait_for(lambda e: isinstance(e, MessageAdded), TIMEOUT)
            finally:
                await client.close()
            assert_once_in_order(received)
            replayed = received[missed_from:]
            assert not any(isinstance(e, Snapshot) for e in replayed), "resumed, not resynced"
            assert [e.message.text for e in replayed if isinstance(e, MessageAdded)] == texts
            assert client.view.conversations["b7"].last_text == texts[-1]

    run(main())


def test_resume_after_a_server_restart_on_the_same_data(tmp_path: Path) -> None:
    async def main() -> None:
        config = prepare(tmp_path)
        client: AgentClient | None = None
        received: list[AgentEvent] = []
        try:
            async with serving(config) as server:
                config.port = server.port  # come back on the same address
                client = client_for(server.url, tmp_path, backoff=PATIENT)
                client.events.connect(received.append)
                states = client.subscribe_states()
                await client.start()
                await client.set_status(Status.ONLINE)
                async with BuyerClient(server.url, "b9", "小赵") as buyer:
                    await buyer.arrive(Entry.PRODUCT_DETAIL)
                    await buyer.say("可以便宜点吗")
            await states.wait_for(lambda s: s.state is ConnectionState.RECONNECTING, TIMEOUT)
            before = client.view.seq
            async with serving(config) as server:
                events = client.subscribe()
                client.retry_now()
                await client.wait_online(TIMEOUT)
                assert client.account is not None and client.account.resumed
                assert client.account.seq >= (before or 0)
                async with BuyerClient(server.url, "b9", "小赵") as buyer:
                    await buyer.say("转人工")
                    await events.wait_for(lambda e: isinstance(e, MessageAdded) and e.message.text == "转人工",
                                          TIMEOUT)
        finally:
            if client is not None:
                await client.close()
        assert_once_in_order(received)
        assert [e.message.text for e in received if isinstance(e, MessageAdded)] == ["可以便宜点吗", "转人工"]

    run(main())


def test_a_token_logs_in_until_logout_revokes_it(tmp_path: Path) -> None:
    async def main() -> None:
        async with serving(prepare(tmp_path)) as server:
            first = client_for(server.url, tmp_path)
            states = first.subscribe_states()
            await first.start()
            token = first.token
            assert token is not None

            second = AgentClient(server.url, "a1", token=token, state_dir=tmp_path / "state")
            events = second.subscribe()
            await second.start()
            assert isinstance(await events.get(TIMEOUT), Snapshot)
            await second.close()

            await first.close(logout=True)
            seen = [s.state for s in [await states.get(TIMEOUT) for _ in range(3)]]
            assert seen == [ConnectionState.CONNECTING, ConnectionState.ONLINE, ConnectionState.OFFLINE]

            revoked = AgentClient(server.url, "a1", token=token, state_dir=tmp_path / "state")
            with pytest.raises(ClientError) as denied:
                await revoked.start()
            assert denied.value.code is ErrorCode.UNAUTHENTICATED
            await revoked.close()

            # with a password as well, a dead token just means logging in again
            fallback = AgentClient(server.url, "a1", PASSWORD, token=token, state_dir=tmp_path / "state")
            await fallback.start()
            assert fallback.token != token
            await fallback.close()

    run(main())
