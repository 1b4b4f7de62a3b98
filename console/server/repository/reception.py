"""The SQL of the reception path: rows, messages, decisions, receptions, waits, ratings and
orders (the other subjects have their modules beside this one).

Every write joins the current batch of the store (and the current request's savepoint, see
``Shop.atomic``); reads see the batch's own writes. No method here keeps state or decides
anything: ``Conversations`` and ``Shop`` do.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import msgspec

from console.protocol.cards import Card
from console.protocol.holders import agent_of
from console.reception.model import Author, Conversation, ImageRef, Kind, Message, MessageKind, Section
from console.reception.sections import section_of
from console.routing.events import Decision
from console.server.repository.fold import folded

if TYPE_CHECKING:  # store.py imports this package's schema: no import back at run time
    from console.server.store import Store


class ArriveAttrs(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """The attributes of the buyer's latest arrive (R7.5: re-routes use them)."""

    entry: str = "other"
    product: str | None = None
    question: str | None = None
    intent: str | None = None
    crowd: tuple[str, ...] = ()
    exclusive: str | None = None


Record = sqlite3.Row
"""A row as the repository returns it where no typed value fits (read by column name)."""

_attrs_encoder = msgspec.json.Encoder()
_attrs_decoder = msgspec.json.Decoder(ArriveAttrs)


@dataclass
class Row:
    buyer: str
    name: str
    kind: Kind
    holder: str | None = None  # agent:ID, bot, pool, queue:G; None when no session is open
    agent: str | None = None  # whose list shows it
    last_text: str = ""
    last_at: float = 0.0
    last_buyer: int | None = None  # message ids
    last_bot: int | None = None
    last_human: int | None = None
    waiting_since: float | None = None
    unread: int = 0
    cleared: bool = False
    arrive: ArriveAttrs | None = None

    @property
    def section(self) -> Section:
        """The list section the row shows in."""
        return section_of(self.kind, self.last_buyer, self.last_bot, self.last_human)

    @property
    def holder_agent(self) -> str | None:
        """The agent id holding the session, if an agent does."""
        return agent_of(self.holder)

    def wire(self) -> Conversation:
        """The row as the protocol sends it."""
        return Conversation(
            id=self.buyer,
            name=self.name,
            kind=self.kind,
            section=self.section,
            holder=self.holder,
            last_text=self.last_text,
            last_at=self.last_at,
            unread=self.unread,
            waiting_since=self.waiting_since,
            open=self.holder is not None,
            cleared=self.cleared,
        )


_SELECT = "SELECT c.*, b.name AS name, b.kind AS kind FROM conversations c JOIN buyers b ON b.id = c.buyer"


def _row(r: sqlite3.Row) -> Row:
    return Row(
        buyer=str(r["buyer"]),
        name=str(r["name"]),
        kind=Kind(r["kind"]),
        holder=r["holder"],
        agent=r["agent"],
        last_text=str(r["last_text"]),
        last_at=float(r["last_at"]),
        last_buyer=r["last_buyer"],
        last_bot=r["last_bot"],
        last_human=r["last_human"],
        waiting_since=r["waiting_since"],
        unread=int(r["unread"]),
        cleared=bool(r["cleared"]),
        arrive=_attrs_decoder.decode(r["arrive"]) if r["arrive"] else None,
    )


_image_decoder = msgspec.json.Decoder(ImageRef)
_card_decoder: msgspec.json.Decoder[Card] = msgspec.json.Decoder(Card)


def _message(r: sqlite3.Row) -> Message:
    kind = MessageKind(r["kind"])
    body = r["body"]
    return Message(
        id=int(r["id"]),
        conversation=str(r["conversation"]),
        author=Author(r["author"]),
        text=str(r["text"]),
        at=float(r["at"]),
        agent=r["agent"],
        client_id=r["client_id"],
        kind=kind,
        image=_image_decoder.decode(body) if kind is MessageKind.IMAGE else None,
        card=_card_decoder.decode(body) if kind is MessageKind.CARD else None,
    )


message_of = _message  # the one reader of a ``messages`` row, for the buyer panel's sessions


_SAVE_SAME_HOLDER = (
    "INSERT INTO conversations (buyer, holder, agent, last_text, last_at, last_buyer, last_bot, last_human,"
    " waiting_since, unread, cleared, arrive) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT(buyer) DO UPDATE SET"
    " last_text = excluded.last_text, last_at = excluded.last_at, last_buyer = excluded.last_buyer,"
    " last_bot = excluded.last_bot, last_human = excluded.last_human,"
    " waiting_since = excluded.waiting_since, unread = excluded.unread, cleared = excluded.cleared,"
    " arrive = excluded.arrive")
