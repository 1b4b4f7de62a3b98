"""The server's SQLite database: schema, connection settings and batched commits.

One file, ``DATA_DIR/fenliu.db``, holds everything the server keeps across restarts (CONSOLE.md
§4): accounts and tokens, buyers, conversations, messages, orders, ratings, routing decisions with
their reasons, the engine's input log (ARCHITECTURE.md "Persistence of routing state"), each
agent's outgoing event log (for resume, CONSOLE.md §5) and the facts the KPI tiles are counted from.

Durability settings, and why:

- ``journal_mode=WAL``: readers never block the writer and a commit is one sequential append.
- ``synchronous=FULL``: an acknowledgement is a promise (CONSOLE.md §5: "a server restart, even a
  kill, loses no acknowledged message"). ``NORMAL`` already survives a killed process, but in WAL
  mode it may lose the last commits on a power cut; ``FULL`` syncs the WAL on every commit. The
  cost is paid once per *batch*: all writes made during one event-loop turn share one commit
  (``flush``), so a burst of messages costs one fsync, not one each.
- ``foreign_keys=ON``: a message or token cannot point at a conversation or account that is not
  there.

Batching: ``execute`` opens a transaction on the first write and schedules ``flush`` for the next
loop turn. Code that must not act before its writes are durable either awaits ``committed()`` or
registers the action with ``after_commit`` (the hub sends pushes that way), so nothing is sent to
a client before the commit that holds it.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import platformdirs

log = logging.getLogger(__name__)

SCHEMA_VERSION = 4
DB_NAME = "fenliu.db"

_SCHEMA: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS accounts (
        id TEXT PRIMARY KEY,
        role TEXT NOT NULL CHECK (role IN ('agent', 'supervisor', 'main', 'proxy')),
        password_hash TEXT NOT NULL,
        disabled INTEGER NOT NULL DEFAULT 0,
        created_at REAL NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS tokens (
        hash TEXT PRIMARY KEY,
        account TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        issued_at REAL NOT NULL,
        expires_at REAL NOT NULL,
        revoked INTEGER NOT NULL DEFAULT 0
    )""",
    """CREATE INDEX IF NOT EXISTS tokens_account ON tokens(account)""",
    # The server's own account data for the buyer side: the kind (and so the badge) comes only
    # from here, never from a name or a message (CONSOLE.md §1).
    """CREATE TABLE IF NOT EXISTS buyers (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('consumer', 'merchant', 'staff', 'group')),
        created_at REAL NOT NULL
    )""",
    # One row per buyer-side id: the reception-list row. ``agent`` is whose list shows it (the
    # agent holding it, or the last one that did); the last_* columns are message ids, from
    # which the section follows (console.reception.sections.section_of).
    """CREATE TABLE IF NOT EXISTS conversations (
        buyer TEXT PRIMARY KEY REFERENCES buyers(id),
        holder TEXT,
        agent TEXT,
        last_text TEXT NOT NULL DEFAULT '',
        last_at REAL NOT NULL DEFAULT 0,
        last_buyer INTEGER,
        last_bot INTEGER,
        last_human INTEGER,
        waiting_since REAL,
        unread INTEGER NOT NULL DEFAULT 0,
        cleared INTEGER NOT NULL DEFAULT 0,
        arrive BLOB
    )""",
    """CREATE INDEX IF NOT EXISTS conversations_agent ON conversations(agent)""",
    """CREATE TABLE IF NOT EXISTS messages (
        id INTEGER PRIMARY KEY,
        conversation TEXT NOT NULL REFERENCES buyers(id),
        author TEXT NOT NULL CHECK (author IN ('buyer', 'agent', 'bot', 'system')),
        text TEXT NOT NULL,
        at REAL NOT NULL,
        agent TEXT,
        client_id TEXT
    )""",
    """CREATE INDEX IF NOT EXISTS messages_conversation ON messages(conversation, id)""",
    # Idempotency (CONSOLE.md §5) is per author: the buyer, or one agent account; a buyer's
    # client_id never collides with an agent's (issue 10).
    """CREATE UNIQUE INDEX IF NOT EXISTS messages_client
        ON messages(conversation, author, IFNULL(agent, ''), client_id) WHERE client_id IS NOT NULL""",
    """CREATE TABLE IF NOT EXISTS orders (
        id TEXT PRIMARY KEY,
        buyer TEXT NOT NULL REFERENCES buyers(id),
        state TEXT NOT NULL,
        updated_at REAL NOT NULL
    )""",
    """CREATE INDEX IF NOT EXISTS orders_buyer ON orders(buyer, updated_at)""",
    """CREATE TABLE IF NOT EXISTS order_events (
        id INTEGER PRIMARY KEY,
        buyer TEXT NOT NULL REFERENCES buyers(id),
        order_id TEXT NOT NULL,
        state TEXT NOT NULL,
        at REAL NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS ratings (
        id INTEGER PRIMARY KEY,
        buyer TEXT NOT NULL REFERENCES buyers(id),
        agent TEXT,
        score INTEGER NOT NULL CHECK (score BETWEEN 1 AND 5),
        at REAL NOT NULL
    )""",
    """CREATE INDEX IF NOT EXISTS ratings_buyer ON ratings(buyer, agent, at)""",  # one per session: rating replaces
    """CREATE TABLE IF NOT EXISTS decisions (
        id INTEGER PRIMARY KEY,
        buyer TEXT NOT NULL,
        event TEXT NOT NULL,
        target TEXT NOT NULL,
        why TEXT NOT NULL,
        rule TEXT NOT NULL,
        at REAL NOT NULL,
        previous TEXT,
        position INTEGER,
        eta REAL
    )""",
    """CREATE INDEX IF NOT EXISTS decisions_buyer ON decisions(buyer, id)""",
    # Every engine input, in order, with its time: replayed on start (ARCHITECTURE.md).
    # kind: 'event' (an events.py struct as JSON), 'policy' (a policy swap, body = its TOML) or
    # 'advance' (the server fired due timers at ``at``; replayed as Engine.advance).
    """CREATE TABLE IF NOT EXISTS engine_log (
        seq INTEGER PRIMARY KEY,
        at REAL NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('event', 'policy', 'advance')),
        body TEXT NOT NULL
    )""",
    # Who applied each policy of engine_log, and how (console/server/policy_log.py); the text and
    # the time are the log entry's.
    """CREATE TABLE IF NOT EXISTS policy_history (
        seq INTEGER PRIMARY KEY REFERENCES engine_log(seq),
        by TEXT NOT NULL,
        source TEXT NOT NULL
    )""",
    # What each agent was sent, numbered, so a reconnecting console can resume (CONSOLE.md §5).
    # A rowid table with a unique index: appends go to the end of one b-tree instead of dirtying a
    # page per agent in a WITHOUT ROWID table keyed by (agent, seq) (half the CPU per event).
    """CREATE TABLE IF NOT EXISTS agent_events (
        id INTEGER PRIMARY KEY,
        agent TEXT NOT NULL,
        seq INTEGER NOT NULL,
        at REAL NOT NULL,
        body BLOB NOT NULL
    )""",
    """CREATE UNIQUE INDEX IF NOT EXISTS agent_events_seq ON agent_events (agent, seq)""",
    # KPI facts (CONSOLE.md §3): who received whom when, and each buyer wait with its answer.
    """CREATE TABLE IF NOT EXISTS receptions (
        id INTEGER PRIMARY KEY,
        agent TEXT NOT NULL,
        buyer TEXT NOT NULL,
        at REAL NOT NULL
    )""",
    """CREATE INDEX IF NOT EXISTS receptions_at ON receptions(at)""",
    """CREATE INDEX IF NOT EXISTS receptions_buyer ON receptions(buyer, agent, at)""",  # a session's start
    # A buyer wait (console.reception.kpi.Wait): agent is who answered, or who holds the buyer
    # while it is open (NULL while the bot or the pool does).
    """CREATE TABLE IF NOT EXISTS waits (
        id INTEGER PRIMARY KEY,
        agent TEXT,
        buyer TEXT NOT NULL,
        started REAL NOT NULL,
        answered REAL
    )""",
    """CREATE INDEX IF NOT EXISTS waits_started ON waits(started)""",
    """CREATE INDEX IF NOT EXISTS waits_open ON waits(buyer, answered)""",
    # Search (issue 13, console/server/search.py): a trigram index over message text, as an
    # external-content table (the text is stored once, in messages) kept current by triggers, so
    # every insert path is covered. Created and backfilled by _migrate (``SEARCH_INDEX``).
)

