"""Sending and fetching images over the protocol (issue 13), for both endpoints' clients.

An image goes up as ``image_begin`` (size and SHA-256), ``image_chunk`` frames and ``image_end``,
each answered by the server; the chunks are paced below the endpoint's frame rate
(``AGENT_RATE``, ``BUYER_RATE``), because a frame over the rate is dropped unanswered. An image
comes down as ``image_part`` answers to ``get_image``, asked from the next offset until all its
bytes have come.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from console.client.errors import ClientError
from console.protocol.limits import RateLimit
from console.protocol.messages import (
    IMAGE_CHUNK_BYTES,
    MAX_IMAGE_BYTES,
    GetImage,
    ImageBegin,
    ImageChunk,
    ImageEnd,
    ImagePart,
    Ok,
    ReplyAck,
    Request,
    SayAck,
)

A = TypeVar("A", ReplyAck, SayAck)
Call = Callable[[Request, Any], Awaitable[Any]]  # a client's request(message, answer type or union)

PACE = 0.6
"""Share of the endpoint's frame rate (and burst) that image chunks may use, leaving the rest for
other requests on the connection."""


async def send_image(call: Call, data: bytes, client_id: str, ack: type[A], *, rate: tuple[float, float],
                     conversation: str | None = None) -> A:
    """Upload ``data``; the acknowledgement of the stored message (``duplicate`` if it already was).

    ``rate`` is the endpoint's (frames per second, burst). Raises ``ClientError`` when the server
    refuses (``bad_image``, ``oversized``, ``forbidden``, ...)."""
    if len(data) > MAX_IMAGE_BYTES:  # the server would refuse it at once; say so without sending
        raise ClientError(None, f"the image is {len(data):,} bytes; at most {MAX_IMAGE_BYTES:,} can be sent")
    begin = await call(ImageBegin(client_id=client_id, size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                                  conversation=conversation), Ok | ack)
    if isinstance(begin, ack):
        return begin  # already stored: a resend
    loop = asyncio.get_running_loop()
    bucket = RateLimit(rate[0] * PACE, max(1.0, rate[1] * PACE))
    for offset in range(0, len(data), IMAGE_CHUNK_BYTES):
        while not bucket.allow(loop.time()):
            await asyncio.sleep(1.0 / (rate[0] * PACE))
        await call(ImageChunk(client_id=client_id, offset=offset, data=data[offset:offset + IMAGE_CHUNK_BYTES]), Ok)
    answer: A = await call(ImageEnd(client_id=client_id), ack)
    return answer


async def fetch_image(call: Call, sha256: str, *, conversation: str | None = None, thumb: bool = False) -> bytes:
    """The stored bytes of an image (or of its thumbnail), checked against their hash when whole."""
    parts: list[bytes] = []
    got = 0
    while True:
        part: ImagePart = await call(GetImage(sha256=sha256, conversation=conversation, offset=got, thumb=thumb),
                                     ImagePart)
        if not part.data and got < part.size:
            raise ClientError(None, "the server sent an empty part")
        parts.append(part.data)
        got += len(part.data)
        if got >= part.size:
            data = b"".join(parts)
            if not thumb and hashlib.sha256(data).hexdigest() != sha256:
                raise ClientError(None, "the image's bytes do not match its hash")
            return data
