"""The SQL of the quick phrases (the ``phrases`` table): a set is one owner's (an agent id, or the
team's). Who may change which set, and the limits, are ``console.server.phrases``'s."""

from __future__ import annotations

from collections.abc import Sequence

from console.server.repository.reception import Record
from console.server.store import Store


class PhraseRepository:
    """Statements of the phrases table on one store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def listed(self, first: str, second: str) -> list[Record]:
        """(id, owner, grp, title, text, pinned) of the two owners' phrases, ``first``'s set first, each in its order."""
        return self.store.all(
            "SELECT id, owner, grp, title, text, pinned FROM phrases WHERE owner IN (?, ?)"
            " ORDER BY owner != ?, position, id", (first, second, first))

    def count(self, owner: str) -> int:
        """How many phrases the owner's set holds."""
        row = self.store.one("SELECT count(*) AS n FROM phrases WHERE owner = ?", (owner,))
        return int(row["n"]) if row is not None else 0

    def owner(self, phrase: int) -> str | None:
        """Whose set the phrase is in, if it exists."""
        row = self.store.one("SELECT owner FROM phrases WHERE id = ?", (phrase,))
        return None if row is None else str(row["owner"])

    def ids(self, owner: str) -> list[int]:
        """The ids of the owner's phrases."""
        return [int(r[0]) for r in self.store.tuples("SELECT id FROM phrases WHERE owner = ?", (owner,))]

    def add(self, owner: str, group: str, title: str, text: str, pinned: bool, by: str, at: float) -> None:
        """A phrase at the end of the owner's set."""
        self.store.execute(
            "INSERT INTO phrases (owner, grp, title, text, pinned, position, updated_by, updated_at)"
            " VALUES (?, ?, ?, ?, ?, (SELECT coalesce(max(position), 0) + 1 FROM phrases WHERE owner = ?), ?, ?)",
            (owner, group, title, text, int(pinned), owner, by, at))

    def edit(self, phrase: int, group: str, title: str, text: str, pinned: bool, by: str, at: float) -> None:
        """A phrase's new group, title, text and pin."""
        self.store.execute("UPDATE phrases SET grp = ?, title = ?, text = ?, pinned = ?, updated_by = ?,"
                           " updated_at = ? WHERE id = ?",
                           (group, title, text, int(pinned), by, at, phrase))

    def pin(self, phrase: int, pinned: bool, by: str, at: float) -> None:
        """Pin or unpin a phrase."""
        self.store.execute("UPDATE phrases SET pinned = ?, updated_by = ?, updated_at = ? WHERE id = ?",
                           (int(pinned), by, at, phrase))

    def delete(self, phrase: int) -> None:
        """Remove a phrase."""
        self.store.execute("DELETE FROM phrases WHERE id = ?", (phrase,))

    def reorder(self, ids: Sequence[int]) -> None:
        """Give the phrases ``ids`` the positions 1, 2, ... in that order."""
        self.store.executemany("UPDATE phrases SET position = ? WHERE id = ?",
                               [(place, phrase) for place, phrase in enumerate(ids, 1)])