SEARCH_INDEX: tuple[str, ...] = (
    """CREATE VIRTUAL TABLE IF NOT EXISTS messages_fts
        USING fts5(text, content='messages', content_rowid='id', tokenize='trigram')""",
    """CREATE TRIGGER IF NOT EXISTS messages_fts_insert AFTER INSERT ON messages BEGIN
        INSERT INTO messages_fts (rowid, text) VALUES (new.id, new.text);
    END""",
    """CREATE TRIGGER IF NOT EXISTS messages_fts_delete AFTER DELETE ON messages BEGIN
        INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.id, old.text);
    END""",
    """CREATE TRIGGER IF NOT EXISTS messages_fts_update AFTER UPDATE OF text ON messages BEGIN
        INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.id, old.text);
        INSERT INTO messages_fts (rowid, text) VALUES (new.id, new.text);
    END""",
)
"""The search index (schema 4). Idempotent: a database that lacks the table or any trigger gets
them and a full rebuild from ``messages``, whatever version another migration left behind."""


def default_data_dir() -> Path:
    """The per-user data folder (CONSOLE.md §4: nothing else to install or configure)."""
    return Path(platformdirs.user_data_dir("fenliu", appauthor=False))


class StoreError(Exception):
    """The database cannot be opened or is of an unknown schema version."""


