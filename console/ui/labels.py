"""The shared texts of ``console.reception.format`` in the console's language and timezone."""

from __future__ import annotations

from datetime import datetime, tzinfo

from PySide6.QtCore import QCoreApplication

from console.reception import format as fmt
from console.reception.model import KpiTiles


def language() -> fmt.Lang:
    """"en" when the English translation is installed (it translates this marker), else "zh"."""
    return "en" if QCoreApplication.translate("Labels", "zh") == "en" else "zh"


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
