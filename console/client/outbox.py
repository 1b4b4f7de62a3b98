"""Replies not yet acknowledged by the server, kept on disk until they are (CONSOLE.md §5).

A reply goes into the outbox *before* it is sent and leaves it only when the server's
``reply_ack`` (or a refusal that will never change) comes back. So a reply typed while the
connection is down, or whose acknowledgement was lost with the connection, or that was pending
when the console was closed, is sent again when the connection is back. Each entry keeps the
``client_id`` it was first given; the server stores a ``client_id`` once and answers a resend
with ``duplicate: true``, so the buyer sees it exactly once.

The file is JSON lines, one entry per line, in the order the replies were written, and is
rewritten whole and atomically (temporary file, fsync, rename) on each change: it holds a few
replies at most, and a torn file must never lose the ones already there. One file per user and
server, in the client's ``state_dir``.

An image sent while offline waits here too (issue 13): its bytes (up to 8 MB) in a file of its
own beside the outbox (``<outbox>.images/``), written and synced before its entry is, and removed
with it; the entry names that file.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import tempfile
import time
from enum import StrEnum
from pathlib import Path
from urllib.parse import quote

import msgspec

from console.client.observers import Observers

log = logging.getLogger(__name__)


class Delivery(StrEnum):
    """What the UI shows next to a reply that is still in the outbox."""

    QUEUED = "queued"  # waiting for the connection ("queued offline")
    SENDING = "sending"  # sent on the current connection, acknowledgement not yet back


class OutboxEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One reply waiting for its acknowledgement."""

    client_id: str
    conversation: str
    text: str
    created_at: float  # epoch seconds, when the agent wrote it
    image: str | None = None  # an image to send (issue 13): its file in the outbox's image folder


class OutboxItem(msgspec.Struct, frozen=True, kw_only=True):
    """An entry as the UI sees it: with its delivery state."""

    entry: OutboxEntry
    delivery: Delivery


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(OutboxEntry)


def outbox_path(state_dir: Path, url: str, user: str) -> Path:
    """The outbox file of ``user`` on the server at ``url``."""
    server = hashlib.sha256(url.encode("utf-8")).hexdigest()[:10]
    return state_dir / f"outbox-{quote(user, safe='')}-{server}.jsonl"


class Outbox:
    """Ordered unacknowledged replies, mirrored to ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.images_dir = path.with_name(path.name + ".images")
        self._entries: dict[str, OutboxEntry] = {}
        self._sending: set[str] = set()
        self._write_lock = asyncio.Lock()
        self.changed: Observers[list[OutboxItem]] = Observers()
        self._load()

    # -- reading ------------------------------------------------------------------------------

    def _load(self) -> None:
        try:
            lines = self.path.read_bytes().splitlines()
        except FileNotFoundError:
            return
        except OSError as exc:
            log.error("cannot read the outbox %s: %s", self.path, exc)
            return
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                entry = _decoder.decode(line)
            except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                log.error("%s:%d: skipping a damaged outbox line: %s", self.path, number, exc)
                continue
            if entry.image is not None and not (self.images_dir / entry.image).is_file():
                log.error("%s:%d: skipping an image whose file is gone: %s", self.path, number, entry.image)
                continue
            self._entries[entry.client_id] = entry

    def entries(self) -> list[OutboxEntry]:
        """The waiting replies, oldest first."""
        return list(self._entries.values())

    def items(self) -> list[OutboxItem]:
        """The waiting replies with their delivery state, oldest first."""
        return [
            OutboxItem(entry=e, delivery=Delivery.SENDING if e.client_id in self._sending else Delivery.QUEUED)
            for e in self._entries.values()
        ]

    def get(self, client_id: str) -> OutboxEntry | None:
        return self._entries.get(client_id)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, client_id: object) -> bool:
        return client_id in self._entries

    # -- changing -----------------------------------------------------------------------------

    async def add(self, conversation: str, text: str, client_id: str, created_at: float | None = None,
                  *, image: bytes | None = None) -> OutboxEntry:
        """Keep a reply, or an image (``text`` its preview), on disk before this returns. A known
        ``client_id`` is kept as it was."""
        existing = self._entries.get(client_id)
        if existing is not None:
            return existing
        name = None
        if image is not None:
            name = hashlib.sha256(client_id.encode("utf-8")).hexdigest()[:32]  # any client_id, a safe name
            await asyncio.to_thread(_write_atomically, self.images_dir / name, image)
            if client_id in self._entries:  # added meanwhile (the same image sent twice)
                return self._entries[client_id]
        entry = OutboxEntry(client_id=client_id, conversation=conversation, text=text,
                            created_at=time.time() if created_at is None else created_at, image=name)
        self._entries[client_id] = entry
        await self._save()
        return entry

    async def image(self, entry: OutboxEntry) -> bytes:
        """The bytes of an image entry (``OSError`` if its file cannot be read)."""
        if entry.image is None:
            raise ValueError(f"{entry.client_id} is not an image")
        return await asyncio.to_thread((self.images_dir / entry.image).read_bytes)

    async def remove(self, client_id: str) -> None:
        """The reply is acknowledged (or refused for good): forget it (an image's file after its entry)."""
        self._sending.discard(client_id)
        entry = self._entries.pop(client_id, None)
        if entry is not None:
            await self._save()
            if entry.image is not None:
                await asyncio.to_thread(_remove_file, self.images_dir / entry.image)

    def mark_sending(self, client_id: str) -> None:
        if client_id in self._entries and client_id not in self._sending:
            self._sending.add(client_id)
            self.changed.emit(self.items())

    def mark_queued(self) -> None:
        """The connection dropped: whatever was in flight waits again."""
        if self._sending:
            self._sending.clear()
            self.changed.emit(self.items())

    async def _save(self) -> None:
        body = b"".join(_encoder.encode(e) + b"\n" for e in self._entries.values())
        self.changed.emit(self.items())
        async with self._write_lock:  # writes land in the order the changes were made
            await asyncio.to_thread(_write_atomically, self.path, body)


def _remove_file(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    except OSError as exc:
        log.error("cannot remove the sent image %s: %s", path, exc)


def _write_atomically(path: Path, body: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not body:
        try:
            path.unlink()
        except FileNotFoundError:
            pass
        return
    fd, temp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(body)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, path)
    except BaseException:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise
    try:  # make the rename itself durable (POSIX); not available everywhere
        dir_fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)
