"""Every message type round-trips, has an example, and the documentation's examples decode."""

from __future__ import annotations

import json
import re
import typing
from pathlib import Path

import msgspec
import pytest

from console.protocol import codec, examples
from console.protocol import messages as m

REPO = Path(__file__).resolve().parents[2]


def _members(union: object) -> set[type]:
    return set(typing.get_args(union))


ALL_EXAMPLES = [
    *[(x, codec.decode_agent) for x in examples.AGENT_REQUESTS],
    *[(x, codec.decode_for_agent) for x in examples.AGENT_PUSHES],
    *[(x, codec.decode_buyer) for x in examples.BUYER_REQUESTS],
    *[(x, codec.decode_for_buyer) for x in examples.BUYER_PUSHES],
]


@pytest.mark.parametrize(("msg", "decode"), ALL_EXAMPLES, ids=lambda v: type(v).__name__)
def test_every_example_round_trips(msg: object, decode: typing.Callable[[bytes | str], object]) -> None:
    raw = codec.encode(msg)  # type: ignore[arg-type]
    assert decode(raw) == msg
    assert decode(raw.decode("utf-8")) == msg
    assert json.loads(raw)["type"] == type(msg).__struct_config__.tag  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("union", "given"),
    [
        (m.AgentRequest, examples.AGENT_REQUESTS),
        (m.AgentPush, examples.AGENT_PUSHES),
        (m.BuyerRequest, examples.BUYER_REQUESTS),
        (m.BuyerPush, examples.BUYER_PUSHES),
    ],
)
def test_every_message_type_has_an_example(union: object, given: list[object]) -> None:
    assert {type(x) for x in given} == _members(union)


def test_tags_are_unique_across_the_protocol() -> None:
    every = (
        _members(m.AgentRequest) | _members(m.AgentPush) | _members(m.BuyerRequest) | _members(m.BuyerPush)
    )
    tags = [c.__struct_config__.tag for c in every]  # type: ignore[attr-defined]
    assert len(tags) == len(set(tags))
    msgspec.json.Decoder(m.AnyMessage)  # one union is possible: no clashing tags


def test_defaults_are_left_out_of_the_wire() -> None:
    assert codec.encode(m.Ok()) == b'{"type":"ok"}'
    assert json.loads(codec.encode(m.Arrive())) == {"type": "arrive"}


def test_decoded_arrive_fills_defaults() -> None:
    arrive = codec.decode_buyer(b'{"type":"arrive"}')
    assert arrive == m.Arrive(entry=m.Entry.OTHER, crowd=[])


def test_buyer_hello_cannot_carry_a_kind() -> None:
    """The badge comes only from the server's account data (CONSOLE.md §1)."""
    with pytest.raises(codec.ProtocolError) as info:
        codec.decode_buyer(b'{"type":"hello","buyer":"b1","kind":"staff"}')
    assert info.value.code is m.ErrorCode.INVALID
    assert info.value.field == "kind"
    assert "kind" not in m.BuyerHello.__struct_fields__
    assert "role" not in m.Arrive.__struct_fields__


def test_clear_section_only_for_bot_replied_and_replied() -> None:
    assert m.ClearSection(section=m.Section.BOT_REPLIED).section is m.Section.BOT_REPLIED
    for section in (m.Section.PENDING, m.Section.STAFF, m.Section.GROUP):
        with pytest.raises(ValueError, match="section"):
            m.ClearSection(section=section)


def _doc_examples() -> list[tuple[str, str]]:
    text = (REPO / "docs" / "PROTOCOL.md").read_text(encoding="utf-8")
    found: list[tuple[str, str]] = []
    side = ""
    for line_block in re.split(r"(^#+ .*$)", text, flags=re.M):
        if line_block.startswith("#"):
            if line_block.startswith("## "):  # "## Agent endpoint" / "## Buyer endpoint"
                low = line_block.lower()
                side = "agent" if "agent" in low else "buyer" if "buyer" in low else ""
            continue
        for block in re.findall(r"```json\n(.*?)```", line_block, flags=re.S):
            for line in block.strip().splitlines():
                if line.strip():
                    found.append((side, line.strip()))
    return found


def test_protocol_doc_examples_all_decode() -> None:
    found = _doc_examples()
    assert len(found) >= len(ALL_EXAMPLES)
    agent = msgspec.json.Decoder(m.AgentRequest | m.AgentPush)
    buyer = msgspec.json.Decoder(m.BuyerRequest | m.BuyerPush)
    seen: set[str] = set()
    for side, line in found:
        assert side, f"example outside an endpoint section: {line}"
        msg = (agent if side == "agent" else buyer).decode(line)
        seen.add(type(msg).__name__)
    assert {type(x).__name__ for x, _ in ALL_EXAMPLES} <= seen


@pytest.mark.parametrize("frame", [
    '{"type":"edit_phrase","id":9223372036854775808,"title":"t","text":"x"}',
    '{"type":"pin_phrase","id":9223372036854775808,"pinned":true}',
    '{"type":"delete_phrase","id":18446744073709551616}',
    '{"type":"reorder_phrases","scope":"team","ids":[1,9223372036854775808]}',
    '{"type":"delete_phrase","id":0}',
])
def test_phrase_ids_beyond_a_sqlite_rowid_are_refused_by_the_schema(frame: str) -> None:
    """The fuzzer's find: such an id reached SQLite (OverflowError: internal) instead of ``invalid``."""
    with pytest.raises(codec.ProtocolError) as bad:
        codec.decode_agent(frame)
    assert bad.value.code is m.ErrorCode.INVALID
