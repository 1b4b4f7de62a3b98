"""Display texts: row times, waits, tiles, initials."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from console.reception.format import duration_label, initials, tile_text, time_label, wait_label
from console.reception.model import KPI_TILES

SHANGHAI = timezone(timedelta(hours=8))
NOW = datetime(2026, 3, 15, 10, 30, tzinfo=SHANGHAI).timestamp()


def _at(year: int, month: int, day: int, hour: int, minute: int) -> float:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI).timestamp()


def test_time_label() -> None:
    assert time_label(_at(2026, 3, 15, 0, 5), NOW, SHANGHAI) == "00:05"
    assert time_label(_at(2026, 3, 14, 23, 59), NOW, SHANGHAI) == "03-14"
    assert time_label(_at(2025, 12, 31, 23, 0), NOW, SHANGHAI) == "2025-12-31"


def test_time_label_uses_the_shop_timezone() -> None:
    at = _at(2026, 3, 15, 7, 0)  # 23:00 the day before in UTC
    assert time_label(at, NOW, SHANGHAI) == "07:00"
    assert time_label(at, NOW, UTC) == "03-14"


@pytest.mark.parametrize(
    ("seconds", "zh", "en"),
    [
        (0, "0秒", "0s"),
        (45, "45秒", "45s"),
        (59.9, "59秒", "59s"),
        (60, "1分", "1m"),
        (3 * 60 + 59, "3分", "3m"),
        (3599, "59分", "59m"),
        (3600, "1时", "1h"),
        (3600 + 5 * 60 + 30, "1时5分", "1h5m"),
        (-5, "0秒", "0s"),
        (float("nan"), "0秒", "0s"),
    ],
)
def test_wait_label(seconds: float, zh: str, en: str) -> None:
    assert wait_label(seconds) == zh
    assert wait_label(seconds, "en") == en


def test_duration_label() -> None:
    assert duration_label(42.4) == "42秒"
    assert duration_label(65) == "1分05秒"
    assert duration_label(600.6, "en") == "10m01s"


def test_tile_text() -> None:
    assert all(tile_text(name, None) == "-" for name in KPI_TILES)
    assert tile_text("received_today", 12) == "12"
    assert tile_text("conversion", 1 / 8) == "12.5%"
    assert tile_text("satisfaction_yesterday", 1.0) == "100.0%"
    assert tile_text("response_3min_yesterday", 0.0) == "0.0%"
    assert tile_text("avg_response_yesterday", 65.2) == "1分05秒"
    assert tile_text("avg_response_yesterday", 65.2, "en") == "1m05s"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("小美", "小"),
        ("Li Lei", "LL"),
        ("alice", "A"),
        ("  ", "?"),
        ("", "?"),
        ("7-11 shop", "7"),
        ("Anna 小", "A"),
    ],
)
def test_initials(name: str, expected: str) -> None:
    assert initials(name) == expected
