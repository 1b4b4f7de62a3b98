"""The schema of a shop's database: its tables, indexes and triggers, as SQLite statements, and
its version. ``store.py`` runs them when it opens a database (``Store._migrate``, with the
steps that bring an older version up to this one, ``migrations.py``; a trigger or index whose
text here changed is replaced there, not skipped); ``pgstore.py`` adapts the same statements
to PostgreSQL (``schema_statement``) beside its own dialect's indexes and triggers. Kept here,
in the SQL's one home, so a table and every statement that reads or writes it are found
together (issue 9).
"""

from __future__ import annotations

SCHEMA_VERSION = 7

MARK_EVERY = 16
"""One event in this many of an agent's (its numbers 1, 17, 33, ...) is a mark, indexed by
(agent, seq) in ``agent_events_mark``: a resume finds the mark at or before the first number it
wants and reads forward by id from there (``repository/events.py``). A literal in the index and in
each query that uses it: a partial index serves only a query whose WHERE holds its condition.
16 rather than 64 (session 10): 500 resumes, each console 1 / 10 / 50 events behind, read the log
for 160 / 428 / 1,689 ms in all instead of 787 / 986 / 2,000 (and the 50-behind ones all replay,
where 131 got a snapshot), for 4.93 WAL frames per answered message against 4.80."""

EVENT_TOPS_AFTER = ("INSERT INTO agent_event_tops (agent, seq, id) SELECT agent, MAX(seq), MAX(id) FROM agent_events"
                    " WHERE id > {after} GROUP BY agent"
                    " ON CONFLICT (agent) DO UPDATE SET seq = excluded.seq, id = excluded.id")
"""Each agent's last event number, of the events after id ``{after}``, into ``agent_event_tops``
(schema 7): by each trim (``repository/events.py``, ``?``) and by the 6 -> 7 step over the whole
log (``0``: no placeholder, the same text on SQLite and PostgreSQL)."""

