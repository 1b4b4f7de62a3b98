"""The shared texts of ``console.reception.format`` in the console's language and timezone."""

from __future__ import annotations

from datetime import datetime, tzinfo

from PySide6.QtCore import QCoreApplication

from console.reception import format as fmt
from console.reception.model import IMAGE_TEXT, KpiTiles


def language() -> fmt.Lang:
    """"en" when the English translation is installed (it translates this marker), else "zh"."""
    return "en" if QCoreApplication.translate("Labels", "zh") == "en" else "zh"


def preview_text(text: str) -> str:
    """A message's stored text as a row, a tooltip or an alert shows it: the markers stored in
    Chinese for an image and the cards (``[图片]``, ``[商品] 标题``, ``[订单] …``, ``[催付] …``, see
    ``console.protocol.cards.card_text``) in the console's language; the rest as it is. The stored
    text stays Chinese (search and the buyer's fallback read it)."""
    if text == IMAGE_TEXT:
        return QCoreApplication.translate("Labels", "[图片]")
    markers = {
        "[商品] ": QCoreApplication.translate("Labels", "[商品]"),
        "[订单] ": QCoreApplication.translate("Labels", "[订单]"),
        "[催付] ": QCoreApplication.translate("Labels", "[催付]"),
    }
    for marker, shown in markers.items():
        if text.startswith(marker):
            return f"{shown} {text[len(marker):]}"
    return text


def local_zone() -> tzinfo:
    zone = datetime.now().astimezone().tzinfo
    assert zone is not None
    return zone


def time_label(at: float, now: float) -> str:
    return fmt.time_label(at, now, local_zone())


def wait_label(seconds: float) -> str:
    return fmt.wait_label(seconds, language())


TIMER_SECONDS_UNTIL = 600.0  # a reply timer counts seconds for its first ten minutes, then minutes


def timer_label(seconds: float) -> str:
    """A pending buyer's wait as the reply timer shows it: ``45秒``, ``2分05秒``, then ``12分``."""
    if seconds < TIMER_SECONDS_UNTIL:
        return fmt.duration_label(int(max(0.0, seconds)), language())
    return wait_label(seconds)


def tile_text(name: str, tiles: KpiTiles) -> str:
    return fmt.tile_text(name, getattr(tiles, name), language())


def initials(name: str) -> str:
    return fmt.initials(name)
