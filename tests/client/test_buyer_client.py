"""BuyerClient against a real server: hello, questions, arrive, pushes from the shop side."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.client import AgentClient, BuyerClient, ClientError
from console.protocol.messages import AgentMessage, Entry, ErrorCode, Routed, SessionClosed
from console.routing.events import Status
from tests.client.support import PASSWORD, TIMEOUT, prepare, run, serving


def test_arrive_is_routed_and_shop_side_changes_are_pushed(tmp_path: Path) -> None:
    async def main() -> None:
        async with serving(prepare(tmp_path)) as server:
            state = tmp_path / "state"
            async with (
                AgentClient(server.url, "a1", PASSWORD, state_dir=state) as a1,
                AgentClient(server.url, "a2", PASSWORD, state_dir=state) as a2,
                AgentClient(server.url, "sup", PASSWORD, state_dir=state) as sup,
                BuyerClient(server.url, "b5", "小郑") as buyer,
            ):
                await a1.set_status(Status.ONLINE)
                pushes = buyer.subscribe()
                assert await buyer.get_questions(Entry.LIVE) == ["几天发货", "有优惠券吗"]
                routed = await buyer.arrive(Entry.LIVE, question="几天发货")
                assert (routed.to, routed.name) == ("agent", "小美")

                await a1.reply("b5", "亲，48小时内发货")
                said = await pushes.wait_for(lambda p: isinstance(p, AgentMessage), TIMEOUT)
                assert isinstance(said, AgentMessage) and said.name == "小美"

                await a2.set_status(Status.ONLINE)
                await sup.transfer("b5", "a2")
                moved = await pushes.wait_for(lambda p: isinstance(p, Routed), TIMEOUT)
                assert isinstance(moved, Routed) and moved.name == "阿杰" and moved.why.value == "transfer"
                assert [d.why.value for d in await sup.why("b5")][-1] == "transfer"
                team = await sup.get_team()
                assert {row.id for row in team.agents} == {"a1", "a2", "sup"} and sup.view.team is team  # one home

                with pytest.raises(ClientError) as gone:  # no longer a1's to answer
                    await a1.reply("b5", "还在吗")
                assert gone.value.code in (ErrorCode.FORBIDDEN, ErrorCode.CONFLICT)

                await a2.close_conversation("b5")
                closed = await pushes.wait_for(lambda p: isinstance(p, SessionClosed), TIMEOUT)
                assert isinstance(closed, SessionClosed)
                await buyer.rate(5)
                with pytest.raises(ClientError) as bad_score:
                    await buyer.rate(6)
                assert bad_score.value.code is ErrorCode.INVALID and bad_score.value.field == "score"

    run(main())


def test_say_is_idempotent_on_client_id(tmp_path: Path) -> None:
    async def main() -> None:
        async with serving(prepare(tmp_path)) as server:
            async with BuyerClient(server.url, "b6", "小冯") as buyer:
                await buyer.arrive(Entry.PRODUCT_DETAIL)
                first = await buyer.say("在吗", client_id="g-1")
                again = await buyer.say("在吗", client_id="g-1")
                assert again.duplicate and again.message_id == first.message_id

    run(main())