_SAVE = _SAVE_SAME_HOLDER.replace(" DO UPDATE SET", " DO UPDATE SET holder = excluded.holder, agent = excluded.agent,")


class Repository:
    """Statements of the reception path on one store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # -- rows -------------------------------------------------------------------------------------

    def open_rows(self) -> list[Row]:
        """Every row with a session open, as last saved (see ``open_tails``)."""
        return [_row(r) for r in self.store.all(_SELECT + " WHERE c.holder IS NOT NULL")]

    def open_tails(self) -> list[tuple[str, int, Author, str, float]]:
        """The messages of open rows written after the row's latest buyer, bot and human message
        (conversation, id, author, text, at; oldest first): a message to an open session leaves
        its row as it was on disk (issue 9), ``Conversations`` folds these in. One statement: the
        rows, then each one's messages by the index that starts with the conversation
        (messages_client; PostgreSQL's messages_conversation): CROSS JOIN keeps SQLite to that
        order (it scanned every message otherwise, 107 against 3.6 ms at 100,000 buyers); the
        system messages after the latest ids come again (``fold`` leaves the same)."""
        return [(str(c), int(i), Author(a), str(t), float(at)) for c, i, a, t, at in self.store.tuples(
            "SELECT m.conversation, m.id, m.author, m.text, m.at FROM conversations c CROSS JOIN messages m"
            " WHERE c.holder IS NOT NULL AND m.conversation = c.buyer AND m.id > IFNULL(c.last_buyer, 0)"
            " AND m.id > IFNULL(c.last_bot, 0) AND m.id > IFNULL(c.last_human, 0) ORDER BY m.id")]

    def row(self, buyer: str) -> Row | None:
        """The buyer's row, if it has one."""
        found = self.store.one(_SELECT + " WHERE c.buyer = ?", (buyer,))
        return None if found is None else _row(found)

    def rows_named(self, pattern: str, limit: int) -> list[Row]:
        """Closed rows whose buyer name matches a LIKE ``pattern`` (escaped with \\), newest first:
        a supervisor's search by name over the whole shop (the open rows are in memory, where their
        per-message columns are current: on disk they are as of the row's last save, issue 9);
        case ignored in every script (``fold.folded``), as the rows in memory are matched."""
        name, pattern = folded(self.store.dialect, "b.name", pattern)
        sql = _SELECT + f" WHERE c.holder IS NULL AND {name} LIKE ? ESCAPE '\\' ORDER BY c.last_at DESC LIMIT ?"
        return [_row(r) for r in self.store.all(sql, (pattern, limit))]

    def findable_named(self, agent: str, pattern: str, limit: int) -> list[Row]:
        """Closed rows ``agent`` may find (its own, or of buyers it ever received) whose buyer name
        matches a LIKE ``pattern`` (case as in ``rows_named``), newest first (open rows: memory)."""
        name, pattern = folded(self.store.dialect, "b.name", pattern)
        sql = _SELECT + (" WHERE c.buyer IN (SELECT buyer FROM conversations WHERE agent = ?"
                         " UNION SELECT buyer FROM receptions WHERE agent = ?)"  # by the two indexes, not a scan
                         f" AND c.holder IS NULL AND {name} LIKE ? ESCAPE '\\' ORDER BY c.last_at DESC LIMIT ?")
        return [_row(r) for r in self.store.all(sql, (agent, agent, pattern, limit))]

    def ids_of_agent(self, agent: str) -> list[str]:
        """The buyers of every row whose agent is ``agent`` (the conversations_agent index), ids only."""
        return [str(r[0]) for r in self.store.tuples("SELECT buyer FROM conversations WHERE agent = ?", (agent,))]

    def rows_from_products(self, products: list[str], agent: str | None, limit: int) -> list[Row]:
        """Closed rows whose latest arrive came from one of ``products``, newest first (open rows:
        memory): for ``agent``, its own and those of buyers it ever received; for None, the whole
        shop (search by product)."""
        if not products:
            return []
        sql = _SELECT + (" WHERE c.holder IS NULL"
                         " AND json_extract(CAST(c.arrive AS TEXT), '$.product') IN (SELECT value FROM json_each(?))")
        params: list[object] = [msgspec.json.encode(products).decode()]
        if agent is not None:
            sql += " AND (c.agent = ? OR c.buyer IN (SELECT buyer FROM receptions WHERE agent = ?))"
            params += [agent, agent]
        return [_row(r) for r in self.store.all(sql + " ORDER BY c.last_at DESC LIMIT ?", (*params, limit))]

    def held_by(self, agent: str) -> list[str]:
        """Every buyer ``agent`` ever received (a session with them), by the receptions_agent index."""
        return [str(r[0]) for r in self.store.tuples("SELECT DISTINCT buyer FROM receptions WHERE agent = ?", (agent,))]

    def has_held(self, agent: str, buyer: str) -> bool:
        """Whether ``agent`` ever received ``buyer``."""
        return self.store.one("SELECT 1 FROM receptions WHERE buyer = ? AND agent = ? LIMIT 1", (buyer, agent)) is not None

    def closed_rows(self, agent: str, *, cleared: bool) -> list[Row]:
        """An agent's conversations with no session (its history), by the agent index."""
        sql = _SELECT + " WHERE c.agent = ? AND c.holder IS NULL" + ("" if cleared else " AND c.cleared = 0")
        return [_row(r) for r in self.store.all(sql, (agent,))]

    def save_row(self, row: Row, *, holder_stored: bool = False) -> None:
        """Insert or update the row (one statement). ``holder_stored``: the caller knows the stored
        row, if any, has this ``holder`` and ``agent`` already; the update then leaves both out,
        so SQLite does not rewrite the row's ``conversations_agent`` entry (it rewrites an
        index entry whenever the UPDATE names one of its columns, changed or not: a WAL page per
        message, issue 9). A new row is inserted whole either way."""
        self.store.execute(_SAVE_SAME_HOLDER if holder_stored else _SAVE,
            (
                row.buyer, row.holder, row.agent, row.last_text, row.last_at, row.last_buyer, row.last_bot,
                row.last_human, row.waiting_since, row.unread, int(row.cleared),
                _attrs_encoder.encode(row.arrive) if row.arrive is not None else None,
            ),
        )

    # -- messages ---------------------------------------------------------------------------------

    def insert_message(self, buyer: str, author: Author, text: str, at: float, agent: str | None,
                       client_id: str | None, *, kind: MessageKind = MessageKind.TEXT,
                       body: ImageRef | Card | None = None) -> int | None:
        """The new message's id; None when this author already sent ``client_id`` in this
        conversation (a resend, CONSOLE.md §5; ids of different authors never collide, issue 10):
        one statement decides, no lookup first (the conflict is the messages_client index's).
        ``body`` is the image or card of a message of that kind, kept as JSON."""
        found = self.store.execute(
            "INSERT INTO messages (conversation, author, text, at, agent, client_id, kind, body)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id",
            (buyer, author.value, text, at, agent, client_id, kind.value,
             None if body is None else _attrs_encoder.encode(body).decode()),
        ).fetchall()  # all: a RETURNING statement left unfinished would hold the transaction open
        return int(found[0][0]) if found else None

    def find_client_message(self, buyer: str, client_id: str, author: Author, agent: str | None = None) -> Message | None:
        """The message this author (the buyer, or one agent account) sent with ``client_id``;
        client ids of different authors never match (issue 10)."""
        r = self.store.one(
            "SELECT * FROM messages WHERE conversation = ? AND author = ? AND IFNULL(agent, '') = ? AND client_id = ?",
            (buyer, author.value, agent or "", client_id),
        )
        return None if r is None else _message(r)

    def has_image(self, buyer: str, sha256: str) -> bool:
        """Whether a message of this conversation shows the image (who sees it may fetch it)."""
        return self.store.one(
            "SELECT 1 FROM messages WHERE conversation = ? AND kind = 'image'"
            " AND json_extract(body, '$.sha256') = ? LIMIT 1", (buyer, sha256)) is not None
    def image_hashes(self) -> set[str]:
        """The SHA-256 of every image a committed message shows (what the images folder must keep)."""
        return {str(r[0]) for r in self.store.all(
            "SELECT DISTINCT json_extract(body, '$.sha256') FROM messages WHERE kind = 'image'") if r[0]}

    def message_at(self, message_id: int) -> float | None:
        """When the message was sent, if it exists."""
        found = self.store.one("SELECT at FROM messages WHERE id = ?", (message_id,))
        return None if found is None else float(found["at"])

    def message_text(self, message_id: int) -> str | None:
        """The message's text, if it exists."""
        found = self.store.one("SELECT text FROM messages WHERE id = ?", (message_id,))
        return None if found is None else str(found["text"])

    def history(self, buyer: str, limit: int) -> tuple[list[Message], bool]:
        """The conversation's latest ``limit`` messages, oldest first, and whether there are more.
        The conversation's ids come from ``messages_client`` alone (a covering scan, sorted in a
        temp b-tree: that index is not in id order), then only those rows are read (issue 9:
        0.6x of reading every row of a conversation of 1,000-10,000 messages to sort them)."""
        rows = self.store.all(
            "SELECT * FROM messages WHERE id IN (SELECT id FROM messages WHERE conversation = ?"
            " ORDER BY id DESC LIMIT ?) ORDER BY id DESC", (buyer, limit + 1)
        )
        more = len(rows) > limit
        return [_message(r) for r in reversed(rows[:limit])], more

    # -- routing records (R2.3) -----------------------------------------------------------------------

    def record_decision(self, d: Decision) -> None:
        """Record an engine decision (R2.3)."""
        self.store.execute(
            "INSERT INTO decisions (buyer, event, target, why, rule, at, previous, position, eta)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (d.buyer, d.event, d.to, d.why.value, d.rule, d.t, d.previous, d.position, d.eta),
        )

    def decisions(self, buyer: str) -> list[sqlite3.Row]:
        """Every decision about the buyer, oldest first."""
        return self.store.all("SELECT * FROM decisions WHERE buyer = ? ORDER BY id", (buyer,))

    def latest_reason(self, buyer: str) -> str | None:
        """The reason of the latest decision that put the buyer where it is (not a close)."""
        row = self.store.one(
            "SELECT why FROM decisions WHERE buyer = ? AND event != 'closed' ORDER BY rowid DESC LIMIT 1", (buyer,))
        return None if row is None else str(row["why"])

    def record_reception(self, agent: str, buyer: str, at: float) -> None:
        """Record that ``agent`` received ``buyer`` at ``at`` (a session began)."""
        self.store.execute("INSERT INTO receptions (agent, buyer, at) VALUES (?, ?, ?)", (agent, buyer, at))

    # -- waits (CONSOLE.md §3) ----------------------------------------------------------------------

    def open_waits(self) -> list[tuple[int, str, float, str | None]]:
        """(id, buyer, started, agent) of every wait not answered yet, oldest first."""
        return [(int(r["id"]), str(r["buyer"]), float(r["started"]), r["agent"]) for r in
                self.store.all("SELECT id, buyer, started, agent FROM waits WHERE answered IS NULL ORDER BY id")]

    def start_wait(self, agent: str | None, buyer: str, at: float) -> int:
        """Open a wait for the buyer (CONSOLE.md §3); its id."""
        cursor = self.store.execute("INSERT INTO waits (agent, buyer, started) VALUES (?, ?, ?)", (agent, buyer, at))
        return int(cursor.lastrowid or 0)

    # A wait is answered by the agent message that ends it, in the statement that stores it (the
    # ``waits_answered`` trigger, schema.py's WAIT_ANSWERED): no statement of its own.

    def move_wait(self, wait_id: int, agent: str | None) -> None:
        """Give an open wait to another agent (or none)."""
        self.store.execute("UPDATE waits SET agent = ? WHERE id = ?", (agent, wait_id))

    # -- ratings and orders -------------------------------------------------------------------------

    def rate(self, buyer: str, agent: str, score: int, at: float) -> None:
        """One rating per session counts; a second replaces the first (issue 10). The session
        began with the agent's latest reception of this buyer."""
        began = self.store.one("SELECT MAX(at) AS at FROM receptions WHERE buyer = ? AND agent = ?", (buyer, agent))
        self.store.execute("DELETE FROM ratings WHERE buyer = ? AND agent = ? AND at >= ?",
                           (buyer, agent, began["at"] if began is not None and began["at"] is not None else 0.0))
        self.store.execute("INSERT INTO ratings (buyer, agent, score, at) VALUES (?, ?, ?, ?)",
                           (buyer, agent, score, at))

    def upsert_order(self, order: str, buyer: str, state: str, at: float) -> bool:
        """Record an order's state; False (nothing changed) when the order is another buyer's."""
        owner: list[Any] = self.store.execute(
            "INSERT INTO orders (id, buyer, state, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT(id) DO UPDATE"
            " SET state = excluded.state, updated_at = excluded.updated_at WHERE orders.buyer = excluded.buyer"
            " RETURNING buyer",
            (order, buyer, state, at),
        ).fetchall()
        if not owner:
            return False
        self.store.execute("INSERT INTO order_events (buyer, order_id, state, at) VALUES (?, ?, ?, ?)",
                           (buyer, order, state, at))
        return True

    def latest_order(self, buyer: str) -> str | None:
        """The buyer's most recently placed order (first reported last), or None: ``{订单号}``."""
        row = self.store.one("SELECT order_id FROM order_events WHERE buyer = ? GROUP BY order_id"
                             " ORDER BY min(at) DESC, min(id) DESC LIMIT 1", (buyer,))
        return str(row["order_id"]) if row is not None else None
