"""Images in the conversation (issue 13): fetched once, decoded off the UI thread, cached.

``Thumbnails`` asks the backend for a stored image's thumbnail (or the whole image, for the
viewer) the first time a bubble or the viewer needs it; the bytes come back on ``ConsoleState``
(``image_loaded``) and are decoded by ``QImageReader`` in a ``QThreadPool`` worker, never on the UI
thread (a photo takes tens of milliseconds to decode: a stall the UI benchmark would see). The
decoded ``QImage`` (safe to make outside the UI thread, unlike a ``QPixmap``) comes back through a
queued signal; thumbnails are kept (the latest ``KEEP``), whole images are handed to whoever asked
and not kept. Our own images, before the server has them, are decoded from their local bytes.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QObject, QRunnable, QSize, Qt, QThreadPool, Signal
from PySide6.QtGui import QImage, QImageReader

from console.ui.state import Connection, ConsoleState

THUMB_SIDE = 240  # the largest side of a thumbnail in a bubble, in pixels
KEEP = 300  # thumbnails kept in memory
MAX_SIDE = 2560  # the largest side decoded for the viewer (a screen; larger photos are scaled while decoding)


@dataclass(frozen=True)
class Decoded:
    sha256: str
    thumb: bool
    image: QImage  # null when the bytes could not be decoded
    thread: str  # the thread that decoded it (never the UI thread)


def decode(data: bytes, max_side: int) -> QImage:
    """Bytes to an image no larger than ``max_side`` a side (a null image if they are not one).

    ``QImageReader`` scales while decoding where the format allows it (JPEG), so a thumbnail of a
    large photo never holds the whole photo's pixels."""
    buffer = QBuffer()
    buffer.setData(QByteArray(data))
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    reader = QImageReader(buffer)
    reader.setAutoTransform(True)
    size = reader.size()
    if size.isValid() and max(size.width(), size.height()) > max_side:
        reader.setScaledSize(size.scaled(QSize(max_side, max_side), Qt.AspectRatioMode.KeepAspectRatio))
    image = reader.read()
    buffer.close()
    return image


def image_size(data: bytes) -> tuple[str, int, int] | None:
    """The format and size an image's header declares (nothing decoded), or None when it is not one."""
    buffer = QBuffer()
    buffer.setData(QByteArray(data))
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    reader = QImageReader(buffer)
    size = reader.size()
    fmt = bytes(reader.format().data()).decode("ascii", "replace").lower()
    buffer.close()
    if not size.isValid() or size.width() < 1 or size.height() < 1 or not fmt:
        return None
    return fmt, size.width(), size.height()


class _Signals(QObject):
    done = Signal(object)  # Decoded


class _Decode(QRunnable):
    def __init__(self, sha256: str, thumb: bool, data: bytes, signals: _Signals) -> None:
        super().__init__()
        self.sha256, self.thumb, self.data, self.signals = sha256, thumb, data, signals

    def run(self) -> None:
        image = decode(self.data, THUMB_SIDE if self.thumb else MAX_SIDE)
        self.signals.done.emit(Decoded(self.sha256, self.thumb, image, threading.current_thread().name))


class Thumbnails(QObject):
    """The cache of decoded thumbnails, and the way to a whole image for the viewer."""

    ready = Signal(str)  # sha256: a thumbnail is there to paint
    decoded = Signal(object)  # Decoded: every decode, thumbnails and whole images
    failed = Signal(str, bool, str)  # sha256, thumbnail?, why

    def __init__(self, state: ConsoleState, fetch: Callable[[str, str, bool], None],
                 parent: QObject | None = None, pool: QThreadPool | None = None) -> None:
        super().__init__(parent)
        self._fetch = fetch
        self._pool = pool if pool is not None else QThreadPool.globalInstance()
        self._cache: OrderedDict[str, QImage] = OrderedDict()
        self._asked: set[tuple[str, bool]] = set()
        self.broken: set[str] = set()  # thumbnails that came but could not be decoded: not asked again
        # No parent: the decodes under way hold it, so it outlives a window deleted meanwhile (the
        # console deletes its window at exit; a decode then finishing emitted on a deleted object).
        # The connection goes with this receiver; a late result reaches nobody.
        self._signals = _Signals()
        self._signals.done.connect(self._on_decode_done)  # queued: emitted from a worker thread
        state.image_loaded.connect(self._on_state_image_loaded)
        state.image_failed.connect(self._on_state_image_failed)
        state.connection_changed.connect(self._on_state_connection_changed)

    def thumbnail(self, sha256: str) -> QImage | None:
        image = self._cache.get(sha256)
        if image is not None:
            self._cache.move_to_end(sha256)
        return image

    def request(self, conversation: str, sha256: str, *, thumb: bool = True, local: bytes | None = None) -> None:
        """Make sure it comes (``ready`` for a thumbnail, ``decoded`` for a whole image): from
        ``local`` bytes (an image of ours not yet stored) or from the server, once."""
        if (thumb and (sha256 in self._cache or sha256 in self.broken)) or (sha256, thumb) in self._asked:
            return
        self._asked.add((sha256, thumb))
        if local is not None:
            self._start(sha256, thumb, local)
        else:
            self._fetch(conversation, sha256, thumb)

    def _start(self, sha256: str, thumb: bool, data: bytes) -> None:
        self._pool.start(_Decode(sha256, thumb, data, self._signals))

    def _on_state_image_loaded(self, sha256: str, thumb: bool, data: bytes) -> None:
        if (sha256, thumb) in self._asked:
            self._start(sha256, thumb, data)

    def _on_state_image_failed(self, sha256: str, thumb: bool, reason: str) -> None:
        self._asked.discard((sha256, thumb))
        if thumb:
            self.broken.add(sha256)  # not asked again until the connection comes back
            self.ready.emit(sha256)
        self.failed.emit(sha256, thumb, reason)

    def _on_state_connection_changed(self, connection: str) -> None:
        if connection == Connection.ONLINE and self.broken:
            self.broken.clear()  # what failed offline may come now
            self.ready.emit("")

    def _on_decode_done(self, result: Decoded) -> None:
        self._asked.discard((result.sha256, result.thumb))
        if result.thumb and result.image.isNull():
            self.broken.add(result.sha256)
            self.ready.emit(result.sha256)  # painted as broken
        elif result.thumb:
            self._cache[result.sha256] = result.image
            while len(self._cache) > KEEP:
                self._cache.popitem(last=False)
            self.ready.emit(result.sha256)
        self.decoded.emit(result)
