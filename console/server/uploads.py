"""Image uploads being received, per connection, in bounded memory (issue 13).

An upload is ``image_begin`` (declared size and SHA-256), ``image_chunk`` frames in order, then
``image_end``. The frame limit stays 64 KiB: an image travels in chunks of at most
``IMAGE_CHUNK_BYTES``. What a hostile peer can make the server hold is bounded three ways:

- a declared size over ``MAX_IMAGE_BYTES`` is refused at ``image_begin``, before any byte;
- bytes beyond the declared size are refused as they come, and the upload is dropped;
- the declared size is reserved from a server-wide budget (``UPLOAD_BUDGET``) at ``image_begin``
  and given back when the upload ends, fails or its connection closes; a connection holds at most
  ``UPLOADS_PER_CONNECTION`` uploads at once, and one with no chunk for ``UPLOAD_IDLE`` seconds
  is dropped when another upload needs room.

Nothing here touches the disk or the database: an upload that is not finished leaves no trace.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from console.protocol.codec import ProtocolError
from console.protocol.limits import UPLOAD_BUDGET, UPLOAD_IDLE, UPLOADS_PER_CONNECTION
from console.protocol.messages import MAX_IMAGE_BYTES, ErrorCode, ImageBegin, ImageChunk


@dataclass
class Upload:
    begin: ImageBegin
    started: float
    last: float
    received: int = 0
    parts: list[bytes] = field(default_factory=list)
    digest: hashlib._Hash = field(default_factory=hashlib.sha256)


class UploadBudget:
    """The server-wide reservation of upload bytes, shared by every connection's ``Uploads``."""

    def __init__(self, total: int = UPLOAD_BUDGET) -> None:
        self.total = total
        self.reserved = 0
        self._open: set[Uploads] = set()

    def reserve(self, size: int, now: float) -> bool:
        if self.reserved + size > self.total:
            for uploads in list(self._open):
                uploads.drop_idle(now)
        if self.reserved + size > self.total:
            return False
        self.reserved += size
        return True

    def release(self, size: int) -> None:
        self.reserved -= size


class Uploads:
    """The uploads of one connection."""

    def __init__(self, budget: UploadBudget) -> None:
        self.budget = budget
        self._uploads: dict[str, Upload] = {}
        budget._open.add(self)

    def begin(self, request: ImageBegin, now: float) -> None:
        if request.size > MAX_IMAGE_BYTES:
            raise ProtocolError(ErrorCode.OVERSIZED, f"the image is {request.size:,} bytes; at most "
                                f"{MAX_IMAGE_BYTES:,} are taken", "size")
        self._drop(request.client_id)  # a restarted upload starts again from nothing
        if len(self._uploads) >= UPLOADS_PER_CONNECTION:
            self.drop_idle(now)
        if len(self._uploads) >= UPLOADS_PER_CONNECTION:
            raise ProtocolError(ErrorCode.RATE_LIMITED, f"at most {UPLOADS_PER_CONNECTION} images at once "
                                "on one connection", "client_id")
        if not self.budget.reserve(request.size, now):
            raise ProtocolError(ErrorCode.RATE_LIMITED, "the server is receiving too many images; try again soon",
                                "size")
        self._uploads[request.client_id] = Upload(begin=request, started=now, last=now)

    def chunk(self, request: ImageChunk, now: float) -> None:
        upload = self._get(request.client_id)
        if request.offset != upload.received:
            self._drop(request.client_id)
            raise ProtocolError(ErrorCode.INVALID, f"expected offset {upload.received}, got {request.offset}; "
                                "the upload was dropped, begin again", "offset")
        if upload.received + len(request.data) > upload.begin.size:
            self._drop(request.client_id)
            raise ProtocolError(ErrorCode.OVERSIZED, f"more bytes than the {upload.begin.size:,} declared; "
                                "the upload was dropped", "data")
        upload.parts.append(request.data)
        upload.digest.update(request.data)
        upload.received += len(request.data)
        upload.last = now

    def end(self, client_id: str) -> tuple[ImageBegin, bytes]:
        """The finished upload's begin and bytes (it leaves this connection's uploads).

        Raises ``invalid`` when bytes are missing or the hash differs (the upload is dropped)."""
        upload = self._get(client_id)
        self._drop(client_id)
        if upload.received != upload.begin.size:
            raise ProtocolError(ErrorCode.INVALID, f"{upload.received:,} of the {upload.begin.size:,} declared "
                                "bytes came; begin again", "client_id")
        if upload.digest.hexdigest() != upload.begin.sha256:
            raise ProtocolError(ErrorCode.INVALID, "the bytes do not match the declared sha256; begin again",
                                "sha256")
        return upload.begin, b"".join(upload.parts)

    def drop_idle(self, now: float) -> None:
        for client_id, upload in list(self._uploads.items()):
            if now - upload.last > UPLOAD_IDLE:
                self._drop(client_id)

    def close(self) -> None:
        """The connection ended: give back every reservation."""
        for client_id in list(self._uploads):
            self._drop(client_id)
        self.budget._open.discard(self)

    @property
    def held(self) -> int:
        return sum(u.received for u in self._uploads.values())

    def _get(self, client_id: str) -> Upload:
        upload = self._uploads.get(client_id)
        if upload is None:
            raise ProtocolError(ErrorCode.NOT_FOUND, f"no upload {client_id!r} in progress on this connection "
                                "(send image_begin first)", "client_id")
        return upload

    def _drop(self, client_id: str) -> None:
        upload = self._uploads.pop(client_id, None)
        if upload is not None:
            self.budget.release(upload.begin.size)
