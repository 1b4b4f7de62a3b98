"""Conversations and their messages: the rows of the reception lists, kept in memory and on disk.

A row is one buyer-side id. It records who holds the buyer now (the engine's holder), whose list
shows it (``agent``: the agent holding it, or the last agent that did, so a closed or bot-held
conversation stays in that agent's history), and the ids of the latest buyer, bot and human
messages, from which its section follows (CONSOLE.md §1, ``section_of``). Every change is
written in the current batch; the caller decides who is told.

Messages are idempotent on ``(conversation, client_id)`` (CONSOLE.md §5: a reply resent after a
reconnect is stored once).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, fields, replace
from functools import partial

import msgspec

from console.protocol.holders import agent_of
from console.reception.model import Author, Conversation, Kind, Message, Section
from console.reception.sections import section_of
from console.server.journal import Journal
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
        return agent_of(self.holder)

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


class Conversations:
    """The rows of open sessions in memory, indexed by agent and by pool; the rest on disk.

    A row whose session is closed leaves memory (``settle``, after each request): it stays on disk
    and is read back when someone touches it again (the buyer writes, an agent opens it, a
    snapshot lists an agent's history). Within one request a row is one object, so every change
    made to it through any path is the same change. Every change is written through (``save``).
    """

    def __init__(self, store: Store, journal: Journal | None = None) -> None:
        self.store = store
        self.journal = journal or Journal()
        self._live: dict[str, Row] = {}
        self._indexed: dict[str, tuple[str | None, str | None]] = {}  # buyer -> (agent, holder) indexed
        self._by_agent: dict[str, dict[str, Row]] = {}
        self._pool: dict[str, Row] = {}  # holder "pool" (R6.1)
        self._bot_unclaimed: dict[str, Row] = {}  # held by the bot, no agent has had it
        self._closed: set[str] = set()  # in memory with no session: leave at ``settle``
        for r in store.all(_SELECT + " WHERE c.holder IS NOT NULL"):
            self._remember(_row(r))

    def __len__(self) -> int:
        return len(self._live)

    # -- the indexes ----------------------------------------------------------------------------

    def _remember(self, row: Row) -> Row:
        self.journal.once(("row", row.buyer), partial(self._forget, row.buyer))  # was not in memory
        self._live[row.buyer] = row
        self._index(row)
        return row

    def _touch(self, row: Row) -> Row:
        """A row in memory that the request may change: record how it was."""
        self.journal.once(("row", row.buyer), partial(self._restore, row, replace(row)))
        return row

    def _restore(self, row: Row, before: Row) -> None:
        for f in fields(Row):
            setattr(row, f.name, getattr(before, f.name))
        self._live[row.buyer] = row
        self._index(row)

    def _index(self, row: Row) -> None:
        key = (row.agent, row.holder)
        old = self._indexed.get(row.buyer)
        if old == key:
            return
        if old is not None:
            self._unindex(row.buyer, old)
        self._indexed[row.buyer] = key
        if row.agent is not None:
            self._by_agent.setdefault(row.agent, {})[row.buyer] = row
        if row.holder == "pool":
            self._pool[row.buyer] = row
        elif row.holder == "bot" and row.agent is None:
            self._bot_unclaimed[row.buyer] = row
        if row.holder is None:
            self._closed.add(row.buyer)

    def _unindex(self, buyer: str, key: tuple[str | None, str | None]) -> None:
        agent, holder = key
        if agent is not None:
            mine = self._by_agent.get(agent)
            if mine is not None:
                mine.pop(buyer, None)
                if not mine:
                    del self._by_agent[agent]
        self._pool.pop(buyer, None)
        self._bot_unclaimed.pop(buyer, None)
        self._closed.discard(buyer)

    def _forget(self, buyer: str) -> None:
        self._live.pop(buyer, None)
        key = self._indexed.pop(buyer, None)
        if key is not None:
            self._unindex(buyer, key)

    def settle(self) -> None:
        """Rows whose session is closed leave memory (they stay on disk)."""
        closed, self._closed = self._closed, set()
        for buyer in closed:
            self._forget(buyer)

    # -- reading ------------------------------------------------------------------------------------

    def get(self, buyer: str) -> Row | None:
        row = self._live.get(buyer)
        if row is not None:
            return self._touch(row)
        found = self.store.one(_SELECT + " WHERE c.buyer = ?", (buyer,))
        return None if found is None else self._remember(_row(found))

    def ensure(self, buyer: str, name: str, kind: Kind) -> Row:
        row = self.get(buyer)
        if row is None:
            row = self._remember(Row(buyer=buyer, name=name, kind=kind))  # recorded: forgotten on undo
            self.save(row)
        elif row.name != name or row.kind != kind:
            row.name, row.kind = name, kind
        return row

    def _closed_of(self, agent: str, *, cleared: bool) -> list[Row]:
        """An agent's closed conversations from disk (those not in memory), in memory for this request."""
        sql = _SELECT + " WHERE c.agent = ? AND c.holder IS NULL" + ("" if cleared else " AND c.cleared = 0")
        return [self._remember(_row(r)) for r in self.store.all(sql, (agent,)) if str(r["buyer"]) not in self._live]

    def of_agent(self, agent: str) -> list[Row]:
        """Every row whose agent is ``agent``: open ones from memory, closed ones from disk."""
        return [*map(self._touch, self._by_agent.get(agent, {}).values()), *self._closed_of(agent, cleared=True)]

    def listed_for(self, agent: str, *, supervises: bool) -> list[Row]:
        """The rows of an agent's list, cleared ones left out (see ``Shop.audience``): its own
        (open ones from memory, its history from disk by the agent index), the pool's, and, for a
        supervisor, the bot's that no agent has had. Never a scan of every row."""
        rows: dict[str, Row] = {}
        for row in self._by_agent.get(agent, {}).values():
            rows[row.buyer] = row
        for row in self._pool.values():
            rows[row.buyer] = row
        if supervises:
            for row in self._bot_unclaimed.values():
                rows[row.buyer] = row
        sql = _SELECT + " WHERE c.agent = ? AND c.holder IS NULL AND c.cleared = 0"
        listed = [row for row in rows.values() if not row.cleared]
        listed.extend(_row(r) for r in self.store.all(sql, (agent,)) if str(r["buyer"]) not in self._live)
        return listed

    def in_pool(self) -> list[Row]:
        return list(self._pool.values())

    def save(self, row: Row) -> None:
        self._index(row)
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

    def find_client_message(self, buyer: str, client_id: str) -> Message | None:
        r = self.store.one("SELECT * FROM messages WHERE conversation = ? AND client_id = ?", (buyer, client_id))
        return None if r is None else _message(r)

    def add_message(
        self, row: Row, author: Author, text: str, at: float, *, agent: str | None = None, client_id: str | None = None
    ) -> Message | None:
        """Store a message and move the row (section, preview, unread, waiting time).

        Returns None, changing nothing, when the conversation already has a message with this
        ``client_id`` (a resend, CONSOLE.md §5): one statement decides, no lookup first."""
        found = self.store.execute(
            "INSERT INTO messages (conversation, author, text, at, agent, client_id) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (conversation, client_id) DO NOTHING RETURNING id",
            (row.buyer, author.value, text, at, agent, client_id),
        ).fetchall()  # all: a RETURNING statement left unfinished would hold the transaction open
        if not found:
            return None
        message_id = int(found[0][0])
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
