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

from collections.abc import Callable, Collection
from functools import partial

from console.protocol.cards import Card
from console.reception.model import Author, ImageRef, Kind, Message, MessageKind, check_payload, preview
from console.server.journal import Journal
from console.server.repository import ArriveAttrs, Repository, Row
from console.server.store import Store

__all__ = ["ArriveAttrs", "Conversations", "Row"]


class Conversations:
    """The rows of open sessions in memory, indexed by agent and by pool; the rest on disk.

    A row whose session is closed leaves memory (``settle``, after each request): it stays on disk
    and is read back when someone touches it again (the buyer writes, an agent opens it, a
    snapshot lists an agent's history). Within one request a row is one object, so every change
    made to it through any path is the same change. Every change is written through (``save``)
    but one: a message to an open session moves the row in memory only (issue 9: the row's page
    was a WAL frame per message). Its per-message columns (preview, time, latest ids, unread,
    waiting, cleared) reach the disk with the row's next save (a routing decision, an agent
    opening it, 清扫, the close), and a restart folds the messages after its latest buyer, bot or
    human message back in (``Repository.open_tails``, ``fold``). So a row with no session is
    whole on disk; an open one is whole in memory, where every open row is.
    """

    def __init__(self, store: Store, journal: Journal | None = None) -> None:
        self.store = store
        self.repo = Repository(store)
        self.journal = journal or Journal()
        self._live: dict[str, Row] = {}
        self._indexed: dict[str, tuple[str | None, str | None]] = {}  # buyer -> (agent, holder) indexed
        self._by_agent: dict[str, dict[str, Row]] = {}
        self._pool: dict[str, Row] = {}  # holder "pool" (R6.1)
        self._bot_unclaimed: dict[str, Row] = {}  # held by the bot, no agent has had it
        self._closed: set[str] = set()  # in memory with no session: leave at ``settle``
        for row in self.repo.open_rows():
            self._remember(row)
        for buyer, message_id, author, text, at in self.repo.open_tails():  # what ``add_message`` left unsaved
            fold(self._live[buyer], author, message_id, text, at)

    def __len__(self) -> int:
        return len(self._live)

    # -- the indexes ----------------------------------------------------------------------------

    def _remember(self, row: Row) -> Row:
        self.journal.once(("row", row.buyer), partial(self._forget, row.buyer))  # was not in memory
        self._live[row.buyer] = row
        self._index(row)
        return row

    def _touch(self, row: Row) -> Row:
        """A row in memory that the request may change: record how it was (its fields, copied
        as they are: ``dataclasses.replace`` would run ``__init__`` again, three times a message)."""
        key = ("row", row.buyer)
        if self.journal.fresh(key):
            self.journal.once(key, partial(self._restore, row, dict(row.__dict__)))
        return row

    def _restore(self, row: Row, before: dict[str, object]) -> None:
        row.__dict__.update(before)
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
        found = self.repo.row(buyer)
        return None if found is None else self._remember(found)

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
        return [self._remember(r) for r in self.repo.closed_rows(agent, cleared=cleared) if r.buyer not in self._live]

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
        listed = [row for row in rows.values() if not row.cleared]
        listed.extend(r for r in self.repo.closed_rows(agent, cleared=False) if r.buyer not in self._live)
        return listed

    def searchable(self, agent: str | None, name_pattern: str, limit: int,
                   products: Collection[str] = ()) -> tuple[dict[str, Row], list[str] | None]:
        """The rows a search looks at (issue 13) and its scope (None: the whole shop), by the
        who-finds rule (``audience.finds``): for an agent, its own rows, open and closed, the
        pool's, and every buyer it ever received (those whose name matches, or who came from one of
        ``products``, loaded now; any other when a hit asks for it); for a supervisor (``agent``
        None) the same from the whole shop, any other row on demand."""
        return self.merge_candidates(agent, search_candidates(self.repo, agent, name_pattern, limit, products))

    def merge_candidates(self, agent: str | None, found: tuple[list[Row], list[str] | None]
                         ) -> tuple[dict[str, Row], list[str] | None]:
        """``searchable`` from what ``search_candidates`` read (possibly in another thread, on
        another connection): rows in memory win over what was read (they are the current ones)."""
        read, ids = found
        rows = _OnDemand(self.get)
        mine = self._by_agent.get(agent, {}).values() if agent is not None else self._live.values()
        rows.update((r.buyer, r) for r in mine)
        if agent is not None:
            rows.update((r.buyer, r) for r in self._pool.values())
        rows.update((r.buyer, self._live.get(r.buyer) or self._remember(r)) for r in read if r.buyer not in rows)
        if agent is None:  # every open row is in ``_live``, and the read held closed rows only
            return rows, None
        live = self._live
        # the open rows of buyers it ever received that another agent holds now: memory has
        # them current (the read held closed rows only: an open row on disk is as of its last save)
        rows.update((b, live[b]) for b in ids or () if b in live and b not in rows)
        return rows, sorted(set(rows) | set(ids or ()))

    def held_by(self, agent: str) -> list[Row]:
        """The open sessions an agent holds now (from memory, read only), oldest arrival first."""
        holder = f"agent:{agent}"
        return [row for row in self._by_agent.get(agent, {}).values() if row.holder == holder]

    def in_pool(self) -> list[Row]:
        return list(self._pool.values())

    def save(self, row: Row) -> None:
        # The stored holder and agent are those last indexed (every save indexes first; a load
        # indexes what it read; an undone request restores both the row and its index entry, and
        # its savepoint the stored row) once the request has recorded the row (not ``fresh``);
        # outside a request nothing is undone. Unchanged, the update leaves them out (issue 9).
        same = (self._indexed.get(row.buyer) == (row.agent, row.holder)
                and not self.journal.fresh(("row", row.buyer)))
        self._index(row)
        self.repo.save_row(row, holder_stored=same)

    # -- messages ---------------------------------------------------------------------------

    def find_client_message(self, buyer: str, client_id: str, author: Author, agent: str | None = None) -> Message | None:
        return self.repo.find_client_message(buyer, client_id, author, agent)

    def add_message(
        self, row: Row, author: Author, text: str, at: float, *, agent: str | None = None, client_id: str | None = None,
        kind: MessageKind = MessageKind.TEXT, image: ImageRef | None = None, card: Card | None = None,
    ) -> Message | None:
        """Store a message and move the row (section, preview, unread, waiting time).

        ``text`` is the message, or for an image or a card its readable preview (``[图片]``).
        Returns None, changing nothing, when the conversation already has a message with this
        ``client_id`` (a resend, CONSOLE.md §5): one statement decides, no lookup first."""
        check_payload(kind, image, card)
        message_id = self.repo.insert_message(row.buyer, author, text, at, agent, client_id,
                                              kind=kind, body=image if image is not None else card)
        if message_id is None:
            return None
        fold(row, author, message_id, text, at)
        if row.holder is None:  # a closed row on disk is always whole (see the class)
            self.save(row)
        return Message(id=message_id, conversation=row.buyer, author=author, text=text, at=at, agent=agent,
                       client_id=client_id, kind=kind, image=image, card=card)

    def history(self, buyer: str, limit: int) -> tuple[list[Message], bool]:
        return self.repo.history(buyer, limit)