SCHEMA: tuple[str, ...] = (
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
    # which the section follows (console.reception.sections.section_of). For an open session the
    # per-message columns are as of the row's last save: a start folds in the messages after its
    # latest ids (conversations.py, issue 9); a row with no session is whole.
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
        client_id TEXT,
        kind TEXT NOT NULL DEFAULT 'text' CHECK (kind IN ('text', 'image', 'card')),
        body TEXT
    )""",
    # The one index of messages by conversation, with two jobs (issue 9: each b-tree keyed by
    # buyer dirties a random page per message at a commit). Idempotency (CONSOLE.md §5) is per
    # author: the buyer, or one agent account; a buyer's client_id never collides with an agent's
    # (issue 10). Over every message, not partial: NULL client ids (bot and system lines) are
    # distinct in a UNIQUE index, so it refuses only a resend. And every read of a conversation's
    # messages (history, the panel's counts, images) looks them up by its first column, then
    # sorts that conversation's rows by id (a temp b-tree of one conversation, not a table scan).
    # The earlier (conversation, id) index is dropped (migrations.drop_messages_conversation).
    """CREATE UNIQUE INDEX IF NOT EXISTS messages_client
        ON messages(conversation, author, IFNULL(agent, ''), client_id)""",
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
    # A rowid table: appends go to the end of one b-tree. An agent's events are in id order (the
    # hub numbers them in the order they are appended), so an agent's events after a number are
    # read as a range of ids from the mark at or before it (schema 7, issue 9: a full (agent, seq)
    # index dirtied a leaf per event, a third of an answered message's WAL frames).
    """CREATE TABLE IF NOT EXISTS agent_events (
        id INTEGER PRIMARY KEY,
        agent TEXT NOT NULL,
        seq INTEGER NOT NULL,
        at REAL NOT NULL,
        body BLOB NOT NULL
    )""",
    "CREATE UNIQUE INDEX IF NOT EXISTS agent_events_mark ON agent_events (agent, seq)"
    f" WHERE seq % {MARK_EVERY} = 1",
    # Each agent's last event number as of the event ``id`` (the highest ``id`` here is the last
    # event it accounts for; the events after it are read at start). Written with each trim, in its
    # batch: a start reads this and the few thousand events after it instead of the whole log, and
    # an agent whose events were all trimmed still goes on from its number (no repeats).
    """CREATE TABLE IF NOT EXISTS agent_event_tops (
        agent TEXT PRIMARY KEY,
        seq INTEGER NOT NULL,
        id INTEGER NOT NULL
    )""",
    # KPI facts (CONSOLE.md §3): who received whom when, and each buyer wait with its answer.
    """CREATE TABLE IF NOT EXISTS receptions (
        id INTEGER PRIMARY KEY,
        agent TEXT NOT NULL,
        buyer TEXT NOT NULL,
        at REAL NOT NULL
    )""",
    """CREATE INDEX IF NOT EXISTS receptions_at ON receptions(at)""",
    """CREATE INDEX IF NOT EXISTS receptions_buyer ON receptions(buyer, agent, at)""",  # a session's start
    # Whom an agent ever received: who may find a conversation by search (audience.finds, issue 13).
    """CREATE INDEX IF NOT EXISTS receptions_agent ON receptions(agent, buyer)""",
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
    # Open waits only (issue 9): the answer's trigger (``WAIT_ANSWERED``) and the start's
    # ``open_waits`` read it. Partial, it holds the few hundred waits open now instead of every
    # wait ever, so a commit's opens and answers land on a few pages, not one random page each.
    """CREATE INDEX IF NOT EXISTS waits_open ON waits(buyer) WHERE answered IS NULL""",
    # The buyer panel (issue 12, console/server/panel.py): what an order holds (the buyer side
    # may send it with a state update), and the notes and tags the shop's agents share.
    """CREATE TABLE IF NOT EXISTS order_details (
        order_id TEXT PRIMARY KEY REFERENCES orders(id),
        items TEXT,
        amount INTEGER
    )""",
    """CREATE TABLE IF NOT EXISTS buyer_notes (
        id INTEGER PRIMARY KEY,
        buyer TEXT NOT NULL REFERENCES buyers(id),
        text TEXT NOT NULL,
        by TEXT NOT NULL,
        at REAL NOT NULL
    )""",
    """CREATE INDEX IF NOT EXISTS buyer_notes_buyer ON buyer_notes(buyer, id)""",
    """CREATE TABLE IF NOT EXISTS buyer_tags (
        buyer TEXT NOT NULL REFERENCES buyers(id),
        tag TEXT NOT NULL,
        by TEXT NOT NULL,
        at REAL NOT NULL,
        PRIMARY KEY (buyer, tag)
    )""",
    # Quick replies (快捷短语, schema 5; console/server/phrases.py): owner '' is the team's set,
    # otherwise the account whose own phrase it is; position orders each owner's phrases.
    """CREATE TABLE IF NOT EXISTS phrases (
        id INTEGER PRIMARY KEY,
        owner TEXT NOT NULL,
        grp TEXT NOT NULL DEFAULT '',
        title TEXT NOT NULL,
        text TEXT NOT NULL,
        pinned INTEGER NOT NULL DEFAULT 0 CHECK (pinned IN (0, 1)),
        position INTEGER NOT NULL,
        updated_by TEXT NOT NULL,
        updated_at REAL NOT NULL
    )""",
    """CREATE INDEX IF NOT EXISTS phrases_owner ON phrases(owner, position)""",
    # The shop's catalogue (schema 6, issue 13; console/server/catalog.py): what `fenliu catalog
    # import` read, by product id; price in fen. A re-import updates the rows it names.
    """CREATE TABLE IF NOT EXISTS catalog (
        id TEXT PRIMARY KEY,
        title TEXT NOT NULL,
        price INTEGER NOT NULL,
        image TEXT NOT NULL DEFAULT '',
        url TEXT NOT NULL DEFAULT '',
        initials TEXT NOT NULL DEFAULT '',
        updated_at REAL NOT NULL
    )""",
    # The audit log (schema 6, issue 14; console/server/audit.py): who changed what, when. Each
    # row is written in the batch (and the request's savepoint) of the change it records.
    """CREATE TABLE IF NOT EXISTS audit (
        id INTEGER PRIMARY KEY,
        at REAL NOT NULL,
        by TEXT NOT NULL,
        action TEXT NOT NULL CHECK (action IN ('status', 'transfer', 'close', 'policy', 'account')),
        subject TEXT NOT NULL,
        value TEXT NOT NULL DEFAULT '',
        previous TEXT NOT NULL DEFAULT ''
    )""",
    """CREATE INDEX IF NOT EXISTS audit_at ON audit(at)""",
    """CREATE INDEX IF NOT EXISTS audit_status ON audit(subject, at) WHERE action = 'status'""",
    # Search (issue 13, console/server/search.py): a trigram index over message text, as an
    # external-content table (the text is stored once, in messages) brought up to date at a
    # commit at most four times a second, so every insert path is covered; a search scans the newer
    # messages itself. Created and backfilled on open (migrations.index_messages, ``SEARCH_INDEX``).
)

SEARCH_INDEX: tuple[str, ...] = (
    """CREATE VIRTUAL TABLE IF NOT EXISTS messages_fts
        USING fts5(text, content='messages', content_rowid='id', tokenize='trigram')""",
    # Deletes and edits of indexed messages keep the index true (none of the server's paths do
    # either today); a message not indexed yet has nothing to take out.
    """CREATE TRIGGER IF NOT EXISTS messages_fts_delete AFTER DELETE ON messages
        WHEN old.id <= (SELECT IFNULL(MAX(id), 0) FROM messages_fts_docsize) BEGIN
        INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.id, old.text);
    END""",
    """CREATE TRIGGER IF NOT EXISTS messages_fts_update AFTER UPDATE OF text ON messages
        WHEN old.id <= (SELECT IFNULL(MAX(id), 0) FROM messages_fts_docsize) BEGIN
        INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.id, old.text);
        INSERT INTO messages_fts (rowid, text) VALUES (new.id, new.text);
    END""",
)
"""The search index (schema 4). Idempotent: a database that lacks the table or any trigger gets
them and a full rebuild from ``messages``, whatever version another migration left behind.

