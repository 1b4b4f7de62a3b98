"""The demo's simulated colleagues transfer some new buyers with a note (转接, issue 12)."""

from __future__ import annotations

import random
from pathlib import Path

from console.protocol.messages import Arrive, Author, ConversationUpdated, Entry, MessageAdded, Say
from console.sim.colleagues import Colleague
from console.sim.phrases import TRANSFER_NOTES
from tests.server.helpers import PASSWORD, run, running_server
from tests.server.test_reception import buyer, online


def test_a_colleague_transfers_a_new_buyer_to_a_free_colleague_with_a_note(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path) as server:
            sim = Colleague(server.url, "a1", PASSWORD, state_dir=tmp_path / "sim", rng=random.Random(1),
                            pause=(0.0, 0.0), transfer_rate=1.0)
            await sim.start()
            try:
                b1 = await buyer(server, "b1")
                assert (await b1.request(Arrive(entry=Entry.PRODUCT_DETAIL))).name == "小美"  # a2 offline
                a2 = await online(server, "a2")
                await b1.request(Say(text="尺码怎么选", client_id="m1"))
                note = await a2.expect(MessageAdded, lambda e: e.message.author is Author.SYSTEM)
                assert note.message.text.removeprefix("转接备注（小美）：") in TRANSFER_NOTES[Entry.PRODUCT_DETAIL]
                await a2.expect(ConversationUpdated, lambda e: e.conversation.holder == "agent:a2")
                assert sim.transfers == 1 and sim.replies == 0
            finally:
                await sim.stop()

    run(scenario())
