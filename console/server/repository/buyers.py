"""The SQL of the buyer directory: the ``buyers`` table (id, name, kind). Who may set a kind, the
names' cleaning and the cache are ``console.server.directory``'s."""

from __future__ import annotations

from console.reception.model import Kind
from console.server.store import Store


def buyer(store: Store, buyer_id: str) -> tuple[str, str, Kind] | None:
    """(id, name, kind) of a buyer-side account, if known."""
    row = store.one("SELECT id, name, kind FROM buyers WHERE id = ?", (buyer_id,))
    return None if row is None else (str(row["id"]), str(row["name"]), Kind(row["kind"]))


def add_buyer(store: Store, buyer_id: str, name: str, kind: Kind, at: float) -> None:
    """A new buyer-side account."""
    store.execute("INSERT INTO buyers (id, name, kind, created_at) VALUES (?, ?, ?, ?)", (buyer_id, name, kind.value, at))


def rename_buyer(store: Store, buyer_id: str, name: str) -> None:
    """A known buyer's new display name."""
    store.execute("UPDATE buyers SET name = ? WHERE id = ?", (name, buyer_id))


def put_buyer(store: Store, buyer_id: str, name: str, kind: Kind, at: float) -> None:
    """Add the account, or set a known one's kind and name."""
    store.execute(
        "INSERT INTO buyers (id, name, kind, created_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT(id) DO UPDATE SET kind = excluded.kind, name = excluded.name",
        (buyer_id, name, kind.value, at),
    )


def buyer_kind(store: Store, buyer_id: str) -> str | None:
    """The kind of a buyer-side account, if known."""
    row = store.one("SELECT kind FROM buyers WHERE id = ?", (buyer_id,))
    return None if row is None else str(row["kind"])
