"""Coming back after a dropped connection: the gateway's buyer and the console's outbox (CONSOLE.md §5).

Two bugs found by the fault runs, each reduced to a deterministic test (docs/RELIABILITY.md).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import ModuleType

from server.helpers import Client, run, running_server
from server.test_live_routing import QUEUE_POLICY
from server.test_reception import buyer, online

from console.client import BuyerClient, ReplyOutcome
from console.protocol.messages import Arrive, BuyerHello, Entry, Ok, Routed
from console.routing.events import Status


def test_a_gateway_reconnecting_learns_where_its_buyer_is(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path, policy=QUEUE_POLICY) as server:
            await online(server, "a1")
            first = await buyer(server, "b1")
            assert (await first.request(Arrive())).to == "agent"
            queued = await buyer(server, "b2")
            assert (await queued.request(Arrive())).position == 1
            await queued.close()  # the gateway's connection drops
            again = await Client.buyer(server)
            assert isinstance(await again.request(BuyerHello(buyer="b2")), Ok)
            routed = await again.expect(Routed, timeout=2)
            assert routed.to == "queue" and routed.position == 1

    run(scenario())


def test_a_reply_acknowledged_as_the_connection_drops_is_reported(tmp_path: Path, faults: ModuleType) -> None:
    async def scenario() -> None:
        server = faults.ServerProcess(tmp_path, faults.drop_policy(faults.noon_zone()))
        await server.start()
        client = faults.agent_client(server.url, "a1", tmp_path)
        try:
            await client.start()
            await client.set_status(Status.ONLINE)
            async with BuyerClient(server.url, "b1") as b1:
                await b1.arrive(Entry.PRODUCT_DETAIL, product="p1")
                await b1.say("在吗")
                outcomes: list[ReplyOutcome] = []
                client.reply_outcomes.connect(outcomes.append)

                def drop_when_acknowledged(items: object) -> None:
                    if not items and client._link is not None:  # noqa: SLF001  the ack came: cut now
                        client._link.abort("fault injection")  # noqa: SLF001

                disconnect = client.outbox.changed.connect(drop_when_acknowledged)
                for i in range(3):
                    await client.wait_online(10)
                    await client.queue_reply("b1", f"在的 {i}", client_id=f"r{i}")
                    for _ in range(50):
                        if len(outcomes) > i:
                            break
                        await asyncio.sleep(0.02)
                disconnect()
                assert [o.entry.client_id for o in outcomes] == ["r0", "r1", "r2"]
        finally:
            await client.close()
            await server.stop()

    run(scenario())


def test_a_buyer_client_reconnects_with_the_same_identity(tmp_path: Path) -> None:
    """The gateway side of a drop that works: same buyer id, the session and its messages kept."""
    async def scenario() -> None:
        async with running_server(tmp_path) as server:
            await online(server, "a1")
            async with BuyerClient(server.url, "b1") as b1:
                await b1.arrive()
                first = await b1.say("在吗", client_id="m1")
            async with BuyerClient(server.url, "b1") as again:
                repeat = await again.say("在吗", client_id="m1")
                assert repeat.duplicate and repeat.message_id == first.message_id
                assert (await again.arrive()).why.value == "open_session"

    run(scenario())
