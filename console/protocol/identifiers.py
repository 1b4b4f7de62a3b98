"""What an id may contain, and how a display name is made safe to show (issue 10, point 8).

Two ids must not look alike on screen: a bidi override (U+202E), a zero-width space (U+200B), a
NUL or a BOM (U+FEFF) makes ``b1001`` and ``b1001`` different ids that read the same. So an id
holds printable characters only: no control (Cc), format (Cf: bidi controls, zero-width
characters, the BOM, the soft hyphen), surrogate (Cs) or separator character (Zl, Zp, Zs) other
than the ASCII space. Display names are not refused (a platform nickname is what it is) but are
shown with those characters removed.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["HIDDEN_CATEGORIES", "HIDDEN_RANGES", "ID_PATTERN", "ID_RULE", "is_clean_id", "visible_name"]

HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp", "Zs"})
"""Unicode categories an id may not hold (the ASCII space excepted)."""

HIDDEN_RANGES: tuple[tuple[int, int], ...] = (
    (0x0000, 0x001F), (0x007F, 0x00A0), (0x00AD, 0x00AD), (0x0600, 0x0605), (0x061C, 0x061C), (0x06DD, 0x06DD),
    (0x070F, 0x070F), (0x0890, 0x0891), (0x08E2, 0x08E2), (0x1680, 0x1680), (0x180E, 0x180E), (0x2000, 0x200F),
    (0x2028, 0x202F), (0x205F, 0x2064), (0x2066, 0x206F), (0x3000, 0x3000), (0xD800, 0xDFFF), (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB), (0x110BD, 0x110BD), (0x110CD, 0x110CD), (0x13430, 0x13438), (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A), (0xE0001, 0xE0001), (0xE0020, 0xE007F),
)
"""The code points of ``HIDDEN_CATEGORIES`` (Python 3.11's Unicode 14), written out so that
importing costs nothing; a test recomputes them from ``unicodedata``."""


def _char_class(ranges: tuple[tuple[int, int], ...]) -> str:
    def esc(code: int) -> str:
        return f"\\U{code:08x}"

    return "".join(esc(a) if a == b else f"{esc(a)}-{esc(b)}" for a, b in ranges)


_CLASS = _char_class(HIDDEN_RANGES)
ID_PATTERN = f"^[^{_CLASS}]*$"
"""A regular expression an id matches: no hidden character anywhere (``msgspec.Meta(pattern=...)``)."""
ID_RULE = "ids are printable: no control, bidi, zero-width, NUL, BOM or separator characters"
_HIDDEN = re.compile(f"[{_CLASS}]")


def is_clean_id(text: str) -> bool:
    return _HIDDEN.search(text) is None


def visible_name(name: str) -> str:
    """``name`` without the characters an id may not hold (spaces of other kinds become spaces)."""
    return _HIDDEN.sub(lambda m: " " if unicodedata.category(m.group()) == "Zs" else "", name)
