"""The outbox: replies written while the connection is down, or never acknowledged, or pending when
the console closed, reach the buyer exactly once (CONSOLE.md §5). Checked in the server's own
database, not only in what the client says.
"""

from __future__ import annotations

from pathlib import Path

from console.client import AgentClient, Backoff, BuyerClient, ConnectionState, Delivery, ReplyOutcome
from console.client.outbox import Outbox
from console.protocol.messages import AgentMessage, ConversationUpdated, Entry
from console.routing.events import Status
from tests.client.support import PASSWORD, TIMEOUT, agent_messages, drop_agent_connections, prepare, run, serving

PATIENT = Backoff(initial=3600.0, cap=3600.0)


def test_reply_written_offline_is_sent_once_when_the_connection_is_back(tmp_path: Path) -> None:
    async def main() -> None:
        async with serving(prepare(tmp_path)) as server:
            client = AgentClient(server.url, "a1", PASSWORD, state_dir=tmp_path / "state", backoff=PATIENT)
            events = client.subscribe()
            states = client.subscribe_states()
            await client.start()
            try:
                await client.set_status(Status.ONLINE)
                async with BuyerClient(server.url, "b3", "小周") as buyer:
                    pushes = buyer.subscribe()
                    await buyer.arrive(Entry.PRODUCT_DETAIL, product="p1002")
                    await buyer.say("这款有货吗")
                    await events.wait_for(lambda e: isinstance(e, ConversationUpdated), TIMEOUT)

                    drop_agent_connections(server, "a1")
                    await states.wait_for(lambda s: s.state is ConnectionState.RECONNECTING, TIMEOUT)
                    entry = await client.queue_reply("b3", "有的，今天下单明天发。")
                    assert [(i.entry.client_id, i.delivery) for i in client.outbox.items()] == [
                        (entry.client_id, Delivery.QUEUED)
                    ]
                    assert entry.client_id in client.outbox.path.read_text(encoding="utf-8")
                    assert Outbox(client.outbox.path).entries() == [entry]  # what a restart would read

                    client.retry_now()
                    ack = await client.delivered(entry.client_id)
                    assert not ack.duplicate
                    said = await pushes.wait_for(lambda p: isinstance(p, AgentMessage), TIMEOUT)
                    assert isinstance(said, AgentMessage) and said.text == "有的，今天下单明天发。"
                    assert len(client.outbox) == 0 and not client.outbox.path.exists()
            finally:
                await client.close()
            assert agent_messages(server, "b3") == [("有的，今天下单明天发。", entry.client_id)]

    run(main())


def test_outbox_survives_a_console_restart_and_a_lost_ack_is_not_stored_twice(tmp_path: Path) -> None:
    async def main() -> None:
        state = tmp_path / "state"
        async with serving(prepare(tmp_path)) as server:
            first = AgentClient(server.url, "a1", PASSWORD, state_dir=state, backoff=PATIENT)
            states = first.subscribe_states()
            await first.start()
            try:
                await first.set_status(Status.ONLINE)
                async with BuyerClient(server.url, "b4", "小吴") as buyer:
                    await buyer.arrive(Entry.PRODUCT_DETAIL)
                    await buyer.say("几天发货")
                acked = await first.reply("b4", "付款后48小时内发货")

                drop_agent_connections(server, "a1")
                await states.wait_for(lambda s: s.state is ConnectionState.RECONNECTING, TIMEOUT)
                # The same reply again, as if its acknowledgement had been lost with the connection,
                # and a new one; then the console is closed before the connection comes back.
                await first.queue_reply("b4", "付款后48小时内发货", client_id=acked.client_id)
                second_entry = await first.queue_reply("b4", "还有别的问题吗？")
            finally:
                await first.close()
            assert [e.client_id for e in Outbox(first.outbox.path).entries()] == [acked.client_id,
                                                                                  second_entry.client_id]

            restarted = AgentClient(server.url, "a1", PASSWORD, state_dir=state)
            outcomes: list[ReplyOutcome] = []
            restarted.reply_outcomes.connect(outcomes.append)
            assert len(restarted.outbox) == 2
            await restarted.start()
            try:
                second_ack = await restarted.delivered(second_entry.client_id)
            finally:
                await restarted.close()
            assert [(o.entry.client_id, o.ack is not None and o.ack.duplicate) for o in outcomes] == [
                (acked.client_id, True),
                (second_entry.client_id, False),
            ]
            assert not second_ack.duplicate
            assert agent_messages(server, "b4") == [("付款后48小时内发货", acked.client_id),
                                                    ("还有别的问题吗？", second_entry.client_id)]

    run(main())


def test_an_image_sent_offline_waits_on_disk_and_reaches_the_buyer_once(tmp_path: Path) -> None:
    """Issue 13: an image queued while the connection is down is kept (its bytes beside the
    outbox), survives a console restart, is sent when the connection is back, and its file goes."""
    import io

    from PIL import Image

    from console.client import ClientError
    from console.protocol.messages import MAX_IMAGE_BYTES, ErrorCode
    from console.reception.model import IMAGE_TEXT, MessageKind

    out = io.BytesIO()
    Image.new("RGB", (120, 90), "#7aa6d8").save(out, "PNG")
    picture = out.getvalue()

    async def main() -> None:
        state = tmp_path / "state"
        async with serving(prepare(tmp_path)) as server:
            first = AgentClient(server.url, "a1", PASSWORD, state_dir=state, backoff=PATIENT)
            states = first.subscribe_states()
            await first.start()
            try:
                await first.set_status(Status.ONLINE)
                async with BuyerClient(server.url, "b5", "小郑") as buyer:
                    await buyer.arrive(Entry.PRODUCT_DETAIL)
                    await buyer.say("发张尺码表看看")
                drop_agent_connections(server, "a1")
                await states.wait_for(lambda s: s.state is ConnectionState.RECONNECTING, TIMEOUT)
                entry = await first.queue_image("b5", picture)
                assert entry.image is not None and entry.text == IMAGE_TEXT
                assert (first.outbox.images_dir / entry.image).read_bytes() == picture
                assert [i.delivery for i in first.outbox.items()] == [Delivery.QUEUED]
                try:  # what no connection would change is refused at once, nothing kept
                    await first.queue_image("b5", b"\0" * (MAX_IMAGE_BYTES + 1))
                except ClientError as exc:
                    assert exc.code is ErrorCode.OVERSIZED
                else:
                    raise AssertionError("an oversized image was queued")
                assert len(first.outbox) == 1
            finally:
                await first.close()  # closed before the connection comes back

            restarted = AgentClient(server.url, "a1", PASSWORD, state_dir=state)
            assert [e.client_id for e in restarted.outbox.entries()] == [entry.client_id]
            await restarted.start()
            try:
                ack = await restarted.delivered(entry.client_id)
                assert not ack.duplicate
                history = await restarted.open("b5")
                images = [m for m in history.messages if m.kind is MessageKind.IMAGE]
                assert [m.client_id for m in images] == [entry.client_id]
                assert images[0].image is not None
                stored = await restarted.fetch_image("b5", images[0].image.sha256)
                assert Image.open(io.BytesIO(stored)).size == (120, 90)
            finally:
                await restarted.close()
            assert len(restarted.outbox) == 0 and not list(restarted.outbox.images_dir.iterdir())

    run(main())
