"""Case in every script for the LIKE scans of search (issue 13, session 9).

SQLite's LIKE folds ASCII case only, while FTS5's trigram index (message text) and the in-memory
rows (``str.casefold`` of a buyer's name) fold every script's. A SQLite connection that searches
gets ``FOLD`` (``register``); a scan whose pattern holds a letter LIKE cannot fold then lowers
the column through it and matches the lowered pattern (``folded``). PostgreSQL's ILIKE (the
translation of LIKE, pgstore.py) folds by the database's locale already.
"""

from __future__ import annotations

import sqlite3

FOLD = "fold_case"
"""The SQL function that lowers text as Python's ``str.lower`` does: every script's case, as
FTS5's trigram index folds it (its table is older than Python's: a few recent scripts,
Cherokee for one, aside)."""


def register(db: sqlite3.Connection) -> None:
    """Give a SQLite connection ``FOLD``."""
    db.create_function(FOLD, 1, _fold, deterministic=True)


def _fold(text: str | None) -> str | None:
    return None if text is None else str(text).lower()


def _needs_fold(text: str) -> bool:
    """Whether ``text`` has a letter with a case outside ASCII (``É``, ``Ж``): SQLite's LIKE would
    match its case exactly. ``FOLD`` costs about 4x LIKE alone (23 against 5.5 ms over 50,000
    messages), so a pattern in Chinese or ASCII keeps LIKE's own folding."""
    return any(ord(ch) > 127 and ch.lower() != ch.upper() for ch in text)


def wanted(dialect: str, text: str) -> bool:
    """Whether a LIKE for ``text`` must go through ``FOLD``: on SQLite, when it ``_needs_fold``
    (PostgreSQL's ILIKE folds by the database's locale)."""
    return dialect == "sqlite" and _needs_fold(text)


def folded(dialect: str, column: str, pattern: str) -> tuple[str, str]:
    """``column`` and ``pattern`` for ``column LIKE pattern`` ignoring case in every script: the
    column through ``FOLD`` and the pattern lowered when ``wanted``; else both as they are."""
    if wanted(dialect, pattern):
        return f"{FOLD}({column})", pattern.lower()
    return column, pattern