class Store:
    """The one SQLite connection of the server, with per-loop-turn batched commits."""

    def __init__(self, path: Path, *, synchronous: str = "FULL") -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we issue BEGIN/COMMIT ourselves, so a batch is exactly one
        # transaction whatever the statements are.
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(f"PRAGMA synchronous={synchronous}")
        self.db.execute("PRAGMA foreign_keys=ON")
        self.db.execute("PRAGMA busy_timeout=5000")
        self._in_tx = False
        self._flush_scheduled = False
        self._after: list[Callable[[], None]] = []
        self._waiters: list[asyncio.Future[None]] = []
        self._migrate()

    @classmethod
    def open(cls, data_dir: Path | None = None, **kwargs: Any) -> Store:
        directory = data_dir if data_dir is not None else default_data_dir()
        return cls(directory / DB_NAME, **kwargs)

    # -- schema ---------------------------------------------------------------------------

    def _migrate(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            self.db.execute(_SCHEMA[0])  # schema_version
            row = self.db.execute("SELECT version FROM schema_version").fetchone()
            version = row[0] if row is not None else None
            if version is not None and version > SCHEMA_VERSION:
                raise StoreError(
                    f"{self.path}: database schema version {version} is newer than this fenliu ({SCHEMA_VERSION})"
                )
            if version == 1:  # 1 -> 2: agent_events becomes a rowid table
                self.db.execute("ALTER TABLE agent_events RENAME TO agent_events_v1")
            # 2 -> 3: messages lose UNIQUE (conversation, client_id) for a per-author unique index
            old_messages = version is not None and version < 3 and self.db.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'messages'").fetchone() is not None
            if old_messages:
                self.db.execute("DROP INDEX IF EXISTS messages_conversation")
                self.db.execute("ALTER TABLE messages RENAME TO messages_v2")
            for statement in _SCHEMA:
                self.db.execute(statement)
            if version == 1:
                self.db.execute("INSERT INTO agent_events (agent, seq, at, body)"
                                " SELECT agent, seq, at, body FROM agent_events_v1 ORDER BY agent, seq")
                self.db.execute("DROP TABLE agent_events_v1")
            if old_messages:
                self.db.execute("INSERT INTO messages (id, conversation, author, text, at, agent, client_id)"
                                " SELECT id, conversation, author, text, at, agent, client_id FROM messages_v2")
                self.db.execute("DROP TABLE messages_v2")
            self._index_messages()  # last: after any migration that rebuilt the messages table
            if version is None:
                self.db.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))
            elif version < SCHEMA_VERSION:
                self.db.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION,))
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def _index_messages(self) -> None:
        """Create the search index if any part of it is missing, and backfill it (schema 4)."""
        names = {"messages_fts", "messages_fts_insert", "messages_fts_delete", "messages_fts_update"}
        present = {str(r[0]) for r in self.db.execute(
            "SELECT name FROM sqlite_master WHERE name IN (?, ?, ?, ?)", tuple(sorted(names)))}
        if present == names:
            return
        for statement in SEARCH_INDEX:
            self.db.execute(statement)
        self.db.execute("INSERT INTO messages_fts (messages_fts) VALUES ('rebuild')")

    # -- writes -----------------------------------------------------------------------------

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        """Run a write inside the current batch (opened on demand, committed next loop turn)."""
        self._begin()
        return self.db.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> sqlite3.Cursor:
        self._begin()
        return self.db.executemany(sql, rows)

    def _begin(self) -> None:
        if not self._in_tx:
            self.db.execute("BEGIN")
            self._in_tx = True
        self._schedule()

    def _schedule(self) -> None:
        if self._flush_scheduled:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop (command-line tools): the caller flushes
        self._flush_scheduled = True
        loop.call_soon(self.flush)

    def after_commit(self, action: Callable[[], None]) -> None:
        """Run ``action`` once the writes made so far are committed (at once if there are none)."""
        if not self._in_tx and not self._after:
            action()
            return
        self._after.append(action)
        self._schedule()

    async def committed(self) -> None:
        """Wait until the writes made so far are committed; raises if the commit failed."""
        if not self._in_tx and not self._after:
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(future)
        self._schedule()
        await future

    def flush(self) -> None:
        """Commit the batch, then run its after-commit actions and wake its waiters, in order."""
        self._flush_scheduled = False
        after, self._after = self._after, []
        waiters, self._waiters = self._waiters, []
        error: BaseException | None = None
        if self._in_tx:
            try:
                self.db.execute("COMMIT")
            except sqlite3.Error as exc:
                log.exception("commit failed; the batch is rolled back")
                error = exc
                try:
                    self.db.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
            finally:
                self._in_tx = False
        if error is None:
            for action in after:
                try:
                    action()
                except Exception:
                    log.exception("after-commit action failed")
        for waiter in waiters:
            if not waiter.done():
                if error is None:
                    waiter.set_result(None)
                else:
                    waiter.set_exception(StoreError(f"commit failed: {error}"))

    # -- reads ------------------------------------------------------------------------------

    def one(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self.db.execute(sql, params).fetchone()
        return row

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        return list(self.db.execute(sql, params).fetchall())

    # -- meta -------------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        row = self.one("SELECT value FROM meta WHERE key = ?", (key,))
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        self.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def close(self) -> None:
        """Commit what is pending and close the file (clean shutdown loses nothing)."""
        self.flush()
        self.db.close()
