"""Draws Fenliu's desktop icon: a blue rounded square with 分流 in white (as console/ui/icons.py, which
draws 分 alone for the window at run time).

    QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/make_icon.py [OUTDIR]

Writes ``fenliu.png`` (256x256, for the Linux .desktop entry and the hicolor theme) and
``fenliu.ico`` (16-256 px, for the Windows build) into OUTDIR (default: ``resources/icons``).
The .ico holds one PNG per size (the Vista+ ICO form, which Windows Explorer, PyInstaller and
Inno Setup all read); Qt's own ICO writer stores only one image, so the container is written here.
Needs a CJK font (``fonts-noto-cjk``, which ``scripts/bootstrap.sh`` installs); without one the
characters would come out as boxes, so it stops instead.
"""

from __future__ import annotations

import os
import struct
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRect, QRectF, Qt  # noqa: E402
from PySide6.QtGui import QColor, QFont, QFontDatabase, QFontMetrics, QGuiApplication, QImage, QPainter  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
BLUE = "#2f7ae5"  # the window icon's colour (console/ui/icons.py)
CJK_FAMILIES = ("Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", "WenQuanYi Micro Hei")


def cjk_family() -> str:
    families = set(QFontDatabase.families())
    for family in CJK_FAMILIES:
        if family in families:
            return family
    raise SystemExit(f"make_icon: no CJK font found (tried {', '.join(CJK_FAMILIES)}); install fonts-noto-cjk")


def draw(size: int, family: str) -> QImage:
    """分流 on two lines above 48 px; below that the two characters would be unreadable, so 分 alone."""
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(BLUE))
    margin = size * 0.04 if size >= 48 else 0.0
    square = QRectF(margin, margin, size - 2 * margin, size - 2 * margin)
    painter.drawRoundedRect(square, square.width() * 0.22, square.width() * 0.22)
    font = QFont(family)
    font.setBold(True)
    painter.setPen(QColor("#ffffff"))
    if size >= 48:
        font.setPixelSize(int(size * 0.36))
        painter.setFont(font)
        metrics = QFontMetrics(font)
        line = metrics.height() * 0.92
        top = (size - 2 * line) / 2
        for i, char in enumerate("分流"):
            painter.drawText(QRectF(0, top + i * line, size, line), Qt.AlignmentFlag.AlignCenter, char)
    else:
        font.setPixelSize(int(size * 0.66))
        painter.setFont(font)
        painter.drawText(QRect(0, 0, size, size), Qt.AlignmentFlag.AlignCenter, "分")
    painter.end()
    return image


def png_bytes(image: QImage) -> bytes:
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):
        raise SystemExit("make_icon: Qt could not encode a PNG")
    buffer.close()
    return bytes(data.data())


def ico_bytes(pngs: dict[int, bytes]) -> bytes:
    """ICONDIR, one ICONDIRENTRY per size, then the PNG payloads (width/height 0 means 256)."""
    header = struct.pack("<HHH", 0, 1, len(pngs))
    entries = b""
    payload = b""
    offset = 6 + 16 * len(pngs)
    for size, png in sorted(pngs.items()):
        dim = 0 if size >= 256 else size
        entries += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(png), offset + len(payload))
        payload += png
    return header + entries + payload


def main(argv: list[str]) -> int:
    outdir = Path(argv[1]) if len(argv) > 1 else REPO / "resources" / "icons"
    outdir.mkdir(parents=True, exist_ok=True)
    app = QGuiApplication.instance() or QGuiApplication([])
    family = cjk_family()
    pngs = {size: png_bytes(draw(size, family)) for size in ICO_SIZES}
    (outdir / "fenliu.png").write_bytes(pngs[256])
    (outdir / "fenliu.ico").write_bytes(ico_bytes(pngs))
    print(f"make_icon: wrote {outdir / 'fenliu.png'} and {outdir / 'fenliu.ico'} ({family})")
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
