"""The hub's outbox (issue 9): one socket write per connection for a commit's pushes and the acks
of the requests it completes, in the order they were produced, and nothing queued is lost to a
close that follows."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from console.protocol.messages import Arrive, Entry, MessageAdded, Ok, Reply, ReplyAck, Say

from .helpers import Client, run, running_server
from .test_reception import buyer, online


def _count_writes(transport: Any) -> list[bytes]:
    """Record each ``transport.write`` of one server-side connection (the bytes still go out)."""
    written: list[bytes] = []
    write = transport.write

    def counted(data: bytes) -> None:
        written.append(bytes(data))
        write(data)

    transport.write = counted
    return written


def test_a_replys_own_event_and_its_ack_leave_in_one_write_event_first(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path) as server:
            a1 = await online(server, "a1")
            b1 = await buyer(server, "b1")
            await b1.request(Arrive(entry=Entry.PRODUCT_DETAIL))
            await b1.request(Say(text="在吗", client_id="m1"))
            await a1.expect(MessageAdded, lambda e: e.message.text == "在吗")
            assert server.shop is not None
            hub = server.shop.hub
            link = next(link for link in hub.links() if link.agent == "a1")
            written = _count_writes(link.conn.transport)
            rid = await a1.send(Reply(conversation="b1", text="在的", client_id="c1"))
            seen = await a1.drain(lambda m: isinstance(m, ReplyAck) and m.rid == rid)
            ack = seen[-1]
            own = [i for i, m in enumerate(seen) if isinstance(m, MessageAdded) and m.message.id == ack.message_id]
            assert own and own[0] < len(seen) - 1  # the event, committed first, arrives before the ack
            assert len(written) == 1, written  # both in one socket write
            assert rid is not None and rid.encode() in written[0] and "在的".encode() in written[0]

    run(scenario())


def test_a_response_queued_right_before_the_server_stops_reaches_the_client(tmp_path: Path) -> None:
    """Frames still in the outbox when the server stops are written before its connections close
    (the logout's ``ok`` and the rate limit's errors before their closes: test_auth, test_hostile)."""
    async def scenario() -> None:
        async with running_server(tmp_path) as server:
            a1 = await Client.agent(server)
            await a1.login("a1")
            assert server.shop is not None
            hub = server.shop.hub
            link = next(link for link in hub.links() if link.agent == "a1")
            stopping = asyncio.ensure_future(server.stop())
            await asyncio.sleep(0)  # the stop has begun: the connections' closes are on their way
            hub.reply(link.conn, Ok(rid="last"))
            await stopping
        assert isinstance(await a1.expect(Ok, lambda m: m.rid == "last"), Ok)
        await a1.conn.wait_closed()
        assert a1.conn.close_code == 1001

    run(scenario())
