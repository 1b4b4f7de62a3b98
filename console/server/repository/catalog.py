"""The SQL of the shop's catalogue (issue 13): the ``catalog`` table. Reading the file, and the
pinyin initials, are ``console.reception``'s; importing is ``console.server.catalog``'s."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from console.reception.catalog import Product
from console.reception.phrases import initials
from console.server.store import Store

MAX_PICKS = 50
"""Products one catalogue search answers at most."""


def _product(r: sqlite3.Row) -> Product:
    return Product(id=str(r["id"]), title=str(r["title"]), price=int(r["price"]), image=str(r["image"]),
                   url=str(r["url"]))


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class Catalog:
    """The ``catalog`` table of one store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def put(self, products: Sequence[Product], at: float) -> tuple[int, int]:
        """Add or update every product (a re-import updates the rows it names); (added, updated)."""
        ids = [p.id for p in products]
        known = 0
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            row = self.store.one(f"SELECT COUNT(*) AS n FROM catalog WHERE id IN ({','.join('?' * len(chunk))})",
                                 chunk)
            known += int(row["n"]) if row is not None else 0
        self.store.executemany(
            "INSERT INTO catalog (id, title, price, image, url, initials, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT(id) DO UPDATE SET title = excluded.title, price = excluded.price, image = excluded.image,"
            " url = excluded.url, initials = excluded.initials, updated_at = excluded.updated_at",
            [(p.id, p.title, p.price, p.image, p.url, initials(p.title), at) for p in products])
        return len(products) - known, known

    def count(self) -> int:
        """How many products the catalogue holds."""
        row = self.store.one("SELECT COUNT(*) AS n FROM catalog")
        return int(row["n"]) if row is not None else 0

    def get(self, product: str) -> Product | None:
        """The product with that id, if the catalogue has it."""
        r = self.store.one("SELECT * FROM catalog WHERE id = ?", (product,))
        return None if r is None else _product(r)

    def search(self, query: str, limit: int = MAX_PICKS) -> list[Product]:
        """Products whose title or id holds ``query``, or whose title's pinyin initials do; titles
        that start with it first. An empty query lists the catalogue from its first id."""
        q = query.strip()
        if not q:
            rows = self.store.all("SELECT * FROM catalog ORDER BY id LIMIT ?", (limit,))
            return [_product(r) for r in rows]
        like = _like(q)
        rows = self.store.all(
            "SELECT * FROM catalog WHERE title LIKE ? ESCAPE '\\' OR id LIKE ? ESCAPE '\\' OR initials LIKE ? ESCAPE '\\'"
            " ORDER BY (title LIKE ? ESCAPE '\\') DESC, (initials LIKE ? ESCAPE '\\') DESC, length(title), id LIMIT ?",
            (like, like, _like(q.lower()), _like(q)[1:], _like(q.lower())[1:], limit))
        return [_product(r) for r in rows]

    def titles_matching(self, query: str, limit: int = 200) -> dict[str, str]:
        """Products whose title holds ``query``, id -> title (search by product title, issue 13)."""
        rows = self.store.all("SELECT id, title FROM catalog WHERE title LIKE ? ESCAPE '\\' LIMIT ?",
                              (_like(query), limit))
        return {str(r["id"]): str(r["title"]) for r in rows}
