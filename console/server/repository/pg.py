"""The application's SQL that only PostgreSQL has (issue 9, issue 15): a shop's schema objects
beyond the SQLite statements that ``pgstore.schema_statement`` adapts (the search index, the
routing snapshots' and images' tables, the aggregates the KPI readers use, the trigger that
answers a wait, the owner column of a decision), the rows of the ``snapshots`` table, and the
schema's version and digest in the shop's own tables. ``pgstore.py`` keeps the mechanics:
connections, transactions, the advisory locks and owner rows of "one owner per shop", the
catalog lookups, SQL translation, and when these statements run (``PgStore._migrate``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from typing import Any, Protocol

from console.server.repository.migrations import EVENT_TOPS

SEARCH_INDEX_PG: tuple[str, ...] = (
    # The search index (search.py): trigrams of message text, for LIKE/ILIKE '%…%' lookups.
    """CREATE INDEX IF NOT EXISTS messages_text_trgm ON messages USING gin (text gin_trgm_ops)""",
)
# An agent's message answers the buyer's open wait in the statement that stores it (schema.py's
# WAIT_ANSWERED, issue 9). CREATE OR REPLACE: a changed text is in force once the schema's digest
# changes (``PgStore._migrate`` then runs every statement again).
WAIT_ANSWERED_PG: tuple[str, ...] = (
    """CREATE OR REPLACE FUNCTION fenliu_wait_answered() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE waits SET agent = NEW.agent, answered = NEW.at
                WHERE id = (SELECT MAX(id) FROM waits WHERE buyer = NEW.conversation AND answered IS NULL);
            RETURN NULL;
        END $$""",
    """CREATE OR REPLACE TRIGGER waits_answered AFTER INSERT ON messages FOR EACH ROW
        WHEN (NEW.author = 'agent' AND NEW.agent IS NOT NULL) EXECUTE FUNCTION fenliu_wait_answered()""",
)
# SQLite's aggregates that PostgreSQL lacks, in the shop's schema (kpis.py): sum() of a comparison
# (a boolean here, 0/1 there) and total() (a float sum, 0.0 over no rows).
AGGREGATES_PG: tuple[str, ...] = (
    """CREATE OR REPLACE FUNCTION fenliu_add_bool(bigint, boolean) RETURNS bigint
        LANGUAGE sql IMMUTABLE AS 'SELECT CASE WHEN $2 IS NULL THEN $1 ELSE COALESCE($1, 0) + $2::int END'""",
    """CREATE OR REPLACE AGGREGATE sum(boolean) (SFUNC = fenliu_add_bool, STYPE = bigint)""",
    """CREATE OR REPLACE AGGREGATE total(double precision) (SFUNC = float8pl, STYPE = float8, INITCOND = '0')""",
)
# Routing snapshots live in the database (driver.py): a standby on another machine rebuilds from them.
SNAPSHOTS_PG = """CREATE TABLE IF NOT EXISTS snapshots (
    upto BIGINT PRIMARY KEY,
    body BYTEA NOT NULL
)"""
# Which server made each routing decision (issue 15): the loop's connection, the one holding the
# shop's lock, names its process in ``fenliu.owner`` (``PgStore._take_lock``) and every decision row
# it inserts carries it. Two processes routing for one shop would show as two owners interleaved
# in ``decisions.id`` order (bench/failover.py counts them); commands open the shop without it (NULL).
OWNER_PG = """ALTER TABLE decisions ADD COLUMN IF NOT EXISTS owner TEXT DEFAULT current_setting('fenliu.owner', true)"""

# Images live in the database (images.py ``DatabaseImageStore``): a standby on another machine
# serves them. They are compressed already (JPEG, PNG): EXTERNAL keeps them out of line and
# uncompressed, so ``substr`` of a part reads only its chunks.
IMAGES_PG: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS images (
    sha256 TEXT PRIMARY KEY,
    data BYTEA NOT NULL,
    thumb BYTEA NOT NULL,
    at DOUBLE PRECISION NOT NULL
)""",
    """ALTER TABLE images ALTER COLUMN data SET STORAGE EXTERNAL, ALTER COLUMN thumb SET STORAGE EXTERNAL""",
)

# A conversation's messages in id order, on PostgreSQL only (SQLite dropped it, issue 9:
# messages_client serves its reads there). PostgreSQL's planner, with the statistics it keeps,
# reads a long conversation's ``ORDER BY id LIMIT n`` (the panel's session) by walking the primary
# key and filtering instead of looking the conversation up in messages_client: 20 ms for a
# conversation of 3,000 among 200,000 messages (EXPLAIN ANALYZE, session 9), against an index
# lookup here. SQLite keeps no statistics (no ANALYZE): it looks the conversation up.
MESSAGES_CONVERSATION_PG = """CREATE INDEX IF NOT EXISTS messages_conversation ON messages (conversation, id)"""

SHOP_OBJECTS_PG: tuple[str, ...] = (*SEARCH_INDEX_PG, SNAPSHOTS_PG, *IMAGES_PG, *AGGREGATES_PG, *WAIT_ANSWERED_PG,
                                    OWNER_PG, MESSAGES_CONVERSATION_PG)
"""PostgreSQL's own objects of a shop's schema, in the order they are made (after the SQLite
schema's tables, which they refer to)."""

