"""The SQL of a SQLite database's upgrade steps (issue 9): each step an older schema needs, as a
function on the connection. ``Store._migrate`` (store.py) keeps the mechanics: it opens the one
transaction, reads the version, decides which steps run and in what order, and writes the new
version number. Steps decided by what the database holds (columns, tables) rather than by the
number are marked so: they are self-contained wherever a step is numbered.

``replace_changed`` is how a trigger or an index whose text changed reaches a database made
before the change: ``CREATE … IF NOT EXISTS`` alone would keep the old one for ever.
"""

from __future__ import annotations

import json
import re
import sqlite3

from console.server.repository.schema import EVENT_TOPS_AFTER, SCHEMA, SEARCH_INDEX, WAIT_ANSWERED

INDEXED_UPTO = "SELECT IFNULL(MAX(id), 0) FROM messages_fts_docsize"
"""The highest message id in the search index (FTS5 keeps one ``docsize`` row per indexed
message): the index is always every message up to some id, so no separate mark is kept."""

_CREATE = re.compile(
    r"^\s*CREATE\s+(UNIQUE\s+)?(TRIGGER|INDEX|VIEW)\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)(.*)$",
    re.DOTALL | re.IGNORECASE)


def schema_version(db: sqlite3.Connection) -> int | None:
    """The stored schema version (None: a new database); makes the version table if missing."""
    db.execute(SCHEMA[0])
    row = db.execute("SELECT version FROM schema_version").fetchone()
    return None if row is None else int(row[0])


def set_schema_version(db: sqlite3.Connection, version: int, *, first: bool) -> None:
    """Record ``version`` (``first``: the database had none)."""
    if first:
        db.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))
    else:
        db.execute("UPDATE schema_version SET version = ?", (version,))


def has_table(db: sqlite3.Connection, name: str) -> bool:
    """Whether the database has a table ``name``."""
    return db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone() is not None


def create_schema(db: sqlite3.Connection) -> None:
    """The current schema's tables and indexes, where missing; an index whose text changed is
    made again (``replace_changed``)."""
    replace_changed(db, SCHEMA)


# -- 1 -> 2: agent_events becomes a rowid table ----------------------------------------------------

def agent_events_aside(db: sqlite3.Connection) -> None:
    """Rename schema 1's ``agent_events`` out of the way of the new table."""
    db.execute("ALTER TABLE agent_events RENAME TO agent_events_v1")


def agent_events_back(db: sqlite3.Connection) -> None:
    """Copy schema 1's agent events into the new table, then drop the old one."""
    db.execute("INSERT INTO agent_events (agent, seq, at, body)"
               " SELECT agent, seq, at, body FROM agent_events_v1 ORDER BY agent, seq")
    db.execute("DROP TABLE agent_events_v1")


# -- 2 -> 3: messages lose UNIQUE (conversation, client_id) for a per-author unique index ---------

def messages_aside(db: sqlite3.Connection) -> None:
    """Rename schema 2's ``messages`` (and drop its index) out of the way of the new table."""
    db.execute("DROP INDEX IF EXISTS messages_conversation")
    db.execute("ALTER TABLE messages RENAME TO messages_v2")


def messages_back(db: sqlite3.Connection) -> None:
    """Copy schema 2's messages into the new table, then drop the old one."""
    db.execute("INSERT INTO messages (id, conversation, author, text, at, agent, client_id)"
               " SELECT id, conversation, author, text, at, agent, client_id FROM messages_v2")
    db.execute("DROP TABLE messages_v2")


# -- 5 -> 6 -----------------------------------------------------------------------------------------

def add_message_kinds(db: sqlite3.Connection) -> None:
    """Schema 6 (issue 13): a message has a kind (text, image, card) and, for an image or a
    card, a JSON body; ``text`` stays its readable preview. Decided by the columns present,
    not by the version number, so it is one self-contained step wherever it is numbered."""
    columns = {str(r[1]) for r in db.execute("PRAGMA table_info(messages)")}
    if not columns or "kind" in columns:
        return
    db.execute("ALTER TABLE messages ADD COLUMN kind TEXT NOT NULL DEFAULT 'text'"
               " CHECK (kind IN ('text', 'image', 'card'))")
    db.execute("ALTER TABLE messages ADD COLUMN body TEXT")


def audit_statuses(db: sqlite3.Connection) -> None:
    """Schema 6's audit log, for a database made before it: every status change the engine log
    holds, at the logged input's time (what ``status_since`` is). Who made it is not in the log:
    ``by`` is left empty. A pruned log gives what it still has."""
    current: dict[str, str] = {}
    rows = []
    for at, body in db.execute(
            "SELECT at, body FROM engine_log WHERE kind = 'event' AND json_extract(body, '$.kind') = 'status'"
            " ORDER BY seq"):
        event = json.loads(body)
        agent, status = str(event.get("agent", "")), str(event.get("status", ""))
        before = current.get(agent, "offline")
        if agent and status and status != before:
            rows.append((float(at), "", "status", agent, status, before))
            current[agent] = status
    db.executemany("INSERT INTO audit (at, by, action, subject, value, previous) VALUES (?, ?, ?, ?, ?, ?)", rows)


