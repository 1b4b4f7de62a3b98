"""Ids hold no hidden characters; names are shown without them (issue 10, point 8)."""

from __future__ import annotations

import json
import sys
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from console.protocol.codec import ProtocolError, decode_agent, decode_buyer
from console.protocol.identifiers import HIDDEN_CATEGORIES, HIDDEN_RANGES, is_clean_id, visible_name
from console.protocol.messages import ErrorCode

LOOKALIKES = ["b1001\u202e", "b\u200b1001", "b1001\x00", "\ufeffb1001", "b10\u200d01", "b1001\u2066", "b\u00a01001",
              "b1001\u3000", "b\u20601001", "b1001\x7f", "b\u00ad1001"]


def test_the_written_out_ranges_are_unicodedatas() -> None:
    hidden = [c for c in range(sys.maxunicode + 1)
              if chr(c) != " " and unicodedata.category(chr(c)) in HIDDEN_CATEGORIES]
    listed = [c for a, b in HIDDEN_RANGES for c in range(a, b + 1)]
    assert listed == hidden


@pytest.mark.parametrize("buyer", LOOKALIKES)
def test_an_id_with_a_hidden_character_is_invalid_naming_the_field(buyer: str) -> None:
    raw = json.dumps({"type": "hello", "rid": "h", "buyer": buyer})
    with pytest.raises(ProtocolError) as caught:
        decode_buyer(raw)
    assert caught.value.code is ErrorCode.INVALID and caught.value.field == "buyer"
    assert "printable" in caught.value.message and "\\U" not in caught.value.message  # the rule, not the regex


def test_every_id_field_is_checked() -> None:
    hidden = "x\u200by"
    for message, field in (({"type": "say", "text": "hi", "client_id": hidden}, "client_id"),
                           ({"type": "order", "order": hidden, "state": "paid"}, "order")):
        with pytest.raises(ProtocolError) as caught:
            decode_buyer(json.dumps(message))
        assert caught.value.field == field
    for message, field in (({"type": "open", "conversation": hidden}, "conversation"),
                           ({"type": "login", "user": hidden, "password": "p"}, "user"),
                           ({"type": "transfer", "conversation": "b1", "agent": hidden}, "agent")):
        with pytest.raises(ProtocolError) as caught:
            decode_agent(json.dumps(message))
        assert caught.value.field == field


def test_ordinary_ids_pass() -> None:
    for buyer in ("b1001", "小王的店", "tb_8823-x.y", "a b", "用户 001"):
        assert decode_buyer(json.dumps({"type": "hello", "buyer": buyer})).buyer == buyer


@given(st.text(max_size=40))
def test_a_visible_name_has_nothing_hidden_and_keeps_the_rest(name: str) -> None:
    shown = visible_name(name)
    assert is_clean_id(shown)
    spaces = "".join(" " if unicodedata.category(c) == "Zs" else c for c in name)  # odd spaces become spaces
    assert shown == "".join(c for c in spaces if is_clean_id(c))
