"""Durations as policies and scenarios write them: ``"90s"``, ``"1d2h"``, ``"25h"``, or seconds."""

from __future__ import annotations

import re

_UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
_PATTERN = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


def parse_duration(value: object) -> float:
    """Seconds for a duration string of whole numbers with units ``d h m s``, or a number.

    Raises ``ValueError`` with a readable message for anything else (negative numbers,
    unknown units, empty strings, booleans).
    """
    if isinstance(value, bool):
        raise ValueError(f"bad duration {value!r}: expected a string like '90s' or '1d2h', or seconds")
    if isinstance(value, int | float):
        if value < 0 or value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"bad duration {value!r}: seconds must be a finite number >= 0")
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        match = _PATTERN.match(text)
        if text and match and any(match.groups()):
            return float(sum(int(n) * _UNITS[u] for n, u in zip(match.groups(), "dhms", strict=True) if n))
    raise ValueError(f"bad duration {value!r}: expected a string like '90s', '25h' or '1d2h', or seconds")


def format_duration(seconds: float) -> str:
    """The shortest ``1d2h3m4s`` form of a whole number of seconds (``0s`` for zero)."""
    rest = int(round(seconds))
    parts = []
    for unit, size in _UNITS.items():
        count, rest = divmod(rest, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"