# -- one index of messages by conversation (issue 9) ------------------------------------------------

def drop_messages_conversation(db: sqlite3.Connection) -> None:
    """Drop the earlier ``messages_conversation (conversation, id)``: ``messages_client``, over
    every message now (``create_schema`` made it again when its text changed), serves the reads
    by conversation too (issue 9). Decided by what the database holds, so one self-contained step
    wherever it is numbered; the schema's version stays (a fenliu of before, opening the database,
    makes both of its indexes again and works as it did)."""
    db.execute("DROP INDEX IF EXISTS messages_conversation")


# -- 6 -> 7: the agents' event log indexed by a mark in MARK_EVERY (issue 9) -----------------------

EVENT_TOPS = EVENT_TOPS_AFTER.format(after="0")
"""Each agent's last event number as the whole log has it (``agent_event_tops``, schema 7)."""


def event_marks(db: sqlite3.Connection) -> None:
    """Schema 7: take each agent's last event number into ``agent_event_tops`` (read once by the
    full index, while it is still there), then drop ``agent_events_seq (agent, seq)``:
    ``agent_events_mark``, made by ``create_schema``, serves a resume. Decided by the index's
    presence, so one self-contained step wherever it is numbered."""
    if db.execute("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'agent_events_seq'").fetchone() is None:
        return
    db.execute(EVENT_TOPS)
    db.execute("DROP INDEX agent_events_seq")


# -- the search index (schema 4) and the triggers ---------------------------------------------------

def index_messages(db: sqlite3.Connection) -> None:
    """Create the search index if any part of it is missing and backfill it (schema 4); index
    what a writer that bypassed ``flush`` left behind. Its triggers are replaced when their text
    changed (``replace_changed``)."""
    names = {"messages_fts", "messages_fts_delete", "messages_fts_update"}
    present = {str(r[0]) for r in db.execute(
        "SELECT name FROM sqlite_master WHERE name IN (?, ?, ?, ?)", (*sorted(names), "messages_fts_insert"))}
    if "messages_fts_insert" in present:  # the first version indexed each insert by a trigger
        db.execute("DROP TRIGGER messages_fts_insert")
    if names <= present:
        replace_changed(db, SEARCH_INDEX[1:])
        index_new_messages(db)
        return
    for statement in SEARCH_INDEX:
        db.execute(statement)
    db.execute("INSERT INTO messages_fts (messages_fts) VALUES ('rebuild')")


def index_new_messages(db: sqlite3.Connection) -> int:
    """Index every message after the highest indexed one; the number indexed (in the open
    transaction, if any)."""
    upto = int(db.execute(INDEXED_UPTO).fetchone()[0])
    top = db.execute("SELECT IFNULL(MAX(id), 0) FROM messages").fetchone()[0]
    if top <= upto:
        return 0
    cursor = db.execute("INSERT INTO messages_fts (rowid, text) SELECT id, text FROM messages"
                        " WHERE id > ? AND id <= ?", (upto, top))
    return int(cursor.rowcount)


def definition(sql: str) -> tuple[str, str, str, str] | None:
    """A CREATE TRIGGER/INDEX/VIEW as (kind, name, unique, rest), ``IF NOT EXISTS`` left out: the
    parts SQLite keeps in ``sqlite_master.sql`` (it drops that clause and spaces before the name)."""
    match = _CREATE.match(sql)
    if match is None:
        return None
    unique, kind, name, rest = match.groups()
    return kind.upper(), name, "UNIQUE" if unique else "", rest


def replace_changed(db: sqlite3.Connection, statements: tuple[str, ...] | list[str]) -> list[str]:
    """Run each CREATE of ``statements``; a trigger, index or view whose stored definition differs
    from the statement's is dropped first, so the code's text is the one in force. The names
    replaced."""
    replaced = []
    for statement in statements:
        wanted = definition(statement)
        if wanted is None:
            db.execute(statement)
            continue
        kind, name = wanted[0], wanted[1]
        row = db.execute("SELECT sql FROM sqlite_master WHERE type = ? AND name = ?", (kind.lower(), name)).fetchone()
        if row is not None and (row[0] is None or definition(str(row[0])) != wanted):
            db.execute(f"DROP {kind} {name}")
            replaced.append(name)
        db.execute(statement)
    return replaced


def wait_answered(db: sqlite3.Connection) -> None:
    """The trigger that answers a buyer's open wait (schema.py's ``WAIT_ANSWERED``), replaced when
    its text changed."""
    replace_changed(db, (WAIT_ANSWERED,))
