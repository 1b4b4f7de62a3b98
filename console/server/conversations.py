"""Conversations and their messages: the rows of the reception lists, kept in memory and on disk.

A row is one buyer-side id. It records who holds the buyer now (the engine's holder), whose list
shows it (``agent``: the agent holding it, or the last agent that did, so a closed or bot-held
conversation stays in that agent's history), and the ids of the latest buyer, bot and human
messages, from which its section follows (CONSOLE.md §1, ``section_of``). Every change is
written in the current batch; the caller decides who is told.

Messages are idempotent on ``(conversation, author, client_id)``, the author being the buyer or one
agent account (CONSOLE.md §5: a reply resent after a reconnect is stored once; issue 10: a buyer's
client_id never collides with an agent's).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

import msgspec

from console.reception.model import Author, Conversation, Kind, Message, Section
from console.reception.sections import section_of
from console.server.store import Store


class ArriveAttrs(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """The attributes of the buyer's latest arrive (R7.5: re-routes use them)."""

    entry: str = "other"
    product: str | None = None
    question: str | None = None
    intent: str | None = None
    crowd: tuple[str, ...] = ()
    exclusive: str | None = None


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
        return section_of(self.kind, self.last_buyer, self.last_bot, self.last_human)

    @property
    def holder_agent(self) -> str | None:
        """The agent id holding the session, if an agent does."""
        if self.holder is not None and self.holder.startswith("agent:"):
            return self.holder[len("agent:"):]
        return None

    def wire(self) -> Conversation:
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


def _preview(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= 80 else line[:79] + "…"


class Conversations:
    """All rows in memory (a shop's working set), written through to the store."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.rows: dict[str, Row] = {}
        for r in store.all(
            "SELECT c.*, b.name AS name, b.kind AS kind FROM conversations c JOIN buyers b ON b.id = c.buyer"
        ):
            self.rows[str(r["buyer"])] = Row(
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

    def get(self, buyer: str) -> Row | None:
        return self.rows.get(buyer)

    def ensure(self, buyer: str, name: str, kind: Kind) -> Row:
        row = self.rows.get(buyer)
        if row is None:
            row = self.rows[buyer] = Row(buyer=buyer, name=name, kind=kind)
            self.save(row)
        elif row.name != name or row.kind != kind:
            row.name, row.kind = name, kind
        return row

    def of_agent(self, agent: str) -> list[Row]:
        return [row for row in self.rows.values() if row.agent == agent]

    def in_pool(self) -> list[Row]:
        return [row for row in self.rows.values() if row.holder == "pool"]

    def save(self, row: Row) -> None:
        self.store.execute(
            "INSERT INTO conversations (buyer, holder, agent, last_text, last_at, last_buyer, last_bot, last_human,"
            " waiting_since, unread, cleared, arrive) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT(buyer) DO UPDATE SET holder = excluded.holder, agent = excluded.agent,"
            " last_text = excluded.last_text, last_at = excluded.last_at, last_buyer = excluded.last_buyer,"
            " last_bot = excluded.last_bot, last_human = excluded.last_human,"
            " waiting_since = excluded.waiting_since, unread = excluded.unread, cleared = excluded.cleared,"
            " arrive = excluded.arrive",
            (
                row.buyer, row.holder, row.agent, row.last_text, row.last_at, row.last_buyer, row.last_bot,
                row.last_human, row.waiting_since, row.unread, int(row.cleared),
                _attrs_encoder.encode(row.arrive) if row.arrive is not None else None,
            ),
        )

    # -- messages ---------------------------------------------------------------------------

    def find_client_message(self, buyer: str, client_id: str, author: Author, agent: str | None = None) -> Message | None:
        """The message this author (the buyer, or one agent account) sent with ``client_id``;
        client ids of different authors never match (issue 10)."""
        r = self.store.one(
            "SELECT * FROM messages WHERE conversation = ? AND author = ? AND IFNULL(agent, '') = ? AND client_id = ?",
            (buyer, author.value, agent or "", client_id),
        )
        return None if r is None else _message(r)

    def add_message(
        self, row: Row, author: Author, text: str, at: float, *, agent: str | None = None, client_id: str | None = None
    ) -> Message:
        """Store a message and move the row (section, preview, unread, waiting time)."""
        cur = self.store.execute(
            "INSERT INTO messages (conversation, author, text, at, agent, client_id) VALUES (?, ?, ?, ?, ?, ?)",
            (row.buyer, author.value, text, at, agent, client_id),
        )
        message_id = int(cur.lastrowid or 0)
        row.last_text = _preview(text)
        row.last_at = at
        if author is Author.BUYER:
            row.last_buyer = message_id
            row.unread += 1
            row.cleared = False  # 清扫 lasts until the buyer's next message (CONSOLE.md §1)
            if row.waiting_since is None:
                row.waiting_since = at
        elif author is Author.BOT:
            row.last_bot = message_id
            row.waiting_since = None
        elif author is Author.AGENT:
            row.last_human = message_id
            row.waiting_since = None
            row.unread = 0  # the agent answered: it has read the conversation
        self.save(row)
        return Message(id=message_id, conversation=row.buyer, author=author, text=text, at=at, agent=agent,
                       client_id=client_id)

    def history(self, buyer: str, limit: int) -> tuple[list[Message], bool]:
        rows = self.store.all(
            "SELECT * FROM messages WHERE conversation = ? ORDER BY id DESC LIMIT ?", (buyer, limit + 1)
        )
        more = len(rows) > limit
        return [_message(r) for r in reversed(rows[:limit])], more


def _message(r: sqlite3.Row) -> Message:
    return Message(
        id=int(r["id"]),
        conversation=str(r["conversation"]),
        author=Author(r["author"]),
        text=str(r["text"]),
        at=float(r["at"]),
        agent=r["agent"],
        client_id=r["client_id"],
    )
