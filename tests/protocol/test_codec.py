"""Decoding: every failure is a typed ProtocolError naming the problem, never anything else."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.protocol import codec
from console.protocol import messages as m
from console.protocol.codec import MAX_MESSAGE_BYTES, ProtocolError, decode_agent, decode_buyer, error_for
from console.protocol.messages import ErrorCode


def _fails(raw: bytes | str, decode: Any = decode_agent) -> ProtocolError:
    with pytest.raises(ProtocolError) as info:
        decode(raw)
    return info.value


@pytest.mark.parametrize(
    "raw", [b"{", b"not json", b"\xff\xfe", b"", '{"type": "\ud800"}', b'{"type":"login",}']
)
def test_malformed(raw: bytes | str) -> None:
    err = _fails(raw)
    assert err.code is ErrorCode.MALFORMED
    assert err.field is None


def test_oversized_is_refused_before_parsing() -> None:
    text = "x" * MAX_MESSAGE_BYTES
    err = _fails(
        json.dumps({"type": "reply", "rid": "r9", "conversation": "b", "text": text, "client_id": "c"})
    )
    assert err.code is ErrorCode.OVERSIZED
    assert err.rid is None  # not parsed at all
    assert str(MAX_MESSAGE_BYTES) in err.message


def test_exactly_at_the_limit_is_parsed() -> None:
    body = b'{"type":"logout"}'
    raw = body[:-1] + b" " * (MAX_MESSAGE_BYTES - len(body)) + b"}"
    assert len(raw) == MAX_MESSAGE_BYTES
    assert decode_agent(raw) == m.Logout()


def test_oversized_counts_bytes_not_characters() -> None:
    text = "客" * (MAX_MESSAGE_BYTES // 3 + 10)  # fewer characters than the limit, more bytes
    assert len(text) < MAX_MESSAGE_BYTES
    assert _fails(text).code is ErrorCode.OVERSIZED


def test_unknown_type_keeps_the_rid() -> None:
    err = _fails(b'{"type":"launch_rockets","rid":"r1"}')
    assert err.code is ErrorCode.UNKNOWN_TYPE
    assert err.field == "type"
    assert err.rid == "r1"
    assert "launch_rockets" in err.message


def test_agent_types_are_unknown_on_the_buyer_side() -> None:
    assert _fails(b'{"type":"login","user":"a","password":"p"}', decode_buyer).code is ErrorCode.UNKNOWN_TYPE
    assert _fails(b'{"type":"say","text":"hi","client_id":"c"}', decode_agent).code is ErrorCode.UNKNOWN_TYPE


@pytest.mark.parametrize(
    ("raw", "field", "words"),
    [
        (b'{"rid":"r2","user":"a"}', "type", "missing"),
        (b'{"type":"login","rid":"r2","user":"a1"}', "password", "missing"),
        (b'{"type":"login","rid":"r2","user":5,"password":"p"}', "user", "Expected `str`"),
        (b'{"type":"set_status","rid":"r2","status":"away"}', "status", "enum"),
        (b'{"type":"login","rid":"r2","user":"a1","password":"p","admin":true}', "admin", "unknown field"),
        (b'{"type":"clear","rid":"r2","section":"pending"}', "section", "bot_replied"),
        (b'{"type":"open","rid":"r2","conversation":"b","limit":0}', "limit", ">= 1"),
        (b'{"type":"resume","rid":"r2","token":"t","last_seq":-1}', "last_seq", ">= 0"),
        (b'{"type":"login","rid":"r2","user":"' + b"u" * 65 + b'","password":"p"}', "user", "<= 64"),
        (b'{"type":"login","rid":"r2","user":"","password":"p"}', "user", ">= 1"),
    ],
)
def test_invalid_names_the_field(raw: bytes, field: str, words: str) -> None:
    err = _fails(raw)
    assert err.code is ErrorCode.INVALID
    assert err.field == field
    assert words in err.message
    assert err.rid == "r2"


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (b'{"type":"rate","rid":"r3","score":6}', "score"),
        (b'{"type":"rate","rid":"r3","score":0}', "score"),
        (b'{"type":"rate","rid":"r3","score":4.5}', "score"),
        (b'{"type":"order","rid":"r3","order":"o1","state":"lost"}', "state"),
        (b'{"type":"arrive","rid":"r3","crowd":["vip",""]}', "crowd[1]"),
        (b'{"type":"arrive","rid":"r3","entry":"billboard"}', "entry"),
        (b'{"type":"say","rid":"r3","text":"","client_id":"c"}', "text"),
    ],
)
def test_buyer_side_invalid(raw: bytes, field: str) -> None:
    err = _fails(raw, decode_buyer)
    assert err.code is ErrorCode.INVALID
    assert (err.field, err.rid) == (field, "r3")


def test_text_longer_than_4000_is_invalid() -> None:
    raw = json.dumps({"type": "reply", "conversation": "b", "text": "a" * 4001, "client_id": "c"})
    err = _fails(raw)
    assert (err.code, err.field) == (ErrorCode.INVALID, "text")
    assert decode_agent(raw.replace("a" * 4001, "a" * 4000)) == m.Reply(
        conversation="b", text="a" * 4000, client_id="c"
    )


def test_nested_field_path() -> None:
    raw = codec.encode(
        m.History(
            conversation=m.Conversation(
                id="b", name="n", kind=m.Kind.CONSUMER, section=m.Section.PENDING, holder=None
            ),
            messages=[],
        )
    )
    broken = raw.replace(b'"kind":"consumer"', b'"kind":"vip"')
    err = _fails(broken, codec.decode_for_agent)
    assert err.field == "conversation.kind"


@pytest.mark.parametrize("raw", [b"[]", b"3", b'"login"', b"null"])
def test_not_an_object(raw: bytes) -> None:
    err = _fails(raw)
    assert err.code is ErrorCode.INVALID
    assert "object" in err.message


@pytest.mark.parametrize("rid", [5, "", "r" * 65, None, ["x"]])
def test_unusable_rid_is_dropped(rid: object) -> None:
    assert _fails(json.dumps({"type": "nope", "rid": rid})).rid is None


def test_error_for_builds_the_reply() -> None:
    err = _fails(b'{"type":"login","rid":"r7","user":"a1"}')
    reply = error_for(err)
    assert reply == m.Error(rid="r7", code=ErrorCode.INVALID, message=err.message, field="password")
    assert codec.decode_for_agent(codec.encode(reply)) == reply


def test_every_decode_error_code_is_reachable() -> None:
    samples = [b"{", b"x" * (MAX_MESSAGE_BYTES + 1), b'{"type":"nope"}', b'{"type":"login"}']
    codes = {_fails(s).code for s in samples}
    assert codes == {ErrorCode.MALFORMED, ErrorCode.OVERSIZED, ErrorCode.UNKNOWN_TYPE, ErrorCode.INVALID}


def test_repr_has_no_traceback_noise() -> None:
    err = _fails(b"{")
    assert err.__cause__ is None and err.__suppress_context__
    assert "Traceback" not in repr(err)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
TYPES = sorted(
    {c.__struct_config__.tag for c in (*m.AgentRequest.__args__, *m.BuyerRequest.__args__)}  # type: ignore[attr-defined]
)
message_like = st.fixed_dictionaries(
    {"type": st.sampled_from(TYPES) | st.text(max_size=8)},
    optional={
        "rid": json_values,
        "user": json_values,
        "text": json_values,
        "score": json_values,
        "crowd": json_values,
        "section": st.sampled_from([s.value for s in m.Section]) | json_values,
        "conversation": json_values,
        "status": json_values,
    },
)


@settings(max_examples=300)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_only_raise_protocol_errors(raw: bytes) -> None:
    for decode in (decode_agent, decode_buyer, codec.decode_for_agent, codec.decode_for_buyer):
        try:
            decode(raw)
        except ProtocolError as err:
            assert err.code in {ErrorCode.MALFORMED, ErrorCode.INVALID, ErrorCode.UNKNOWN_TYPE}


@settings(max_examples=300)
@given(json_values | message_like)
def test_arbitrary_json_only_raises_protocol_errors(value: object) -> None:
    raw = json.dumps(value)
    for decode in (decode_agent, decode_buyer):
        try:
            msg = decode(raw)
        except ProtocolError as err:
            assert err.code in {ErrorCode.INVALID, ErrorCode.UNKNOWN_TYPE}
            assert err.rid is None or (isinstance(value, dict) and err.rid == value.get("rid"))
        else:
            assert decode(codec.encode(msg)) == msg


@given(st.text(max_size=200))
def test_arbitrary_text_only_raises_protocol_errors(raw: str) -> None:
    try:
        decode_agent(raw)
    except ProtocolError:
        pass
