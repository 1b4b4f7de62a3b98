"""The bot runs as a step after the decisions, one turn to its end before the next (issue 9)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from console.protocol.messages import AgentMessage
from console.routing.events import Status
from console.routing.policy import load_policy_toml
from console.server.bot import Bot
from console.server.conversations import ArriveAttrs
from console.server.driver import EngineDriver
from console.server.hub import Hub
from console.server.shop import Shop
from console.server.store import Store

from .helpers import POLICY


@pytest.mark.sqlite_only  # the shop alone on a Store (no server); its order does not depend on the store
def test_each_bot_turn_is_stored_and_told_before_the_next_turn_starts(tmp_path: Path) -> None:
    """Two buyers the bot holds get their turns in one step: the first answer reaches its buyer
    before the second turn runs (a turn's own engine input does not start a step inside it, which
    told the second buyer first and the first one's answer after it)."""

    async def scenario() -> list[tuple[str, str]]:
        store = Store.open(tmp_path / "data")
        hub = Hub(store)
        shop = Shop(store, hub, EngineDriver(store), Bot.from_file())
        shop.start(load_policy_toml(POLICY), POLICY)
        with shop.atomic():
            shop.set_status("a1", Status.ONLINE)  # the bot group routes to the bot while someone serves (R7.6)
        for buyer in ("b1", "b2"):
            with shop.atomic():
                account = shop.greet(buyer, buyer)
                assert shop.buyer_arrives(account.id, ArriveAttrs(entry="dm")).to == "bot"  # botgroup (R7.6)
        told: list[tuple[str, str]] = []
        to_buyer = hub.to_buyer

        def spy(buyer: str, message: object) -> None:
            if isinstance(message, AgentMessage):
                told.append((buyer, message.text))
            to_buyer(buyer, message)  # type: ignore[arg-type]

        hub.to_buyer = spy  # type: ignore[method-assign]
        with shop.atomic():
            shop._bot_turns.extend([("b1", "几天发货"), ("b2", "几天发货")])
            shop._bot_step()
        await shop.committed()
        shop.stop()
        store.close()
        return told

    told = asyncio.run(scenario())
    assert [buyer for buyer, _ in told] == ["b1", "b2"]
    assert all("发货" in text for _, text in told)