def fold(row: Row, author: Author, message_id: int, text: str, at: float) -> None:
    """Move the row by one message (section, preview, unread, waiting time): the one place these
    columns change with a message, as it is stored and as a restart reads it back."""
    row.last_text = preview(text)
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


def search_candidates(repo: Repository, agent: str | None, name_pattern: str, limit: int,
                      products: Collection[str]) -> tuple[list[Row], list[str] | None]:
    """The SQL of ``Conversations.searchable`` (no memory touched: it may run in a worker thread
    on a read-only connection): rows whose name matches or who came from one of ``products``,
    among what ``agent`` may find (None: the shop); and the ids of everything it may find
    (its rows by the agent index, and every buyer it ever received). An agent's whole
    history is thousands of rows: only their ids are read."""
    if agent is None:
        return [*repo.rows_named(name_pattern, limit), *repo.rows_from_products(sorted(products), None, limit)], None
    rows = [*repo.findable_named(agent, name_pattern, limit), *repo.rows_from_products(sorted(products), agent, limit)]
    return rows, [*repo.ids_of_agent(agent), *repo.held_by(agent)]


class _OnDemand(dict[str, Row]):
    """A supervisor's search rows: what was looked up first, and any other row when asked for."""

    def __init__(self, load: Callable[[str], Row | None]) -> None:
        super().__init__()
        self._load = load

    def get(self, key: str, default: Row | None = None) -> Row | None:  # type: ignore[override]
        if key in self:
            return self[key]
        row = self._load(key)
        if row is None:
            return default
        self[key] = row
        return row
