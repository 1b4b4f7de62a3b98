"""The SQL of the buyer panel (CONSOLE.md §6, issue 12): order details, shared notes and tags,
past sessions' bounds and messages, and the latest decision. What the panel shows, and the limits
it keeps, are ``console.server.panel``'s. Every write joins the current request's savepoint."""

from __future__ import annotations

import sqlite3

from console.protocol.messages import MAX_NOTES, Message
from console.server.repository.reception import message_of
from console.server.store import Store


class PanelRepository:
    """Statements of the buyer panel on one store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def save_order_details(self, order: str, items: str | None, amount: int | None) -> None:
        """What the buyer side said an order holds (items as JSON); None keeps what was said before."""
        self.store.execute(
            "INSERT INTO order_details (order_id, items, amount) VALUES (?, ?, ?) ON CONFLICT(order_id) DO UPDATE"
            " SET items = COALESCE(excluded.items, order_details.items), amount = COALESCE(excluded.amount, order_details.amount)",
            (order, items, amount))

    def orders(self, buyer: str, limit: int) -> list[sqlite3.Row]:
        """The buyer's latest orders (id, state, updated_at, items, amount, created_at), newest first."""
        return self.store.all(
            "SELECT o.id, o.state, o.updated_at, d.items, d.amount,"
            " (SELECT MIN(at) FROM order_events e WHERE e.order_id = o.id AND e.buyer = o.buyer) AS created_at"
            " FROM orders o LEFT JOIN order_details d ON d.order_id = o.id"
            " WHERE o.buyer = ? ORDER BY o.updated_at DESC, o.id LIMIT ?", (buyer, limit))

    def order_for_card(self, order: str) -> sqlite3.Row | None:
        """An order's buyer, state, items and amount (a card shows them)."""
        return self.store.one("SELECT o.buyer, o.state, d.items, d.amount FROM orders o"
                              " LEFT JOIN order_details d ON d.order_id = o.id WHERE o.id = ?", (order,))

    def add_note(self, buyer: str, text: str, by: str, at: float) -> int:
        """The new note's id; the oldest go once a buyer has more than MAX_NOTES."""
        cursor = self.store.execute("INSERT INTO buyer_notes (buyer, text, by, at) VALUES (?, ?, ?, ?)",
                                    (buyer, text, by, at))
        self.store.execute("DELETE FROM buyer_notes WHERE buyer = ? AND id NOT IN"
                           " (SELECT id FROM buyer_notes WHERE buyer = ? ORDER BY id DESC LIMIT ?)",
                           (buyer, buyer, MAX_NOTES))
        return int(cursor.lastrowid or 0)

    def remove_note(self, buyer: str, note: int) -> bool:
        """Whether the buyer had that note."""
        return self.store.execute("DELETE FROM buyer_notes WHERE buyer = ? AND id = ?", (buyer, note)).rowcount > 0

    def notes(self, buyer: str) -> list[sqlite3.Row]:
        """The buyer's notes (id, text, by, at), oldest first."""
        return self.store.all("SELECT * FROM buyer_notes WHERE buyer = ? ORDER BY id", (buyer,))

    def has_tag(self, buyer: str, tag: str) -> bool:
        """Whether the buyer has the tag."""
        return self.store.one("SELECT 1 FROM buyer_tags WHERE buyer = ? AND tag = ?", (buyer, tag)) is not None

    def tag_count(self, buyer: str) -> int:
        """How many tags the buyer has."""
        count = self.store.one("SELECT COUNT(*) AS n FROM buyer_tags WHERE buyer = ?", (buyer,))
        return 0 if count is None else int(count["n"])

    def add_tag(self, buyer: str, tag: str, by: str, at: float) -> None:
        """Tag the buyer."""
        self.store.execute("INSERT INTO buyer_tags (buyer, tag, by, at) VALUES (?, ?, ?, ?)", (buyer, tag, by, at))

    def remove_tag(self, buyer: str, tag: str) -> bool:
        """Whether the buyer had the tag."""
        return self.store.execute("DELETE FROM buyer_tags WHERE buyer = ? AND tag = ?", (buyer, tag)).rowcount > 0

    def tags(self, buyer: str) -> list[str]:
        """The buyer's tags, oldest first."""
        return [str(r["tag"]) for r in self.store.all("SELECT tag FROM buyer_tags WHERE buyer = ? ORDER BY at, tag",
                                                      (buyer,))]

    def receptions(self, buyer: str, limit: int) -> list[sqlite3.Row]:
        """The buyer's latest receptions (id, agent, at), newest first."""
        return self.store.all("SELECT id, agent, at FROM receptions WHERE buyer = ? ORDER BY id DESC LIMIT ?",
                              (buyer, limit))

    def close_times(self, buyer: str, since: float) -> list[float]:
        """When the buyer's sessions closed, at or after ``since``, oldest first."""
        return sorted(float(r[0]) for r in self.store.tuples(
            "SELECT at FROM decisions WHERE buyer = ? AND event = 'closed' AND at >= ?", (buyer, since)))

    def message_times(self, buyer: str, since: float) -> list[float]:
        """When each message of the conversation at or after ``since`` was sent, oldest first: one
        read of the conversation for every session the panel counts (``PanelFacts.sessions``), where a
        count per session read it once each (issue 9: the 20 sessions of a 20,000-message conversation
        took the loop 35 ms, now 5.6)."""
        return sorted(float(r[0]) for r in self.store.tuples(
            "SELECT at FROM messages WHERE conversation = ? AND at >= ?", (buyer, since)))

    def messages_between(self, buyer: str, started: float, ended: float | None, limit: int) -> list[Message]:
        """The first ``limit`` messages between ``started`` and ``ended`` (None: now), oldest first."""
        sql = "SELECT * FROM messages WHERE conversation = ? AND at >= ?"
        params: tuple[object, ...] = (buyer, started)
        if ended is not None:
            sql += " AND at <= ?"
            params += (ended,)
        return [message_of(r) for r in self.store.all(sql + " ORDER BY id LIMIT ?", params + (limit,))]

    def latest_decision(self, buyer: str, skipping: str) -> sqlite3.Row | None:
        """The buyer's latest decision that is not a close and whose reason is not ``skipping``."""
        return self.store.one("SELECT * FROM decisions WHERE buyer = ? AND event != 'closed' AND why != ?"
                              " ORDER BY id DESC LIMIT 1", (buyer, skipping))