SCHEMA_DIGEST_KEY = "pg_schema"
"""The ``meta`` key holding the digest of the statements that made the shop's schema."""

INDEX_KEY = "pg_index:"
"""``meta`` keys ``pg_index:<name>``: the digest of the statement that made each index."""

_INDEX = re.compile(r"^\s*CREATE\s+(?:UNIQUE\s+)?INDEX\s+IF\s+NOT\s+EXISTS\s+(\w+)", re.IGNORECASE)


class _Raw(Protocol):
    """A psycopg connection (``%s`` placeholders): the statements below run on the raw one."""

    def execute(self, query: Any, params: Any = ...) -> Any: ...


class _Store(Protocol):
    def one(self, sql: str, params: Any = ...) -> Any: ...
    def all(self, sql: str, params: Any = ...) -> list[Any]: ...
    def execute(self, sql: str, params: Any = ...) -> Any: ...


# -- the schema's version and digest ----------------------------------------------------------------

def schema_state(raw: _Raw) -> tuple[int | None, str | None]:
    """The shop's schema version and the digest it was made with (raises psycopg's
    ``UndefinedTable`` for a shop not made yet)."""
    row = raw.execute("SELECT (SELECT version FROM schema_version),"
                      " (SELECT value FROM meta WHERE key = %s)", (SCHEMA_DIGEST_KEY,)).fetchone()
    return (None, None) if row is None else (row[0], row[1])


def schema_version(raw: _Raw) -> int | None:
    """The stored schema version (None: a new shop)."""
    row = raw.execute("SELECT version FROM schema_version").fetchone()
    return None if row is None else int(row[0])


def record_schema(raw: _Raw, version: int, digest: str, *, first: bool) -> None:
    """Record the version (``first``: the shop had none) and the digest of the statements run."""
    if first:
        raw.execute("INSERT INTO schema_version (version) VALUES (%s)", (version,))
    else:  # the same, or an older one brought up to it (6 -> 7)
        raw.execute("UPDATE schema_version SET version = %s", (version,))
    raw.execute("INSERT INTO meta (key, value) VALUES (%s, %s)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value", (SCHEMA_DIGEST_KEY, digest))


def create_replacing_indexes(raw: _Raw, statements: Iterable[str]) -> list[str]:
    """Run each CREATE of ``statements`` (the ``meta`` table made first); an index of them that
    exists but was made by another statement (its digest in ``meta`` differs, or none was kept:
    a shop made before the digests) is dropped first, so the code's definition is the one in
    force (``IF NOT EXISTS`` alone would keep the old one). The names of the indexes replaced."""
    replaced = []
    for statement in statements:
        match = _INDEX.match(statement)
        if match is None:
            raw.execute(statement)
            continue
        name, digest = match.group(1), hashlib.sha256(statement.encode()).hexdigest()[:32]
        exists = raw.execute("SELECT 1 FROM pg_indexes WHERE schemaname = current_schema() AND indexname = %s",
                             (name,)).fetchone() is not None
        if exists:
            row = raw.execute("SELECT value FROM meta WHERE key = %s", (INDEX_KEY + name,)).fetchone()
            if row is None or row[0] != digest:
                raw.execute(f"DROP INDEX {name}")
                replaced.append(name)
        raw.execute(statement)
        raw.execute("INSERT INTO meta (key, value) VALUES (%s, %s)"
                    " ON CONFLICT (key) DO UPDATE SET value = excluded.value", (INDEX_KEY + name, digest))
    return replaced


def event_marks(raw: _Raw) -> bool:
    """Schema 7 on a shop of schema 6, as SQLite's step (``migrations.event_marks``): each agent's
    last event number into ``agent_event_tops``, then ``agent_events_seq (agent, seq)`` dropped
    (``agent_events_mark`` serves a resume). Decided by the index's presence; whether it ran."""
    if raw.execute("SELECT 1 FROM pg_indexes WHERE schemaname = current_schema() AND indexname = 'agent_events_seq'"
                   ).fetchone() is None:
        return False
    raw.execute(EVENT_TOPS)
    raw.execute("DROP INDEX agent_events_seq")
    raw.execute("DELETE FROM meta WHERE key = %s", (INDEX_KEY + "agent_events_seq",))
    return True


# -- routing snapshots (driver.py) --------------------------------------------------------------------

def snapshot_ids(store: _Store) -> list[int]:
    """The inputs each stored snapshot covers up to, newest first."""
    return [int(r[0]) for r in store.all("SELECT upto FROM snapshots ORDER BY upto DESC")]


def read_snapshot(store: _Store, upto: int) -> bytes | None:
    """The snapshot covering inputs up to ``upto`` (None: gone)."""
    row = store.one("SELECT body FROM snapshots WHERE upto = ?", (upto,))
    return None if row is None else bytes(row[0])


def drop_snapshot(store: _Store, upto: int) -> None:
    """Delete a snapshot (in the store's batch)."""
    store.execute("DELETE FROM snapshots WHERE upto = ?", (upto,))


def write_snapshot(raw: _Raw, upto: int, body: bytes) -> None:
    """Store (or replace) a snapshot on ``raw``, a connection of its own (``PgStore.write_snapshot_now``)."""
    raw.execute("INSERT INTO snapshots (upto, body) VALUES (%s, %s) ON CONFLICT (upto) DO UPDATE"
                " SET body = excluded.body", (upto, body))
