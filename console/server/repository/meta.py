"""The SQL of the ``meta`` table (issue 9): the shop's small named values (the engine log's
pruning mark, a shop's added policy and FAQ, …), read and written through ``Store.get_meta`` and
``Store.set_meta``."""

from __future__ import annotations

from typing import Any, Protocol


class _Store(Protocol):
    def one(self, sql: str, params: Any = ...) -> Any: ...
    def execute(self, sql: str, params: Any = ...) -> Any: ...


def get(store: _Store, key: str) -> str | None:
    """The value of ``key`` (None: never set)."""
    row = store.one("SELECT value FROM meta WHERE key = ?", (key,))
    return None if row is None else str(row[0])


def put(store: _Store, key: str, value: str) -> None:
    """Set ``key`` to ``value`` (in the store's batch)."""
    store.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (key, value),
    )
