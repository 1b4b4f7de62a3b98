"""The image viewer (issue 13): a click on an image in the conversation shows it whole, scaled to
the window, decoded off the UI thread (``Thumbnails``); Esc closes it."""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QColor, QGuiApplication, QImage, QPainter, QPaintEvent
from PySide6.QtWidgets import QDialog, QLabel, QVBoxLayout, QWidget

from console.reception.model import Message
from console.ui.thumbnails import Decoded, Thumbnails


class Picture(QWidget):
    """Paints one image as large as fits, keeping its proportions, centred on a dark ground."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.image: QImage | None = None
        self.setMinimumSize(240, 180)

    def set_image(self, image: QImage) -> None:
        self.image = image
        self.update()

    def placed(self) -> QRect:
        """Where the image is painted (empty when there is none yet)."""
        if self.image is None or self.image.isNull():
            return QRect()
        size = self.image.size()
        if size.width() > self.width() or size.height() > self.height():
            size = size.scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio)
        return QRect((self.width() - size.width()) // 2, (self.height() - size.height()) // 2,
                     size.width(), size.height())

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#1f2329"))
        if self.image is not None and not self.image.isNull():
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            painter.drawImage(self.placed(), self.image)
        painter.end()


class ImageViewer(QDialog):
    """Shows one image message; the thumbnail at once when it is there, the whole image when decoded."""

    def __init__(self, thumbnails: Thumbnails, message: Message, local: bytes | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        assert message.image is not None
        self.setObjectName("imageViewer")
        self.setWindowTitle(self.tr("查看图片"))
        self.sha256 = message.image.sha256
        self._size = (message.image.width, message.image.height)
        self.picture = Picture(self)
        self.status = QLabel(self.tr("正在载入原图…（Esc 关闭）"), self)
        self.status.setObjectName("imageViewerStatus")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 6)
        layout.addWidget(self.picture, 1)
        layout.addWidget(self.status, 0, Qt.AlignmentFlag.AlignHCenter)
        thumb = thumbnails.thumbnail(self.sha256)
        if thumb is not None:
            self.picture.set_image(thumb)
        self._thumbnails = thumbnails
        thumbnails.decoded.connect(self._on_thumbnails_decoded)
        thumbnails.failed.connect(self._on_thumbnails_failed)
        thumbnails.request(message.conversation, self.sha256, thumb=False, local=local)
        screen = QGuiApplication.primaryScreen()
        room = screen.availableGeometry().size() * 0.8 if screen is not None else QSize(1000, 700)
        want = QSize(message.image.width, message.image.height + 30)
        self.resize(want.boundedTo(room).expandedTo(QSize(360, 280)))

    def _on_thumbnails_decoded(self, result: Decoded) -> None:
        if result.sha256 != self.sha256 or result.thumb:
            return
        if result.image.isNull():
            self.status.setText(self.tr("图片无法显示"))
            return
        self.picture.set_image(result.image)
        self.status.setText(self.tr("%1 × %2（Esc 关闭）").replace("%1", str(self._size[0]))
                            .replace("%2", str(self._size[1])))

    def _on_thumbnails_failed(self, sha256: str, thumb: bool, reason: str) -> None:
        if sha256 == self.sha256 and not thumb:
            self.status.setText(self.tr("原图载入失败：%1").replace("%1", reason))

    def done(self, result: int) -> None:
        self._thumbnails.decoded.disconnect(self._on_thumbnails_decoded)
        self._thumbnails.failed.disconnect(self._on_thumbnails_failed)
        super().done(result)
