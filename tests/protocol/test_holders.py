"""Holders: one text form, parsed and encoded in one place."""

from __future__ import annotations

import pytest

from console.protocol.holders import BOT, POOL, Holder, HolderKind, agent_of, is_queue


@pytest.mark.parametrize("text, holder", [
    ("agent:a1", Holder(HolderKind.AGENT, "a1")),
    ("bot", BOT),
    ("pool", POOL),
    ("queue:shop", Holder(HolderKind.QUEUE, "shop")),
    ("queue:售前", Holder(HolderKind.QUEUE, "售前")),
])
def test_round_trip(text: str, holder: Holder) -> None:
    assert Holder.parse(text) == holder
    assert str(holder) == text


@pytest.mark.parametrize("text", ["", "agent", "agent:", "queue", "bot:x", "pool:x", "Agent:a1", "nobody"])
def test_anything_else_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        Holder.parse(text)


def test_agent_and_queue_questions() -> None:
    assert agent_of("agent:a1") == "a1" and Holder.of_agent("a1").agent == "a1"
    assert agent_of("queue:shop") is None and agent_of("bot") is None and agent_of(None) is None
    assert is_queue("queue:g1") and not is_queue("pool") and not is_queue(None)
