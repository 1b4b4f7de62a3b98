"""Text the console shows for times, waits and KPI tiles (CONSOLE.md §1, §3).

Pure string functions, so the Qt delegates only paint and the wording is tested here. Two
languages: ``zh`` (the default, the console's own) and ``en``.
"""

from __future__ import annotations

import math
import unicodedata
from datetime import datetime, tzinfo
from typing import Literal

Lang = Literal["zh", "en"]

RATIO_TILES: frozenset[str] = frozenset({"conversion", "satisfaction_yesterday", "response_3min_yesterday"})
DURATION_TILES: frozenset[str] = frozenset({"avg_response_yesterday"})
NO_DATA = "-"



def time_label(at: float, now: float, tz: tzinfo) -> str:
    """A row's time: ``HH:MM`` for today, ``MM-DD`` earlier this year, else ``YYYY-MM-DD``."""
    when = datetime.fromtimestamp(at, tz)
    today = datetime.fromtimestamp(now, tz)
    if when.date() == today.date():
        return when.strftime("%H:%M")
    if when.year == today.year:
        return when.strftime("%m-%d")
    return when.strftime("%Y-%m-%d")


def wait_label(seconds: float, lang: Lang = "zh") -> str:
    """A waiting time, coarse: ``45秒``, ``3分``, ``1时5分`` (``45s``, ``3m``, ``1h5m``)."""
    s = max(0, int(seconds)) if math.isfinite(seconds) else 0
    sec, minute, hour = ("秒", "分", "时") if lang == "zh" else ("s", "m", "h")
    if s < 60:
        return f"{s}{sec}"
    if s < 3600:
        return f"{s // 60}{minute}"
    h, m = divmod(s // 60, 60)
    return f"{h}{hour}{m}{minute}" if m else f"{h}{hour}"


def duration_label(seconds: float, lang: Lang = "zh") -> str:
    """A response time, to the second: ``45秒``, ``1分05秒`` (``45s``, ``1m05s``)."""
    s = max(0, round(seconds)) if math.isfinite(seconds) else 0
    sec, minute = ("秒", "分") if lang == "zh" else ("s", "m")
    if s < 60:
        return f"{s}{sec}"
    return f"{s // 60}{minute}{s % 60:02d}{sec}"


def tile_text(name: str, value: float | None, lang: Lang = "zh") -> str:
    """A tile's value: ``-`` without data, ``12.5%`` for ratios, ``1分05秒`` for the response time."""
    if value is None:
        return NO_DATA
    if name in RATIO_TILES:
        return f"{value * 100:.1f}%"
    if name in DURATION_TILES:
        return duration_label(value, lang)
    return str(int(value))


def initials(name: str) -> str:
    """What the avatar shows without a picture: the first CJK character, or up to two Latin
    initials in capitals (``Li Lei`` → ``LL``), or ``?`` for an empty name."""
    words = name.split()
    if not words:
        return "?"
    first = words[0][0]
    if _is_wide(first) or not first.isalpha():
        return first
    letters = [w[0] for w in words[:2] if w[0].isalpha() and not _is_wide(w[0])]
    return "".join(letters).upper() or first


def _is_wide(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in ("W", "F")
