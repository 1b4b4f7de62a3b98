"""The clients send and fetch images over the real server (issue 13), paced under the frame rate."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from console.client.agent import AgentClient
from console.client.buyer import BuyerClient
from console.protocol.messages import IMAGE_CHUNK_BYTES, AgentMessage, Entry
from console.reception.model import MessageKind
from console.routing.events import Status
from tests.server.helpers import PASSWORD, run, running_server


def noise_png(side: int) -> bytes:
    image = Image.frombytes("RGB", (side, side), bytes((i * 131) % 251 for i in range(side * side * 3)))
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=0)
    return out.getvalue()


def test_a_buyer_sends_a_large_picture_and_the_agent_answers_with_one(tmp_path: Path) -> None:
    picture = noise_png(300)  # ~270 KB uncompressed: several chunks, above the buyer's paced burst
    assert len(picture) > 5 * IMAGE_CHUNK_BYTES

    async def scenario() -> None:
        async with running_server(tmp_path) as server:
            agent = AgentClient(server.url, "a1", PASSWORD, state_dir=tmp_path / "state")
            await agent.start()
            await agent.wait_online(10)
            await agent.set_status(Status.ONLINE)
            async with BuyerClient(server.url, "b1", name="小王") as buyer:
                await buyer.arrive(Entry.PRODUCT_DETAIL)
                ack = await buyer.send_image(picture, client_id="pic-1")
                again = await buyer.send_image(picture, client_id="pic-1")
                assert again.duplicate and again.message_id == ack.message_id
                history = await agent.open("b1")
                [message] = history.messages
                assert message.kind is MessageKind.IMAGE and message.image is not None
                stored = await agent.fetch_image("b1", message.image.sha256)
                assert Image.open(io.BytesIO(stored)).size == (300, 300)
                pushes = buyer.subscribe()
                sent = await agent.send_image("b1", stored)
                assert not sent.duplicate
                async for push in pushes:
                    if isinstance(push, AgentMessage) and push.kind is MessageKind.IMAGE:
                        assert push.image is not None
                        assert await buyer.fetch_image(push.image.sha256) == stored
                        break
            await agent.close()

    run(scenario())