New messages are not indexed one by one by a trigger (the insert trigger of the first version,
dropped when found): ``index_new_messages`` adds every message not indexed yet in one statement,
at a commit at most once every ``Store.INDEX_EVERY`` (0.25 s) and at start, so what the index
lacks is the messages of at most a quarter second of commits, which a search scans itself
(``search_sql.messages_like_in``, by id, after the highest indexed one). One ``INSERT ... SELECT`` per batch
costs a third of a trigger run per message (FTS5 tokenizes the same text either way; the per-row
trigger and virtual-table calls are what a batch saves: 18 against 6 us a message, 40 messages a
commit, measured); indexing every 0.25 s instead of at every commit took the shop's CPU per
answered message to 0.81x (issue 9: FTS5 writes a segment per indexing and merges them)."""

WAIT_ANSWERED = """CREATE TRIGGER IF NOT EXISTS waits_answered AFTER INSERT ON messages
    WHEN new.author = 'agent' AND new.agent IS NOT NULL BEGIN
    UPDATE waits SET agent = new.agent, answered = new.at
        WHERE id = (SELECT MAX(id) FROM waits WHERE buyer = new.conversation AND answered IS NULL);
END"""
"""CONSOLE.md §3: an agent's message answers the buyer's open wait, in the statement that stores
it (issue 9: one statement a reply instead of two; ``Shop._answer_waits`` keeps the memory and the
KPI book). A message stored once per client id (``ON CONFLICT DO NOTHING``) answers nothing when
resent: no row is inserted, the trigger does not run. Bot and system lines never answer. The
newest open wait is the one (``Shop.waits`` holds one per buyer, the newest). Created after the
migrations that rebuild ``messages``, so it is always on the table in use; PostgreSQL has its own
(``repository/pg.py``, ``WAIT_ANSWERED_PG``)."""
