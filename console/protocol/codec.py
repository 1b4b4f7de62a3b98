"""Bytes to messages and back, with every failure turned into a typed ``ProtocolError``.

The server calls ``decode_agent`` / ``decode_buyer`` on each websocket frame and, on
``ProtocolError``, sends ``error_for(exc)`` and carries on: a bad frame never closes the
connection and never shows a traceback to the peer. The size limit is checked before any
parsing so an oversized frame costs nothing. When a frame is JSON but not a valid message, the
``rid`` is still recovered where possible so the console can match the error to its request.

The client side uses ``decode_for_agent`` / ``decode_for_buyer`` for what the server sends.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

import msgspec

from console.protocol.identifiers import ID_RULE
from console.protocol.messages import (
    AgentPush,
    AgentRequest,
    AnyMessage,
    BuyerPush,
    BuyerRequest,
    Error,
    ErrorCode,
)

MAX_MESSAGE_BYTES = 64 * 1024
"""The largest frame a client may send (the server's websocket layer uses the same ``max_size``)."""

MAX_PUSH_BYTES = 16 * 1024 * 1024
"""The largest frame the server sends: a busy agent's snapshot, a long history or the team view."""

T = TypeVar("T")


class ProtocolError(Exception):
    """A frame that could not become a message, or a request the server refuses.

    ``field`` is the offending field as a path (``text``, ``crowd[3]``, ``conversation.kind``);
    ``rid`` is the request id when it could be read, so the reply can be correlated.
    """

    def __init__(
        self, code: ErrorCode, message: str, field: str | None = None, rid: str | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.rid = rid

    def __repr__(self) -> str:
        return f"ProtocolError({self.code.value!r}, {self.message!r}, field={self.field!r}, rid={self.rid!r})"


class _RidOnly(msgspec.Struct):
    """Reads just the request id out of any JSON object (everything else ignored)."""

    rid: Any = None


_encoder = msgspec.json.Encoder()
_agent_requests: msgspec.json.Decoder[AgentRequest] = msgspec.json.Decoder(AgentRequest)
_buyer_requests: msgspec.json.Decoder[BuyerRequest] = msgspec.json.Decoder(BuyerRequest)
_agent_pushes: msgspec.json.Decoder[AgentPush] = msgspec.json.Decoder(AgentPush)
_buyer_pushes: msgspec.json.Decoder[BuyerPush] = msgspec.json.Decoder(BuyerPush)
_rid_reader: msgspec.json.Decoder[_RidOnly] = msgspec.json.Decoder(_RidOnly)

_AT = re.compile(r" - at `\$(?P<path>[^`]*)`$")
_NAMED_FIELD = re.compile(r"field `(?P<name>[^`]+)`")


def encode(msg: AnyMessage) -> bytes:
    """One message as compact UTF-8 JSON (defaults left out)."""
    return _encoder.encode(msg)


def decode_agent(raw: bytes | str) -> AgentRequest:
    """A console's frame on ``/agent`` as a request, or ``ProtocolError``."""
    return _decode(_agent_requests, raw)


def decode_buyer(raw: bytes | str) -> BuyerRequest:
    """A gateway's frame on ``/buyer`` as a request, or ``ProtocolError``."""
    return _decode(_buyer_requests, raw)


def decode_for_agent(raw: bytes | str) -> AgentPush:
    """What the server sent on ``/agent``, for the console's client."""
    return _decode(_agent_pushes, raw, MAX_PUSH_BYTES)


def decode_for_buyer(raw: bytes | str) -> BuyerPush:
    """What the server sent on ``/buyer``, for the gateway or the simulator."""
    return _decode(_buyer_pushes, raw, MAX_PUSH_BYTES)


def error_for(exc: ProtocolError) -> Error:
    """The reply to send for a refused frame or request."""
    return Error(rid=exc.rid, code=exc.code, message=exc.message, field=exc.field)


def _decode(decoder: msgspec.json.Decoder[T], raw: bytes | str, limit: int = MAX_MESSAGE_BYTES) -> T:
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    if len(data) > limit:
        raise ProtocolError(ErrorCode.OVERSIZED, f"message is {len(data)} bytes; the limit is {limit}")
    try:
        return decoder.decode(data)
    except msgspec.ValidationError as exc:
        raise _invalid(str(exc), _recover_rid(data)) from None
    except (msgspec.DecodeError, RecursionError, UnicodeDecodeError, ValueError):
        raise ProtocolError(ErrorCode.MALFORMED, "message is not valid JSON text") from None


def _invalid(text: str, rid: str | None) -> ProtocolError:
    """Turn msgspec's validation message into a code and a field path."""
    path = None
    at = _AT.search(text)
    detail = text
    if at is not None:
        path = at.group("path").lstrip(".") or None
        detail = text[: at.start()]
    named = _NAMED_FIELD.search(detail)
    if named is not None:
        path = f"{path}.{named.group('name')}" if path else named.group("name")
    if path == "type":
        if detail.startswith("Invalid value"):
            return ProtocolError(ErrorCode.UNKNOWN_TYPE, f"unknown message type: {detail}", "type", rid)
    if path is None and detail.startswith("Expected `object`"):
        return ProtocolError(ErrorCode.INVALID, f"a message must be a JSON object: {detail}", None, rid)
    if "matching regex" in detail:  # an id with a hidden character: say the rule, not the regex
        detail = ID_RULE
    where = f" (at {path})" if at is not None and path else ""
    return ProtocolError(ErrorCode.INVALID, f"{detail}{where}", path, rid)


def _recover_rid(data: bytes) -> str | None:
    try:
        rid = _rid_reader.decode(data).rid
    except (msgspec.DecodeError, RecursionError, ValueError):
        return None
    if isinstance(rid, str) and 0 < len(rid) <= 64:
        return rid
    return None
