"""Images of conversations (issue 13): checked by content, cleaned, stored once by hash, served.

An upload reaches here as bytes whose size and SHA-256 the sender declared (``uploads.py``
assembled them). ``clean`` decides with Pillow, by content only (there is no file name), whether
they are an image we take: PNG, JPEG, GIF or WebP, at most ``MAX_IMAGE_PIXELS`` pixels (read
from the header before anything is decoded, so a decompression bomb costs nothing), decodable
to the end (a truncated file is refused). It then re-encodes the pixels, which drops every
piece of metadata (EXIF with its GPS position, XMP, comments, ICC profiles, PNG text chunks)
after applying the EXIF orientation: JPEG stays JPEG (quality 90), a WebP photo without
transparency becomes JPEG, anything else PNG; an animation keeps its first frame. The re-encoding is
deterministic, so the same upload twice gives the same bytes, and the file is named by their
SHA-256: ``DATA/images/ab/cdef…`` (and its thumbnail, at most ``THUMB_SIDE`` px a side,
``…cdef….thumb``), stored once, written to a temporary file, fsynced and renamed, before the
message that refers to it is committed. Nothing here is changed in place; the one deletion is
``remove_unreferenced`` at the shop's start: an image stored but never shown by a committed
message (its request failed after the image was written, or the server stopped in between) and
older than ``ORPHAN_AGE_S`` goes, with its thumbnail and any temporary file left by a crash.

Decoding is CPU work: ``ImageStore.accept`` runs it in a worker thread, at most
``DECODE_WORKERS`` at once, so the loop never waits for it.

On PostgreSQL (issue 15) the files are rows of the shop's schema instead
(``DatabaseImageStore``), written by ``save`` in the transaction of the message that shows the
image, so every process serving the shop, on any machine, serves them.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import secrets
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps

from console.protocol.codec import ProtocolError
from console.protocol.messages import (
    IMAGE_PART_BYTES,
    MAX_IMAGE_BYTES,
    MAX_IMAGE_PIXELS,
    ErrorCode,
    GetImage,
    ImageBegin,
    ImagePart,
)
from console.reception.model import ImageRef
from console.server.repository import images as images_sql
from console.server.store import Store, fsync_dir
from console.server.uploads import UploadBudget, Uploads

FOLDER = "images"
THUMB_SIDE = 320
DECODE_WORKERS = 2
FORMATS = ("PNG", "JPEG", "GIF", "WEBP")
"""What Pillow may recognise an upload as; no other decoder is even tried."""
ORPHAN_AGE_S = 3600.0
"""An image no message shows is removed at start once it is this old (a fresh one may belong to a
request being committed by a server that was only just stopped)."""
MIME = {"PNG": "image/png", "JPEG": "image/jpeg"}
MAX_CLEAN_BYTES = 3 * MAX_IMAGE_BYTES
"""A cleaned image larger than this (a WebP or GIF whose PNG would be huge) is refused."""


class ImageRefused(Exception):
    """The bytes are not an image we take; ``str()`` says why, for the sender."""


@dataclass(frozen=True)
class Cleaned:
    ref: ImageRef
    data: bytes
    thumb: bytes


def clean(data: bytes, *, max_pixels: int = MAX_IMAGE_PIXELS) -> Cleaned:
    """Check ``data`` by content and re-encode it without metadata (see the module's text)."""
    try:
        with Image.open(io.BytesIO(data), formats=FORMATS) as image:
            fmt = str(image.format)
            width, height = image.size
            if width < 1 or height < 1 or width * height > max_pixels:
                raise ImageRefused(f"the image is {width} × {height} pixels; at most {max_pixels:,} pixels are taken")
            image.seek(0)  # an animation: its first frame
            image.load()  # decodes to the end: a truncated file fails here
            upright = ImageOps.exif_transpose(image)  # before the EXIF goes
            photo = fmt == "JPEG" or (fmt == "WEBP" and "A" not in upright.getbands())
            out, mime = _encode(upright, photo)
            thumb = _thumbnail(upright, photo)
    except ImageRefused:
        raise
    except Image.DecompressionBombError:
        raise ImageRefused(f"the image has too many pixels; at most {max_pixels:,} are taken") from None
    except Exception as exc:  # Pillow's errors for bad input are of many types (OSError, SyntaxError, ...)
        kind = "not an image of a type we take (PNG, JPEG, GIF, WebP)" if _unidentified(exc) else \
            "a damaged or truncated image"
        raise ImageRefused(f"the upload is {kind}") from None
    if len(out) > MAX_CLEAN_BYTES:
        raise ImageRefused("the image is too large once cleaned; send it as JPEG")
    ref = ImageRef(sha256=hashlib.sha256(out).hexdigest(), mime=mime, width=upright.width, height=upright.height,
                   size=len(out))
    return Cleaned(ref=ref, data=out, thumb=thumb)


def _unidentified(exc: Exception) -> bool:
    from PIL import UnidentifiedImageError
    return isinstance(exc, UnidentifiedImageError)


def _encode(image: Image.Image, photo: bool) -> tuple[bytes, str]:
    buffer = io.BytesIO()
    if photo:
        rgb = image if image.mode in ("RGB", "L") else image.convert("RGB")
        rgb.save(buffer, "JPEG", quality=90)  # no exif=, no icc_profile=: nothing but the pixels
        return buffer.getvalue(), MIME["JPEG"]
    keep = image if image.mode in ("1", "L", "LA", "P", "RGB", "RGBA") else image.convert("RGBA")
    keep.save(buffer, "PNG")  # no pnginfo=: text chunks stay behind
    return buffer.getvalue(), MIME["PNG"]


def _thumbnail(image: Image.Image, photo: bool) -> bytes:
    small = image.copy() if image.mode in ("RGB", "RGBA", "L", "LA") else image.convert("RGBA")
    small.thumbnail((THUMB_SIDE, THUMB_SIDE))
    return _encode(small, photo and "A" not in small.getbands())[0]


class ImageStore:
    """The images folder of a data folder: ``accept`` stores, ``read`` serves (SQLite)."""

    def __init__(self, data_dir: Path, *, max_pixels: int = MAX_IMAGE_PIXELS) -> None:
        self.folder = data_dir / FOLDER
        self.max_pixels = max_pixels
        self._pool: ThreadPoolExecutor | None = None

    def path(self, sha256: str, *, thumb: bool = False) -> Path:
        return self.folder / sha256[:2] / (sha256[2:] + (".thumb" if thumb else ""))

    async def accept(self, data: bytes) -> Cleaned:
        """Check, clean and store ``data`` (in a worker thread); the cleaned image, whose ``save``
        inside the request's transaction completes the storing.

        Raises ``ImageRefused`` with the reason, having stored nothing."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(DECODE_WORKERS, thread_name_prefix="fenliu-image")
        return await asyncio.get_running_loop().run_in_executor(self._pool, self._accept, data)

    def accept_now(self, data: bytes) -> ImageRef:
        return self._accept(data).ref

    def _accept(self, data: bytes) -> Cleaned:
        cleaned = clean(data, max_pixels=self.max_pixels)
        self._write(self.path(cleaned.ref.sha256, thumb=True), cleaned.thumb)
        self._write(self.path(cleaned.ref.sha256), cleaned.data)  # last: its presence means both are there
        return cleaned

    def save(self, cleaned: Cleaned) -> None:
        """Inside the transaction of the message that shows the image: nothing here, the files were
        written and synced by ``accept`` (``PgImageStore`` writes its row now)."""

    def _write(self, path: Path, data: bytes) -> None:
        """Atomically: a temporary file, fsynced, renamed over; the folder fsynced. Stored once."""
        if path.exists():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.parent / f".tmp-{secrets.token_hex(8)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o644)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            tmp.unlink(missing_ok=True)
            raise
        os.close(fd)
        os.replace(tmp, path)
        fsync_dir(path.parent)

    def remove_unreferenced(self, referenced: Callable[[], set[str]], now: float, *,
                            older_than: float = ORPHAN_AGE_S) -> int:
        """At start, before anything is served: remove the images (and thumbnails, and temporary
        files) that no committed message shows and that were last written more than
        ``older_than`` seconds before ``now``; how many images went. ``referenced`` gives the
        SHA-256s the messages show (a scan of the image messages: asked only when some file is
        old enough to go). An image a message shows is never touched, whatever its age."""
        if not self.folder.is_dir():
            return 0
        old: list[tuple[Path, str | None]] = []  # (file, its image's SHA-256; None: a torn write)
        for bucket in self.folder.iterdir():
            if not bucket.is_dir() or len(bucket.name) != 2:
                continue
            for path in bucket.iterdir():
                try:
                    if now - path.stat().st_mtime <= older_than:
                        continue
                except FileNotFoundError:
                    continue
                torn = path.name.startswith(".tmp-")  # a write a crash interrupted
                old.append((path, None if torn else bucket.name + path.name.removesuffix(".thumb")))
        if not old:
            return 0
        shown = referenced()
        removed = 0
        for path, sha256 in old:
            if sha256 is not None and sha256 in shown:
                continue
            path.unlink(missing_ok=True)
            removed += sha256 is not None and not path.name.endswith(".thumb")
        return removed

    def read(self, sha256: str, offset: int, length: int, *, thumb: bool = False) -> tuple[bytes, int]:
        """Up to ``length`` bytes from ``offset``, and the whole size. FileNotFoundError if absent."""
        with open(self.path(sha256, thumb=thumb), "rb") as file:
            size = os.fstat(file.fileno()).st_size
            file.seek(offset)
            return file.read(length), size

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None


class DatabaseImageStore(ImageStore):
    """The images of a shop whose store is PostgreSQL (issue 15): rows of the shop's ``images``
    table (``repository/pg.py IMAGES_PG``: the cleaned bytes and the thumbnail, by SHA-256), so every
    process serving the shop, on any machine, serves them. ``accept`` only checks and cleans (in a
    worker thread); ``save`` writes the row inside the request's transaction, so the image and the
    message that shows it are committed together or not at all, and flushed before the
    acknowledgement as the message is. Nothing is written outside a request."""

    def __init__(self, store: Store, *, max_pixels: int = MAX_IMAGE_PIXELS) -> None:
        super().__init__(store.path.parent, max_pixels=max_pixels)
        self.db = store

    def _accept(self, data: bytes) -> Cleaned:
        return clean(data, max_pixels=self.max_pixels)

    def save(self, cleaned: Cleaned) -> None:
        images_sql.save_image(self.db, cleaned.ref.sha256, cleaned.data, cleaned.thumb, time.time())

    def remove_unreferenced(self, referenced: Callable[[], set[str]], now: float, *,
                            older_than: float = ORPHAN_AGE_S) -> int:
        """The rows of images no message shows, older than ``older_than`` (only a resent upload
        under a client id already used can leave one: the row and its message commit together).
        One statement, in the start's batch."""
        return images_sql.remove_unshown_images(self.db, now - older_than)

    def read(self, sha256: str, offset: int, length: int, *, thumb: bool = False) -> tuple[bytes, int]:
        """Only the part asked for leaves the database (the columns are stored uncompressed, so
        ``substr`` reads just the chunks it needs)."""
        found = images_sql.read_image(self.db, sha256, offset, length, thumb=thumb)
        if found is None:
            raise FileNotFoundError(sha256)
        return found


class ImageDesk:
    """What both endpoints do with images: receive uploads into an ``ImageStore`` and serve its
    files to whoever the endpoint has found may see the conversation."""

    def __init__(self, store: ImageStore, budget: UploadBudget | None = None) -> None:
        self.store = store
        self.budget = budget if budget is not None else UploadBudget()

    def uploads(self) -> Uploads:
        """A connection's uploads (close them when it ends)."""
        return Uploads(self.budget)

    async def finish(self, uploads: Uploads, client_id: str) -> tuple[ImageBegin, Cleaned]:
        """The upload's bytes checked and cleaned: its begin and the image, to ``save`` in the
        transaction of the message that shows it (on SQLite its files are already written).

        ``invalid`` for missing bytes or another hash, ``bad_image`` for what is not an image we
        take; nothing is stored then."""
        begin, data = uploads.end(client_id)
        try:
            cleaned = await self.store.accept(data)
        except ImageRefused as exc:
            raise ProtocolError(ErrorCode.BAD_IMAGE, str(exc), "client_id") from None
        return begin, cleaned

    def save(self, cleaned: Cleaned) -> None:
        """Call inside the request's transaction, before the message that shows the image."""
        self.store.save(cleaned)

    def part(self, request: GetImage) -> ImagePart:
        """Bytes of a stored image (the endpoint checked who asks)."""
        try:
            data, size = self.store.read(request.sha256, request.offset, IMAGE_PART_BYTES, thumb=request.thumb)
        except FileNotFoundError:
            raise ProtocolError(ErrorCode.NOT_FOUND, "no such image", "sha256") from None
        if request.offset >= size:
            raise ProtocolError(ErrorCode.INVALID, f"offset {request.offset} is past the image's {size} bytes", "offset")
        return ImagePart(rid=request.rid, sha256=request.sha256, thumb=request.thumb, offset=request.offset,
                         size=size, data=data)

    def close(self) -> None:
        self.store.close()
