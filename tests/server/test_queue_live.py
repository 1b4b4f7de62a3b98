"""Queue positions and the rows in memory, through a real server (R10.4, R10.5; issue 9)."""

from __future__ import annotations

from pathlib import Path

from console.protocol.messages import Arrive, CloseSession, ConversationUpdated, Ok, QueueUpdate, Routed, Say

from .helpers import Client, run, running_server
from .test_reception import buyer, online

TWO_SLOTS = """
preset = "douyin"
seed = 3
disconnect_grace = "1h"

[queue]
mode = "shop"
avg_handle = "2m"
tip_threshold = 1

[[groups]]
id = "presale"
cap = 1

[[agents]]
id = "a1"
name = "小美"
groups = ["presale"]

[[agents]]
id = "a2"
name = "阿杰"
groups = ["presale"]
"""


def test_a_buyer_is_told_only_when_its_estimate_or_tip_changes(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path, policy=TWO_SLOTS) as server:
            a1, a2 = await online(server, "a1"), await online(server, "a2")
            h1, h2 = await buyer(server, "h1"), await buyer(server, "h2")
            held = {(await h1.request(Arrive())).name: "h1", (await h2.request(Arrive())).name: "h2"}
            queued = [await buyer(server, f"q{i}") for i in range(1, 5)]
            for place, client in enumerate(queued, 1):
                routed = await client.request(Arrive())
                assert routed.to == "queue" and routed.position == place
            q1, q2, q3, q4 = queued
            # a1's slot frees: q1 leaves the queue. q4 moves from 4 to 3: the same estimate
            # (ceil(3/2) = ceil(4/2) = 2 x 2m) and the busy tip, so it is not told.
            assert isinstance(await a1.request(CloseSession(conversation=held["小美"])), Ok)
            assert (await q1.expect(Routed)).to == "agent"
            update = await q3.expect(QueueUpdate)
            assert (update.position, update.eta) == (2, 120.0)
            # a2's slot frees: q2 leaves; now q4 is at 2 and its estimate halves: told, once, as 2.
            assert isinstance(await a2.request(CloseSession(conversation=held["阿杰"])), Ok)
            assert (await q2.expect(Routed)).to == "agent"
            first = await q4.expect(QueueUpdate)
            assert (first.position, first.eta, first.tip) == (2, 120.0, "咨询人数较多，请耐心等待")

    run(scenario())


def test_closed_conversations_leave_memory_and_come_back(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path) as server:
            assert server.shop is not None
            a1 = await online(server, "a1")
            b1 = await buyer(server, "b1")
            assert (await b1.request(Arrive(entry="product_detail"))).name == "小美"
            assert len(server.shop.rows) == 1
            assert isinstance(await a1.request(CloseSession(conversation="b1")), Ok)
            assert len(server.shop.rows) == 0  # on disk only
            again = await Client.agent(server)
            _, snapshot = await again.login("a1")
            [row] = [c for c in snapshot.conversations if c.id == "b1"]
            assert not row.open and row.holder is None  # the agent's history, read from disk
            await b1.request(Say(text="还在吗", client_id="m2"))  # writing again opens a session
            updated = await a1.expect(ConversationUpdated, lambda e: e.conversation.id == "b1" and e.conversation.open)
            assert updated.conversation.holder == "agent:a1"
            assert len(server.shop.rows) == 1

    run(scenario())
