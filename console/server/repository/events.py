"""The SQL of each agent's numbered event log (``agent_events``), read back on a console's resume.
Numbering, delivery and trimming policy are ``console.server.hub``'s.

An agent's events are in id order (the hub numbers them in the order they are appended), and one
in ``MARK_EVERY`` of them is indexed by (agent, seq) (``agent_events_mark``, schema 7): a read of an
agent's events after a number looks up the mark at or before it, then reads forward by id, a
range of the table's own b-tree. Each agent's last number is kept in ``agent_event_tops`` as of
an event id, updated with each trim: a start reads it and the events after that id.
"""

from __future__ import annotations

from console.server.repository.schema import EVENT_TOPS_AFTER, MARK_EVERY
from console.server.store import Store


def last_event_seqs(store: Store) -> dict[str, int]:
    """Each agent's highest logged event number: the kept tops, then the events logged after the
    id they were taken at (those of the last ``trim_events`` or fewer: a start does not read the
    whole log)."""
    last: dict[str, int] = {}
    upto = 0
    for r in store.all("SELECT agent, seq, id FROM agent_event_tops"):
        last[str(r["agent"])] = int(r["seq"])
        upto = max(upto, int(r["id"]))
    for r in store.all("SELECT agent, MAX(seq) AS seq FROM agent_events WHERE id > ? GROUP BY agent", (upto,)):
        last[str(r["agent"])] = int(r["seq"])
    return last


def append_event(store: Store, agent: str, seq: int, body: bytes) -> None:
    """Log an agent's event with the batch's appended rows (one statement at its commit)."""
    store.append("INSERT INTO agent_events (agent, seq, at, body) VALUES (?, ?, 0, ?)", (agent, seq, body))


def events_between(store: Store, agent: str, after: int, upto: int, within: int) -> list[bytes] | None:
    """The bodies of the agent's events numbered in (after, upto], in order; None when the log no
    longer holds them all (trimmed), or when they are not within ``within`` event ids of the mark
    at or before ``after + 1`` (the scan reads every agent's events in that range: the bound is its
    cost)."""
    if upto <= after:
        return []
    mark = after // MARK_EVERY * MARK_EVERY + 1  # numbers 1, 1 + MARK_EVERY, ...: at or before after + 1
    found = store.all(f"SELECT id FROM agent_events WHERE agent = ? AND seq = ? AND seq % {MARK_EVERY} = 1",
                      (agent, mark))
    if not found:
        return None
    start = int(found[0]["id"])
    rows = store.all("SELECT seq, body FROM agent_events WHERE id >= ? AND id < ? AND agent = ? AND seq > ? AND seq <= ?"
                     " ORDER BY id LIMIT ?", (start, start + within, agent, after, upto, upto - after))
    if [int(r["seq"]) for r in rows] != list(range(after + 1, upto + 1)):
        return None
    return [bytes(r["body"]) for r in rows]


def trim_events(store: Store, keep: int, most: int) -> None:
    """Take each agent's last number into ``agent_event_tops`` up to the newest logged event, then
    delete the events older than the newest ``keep`` ids, at most ``most`` ids of them (a range at
    the start of the table: a log of before, larger, shrinks over several trims instead of in one
    long statement), in the current batch: the tops and the deletion commit together."""
    top = int(store.all("SELECT IFNULL(MAX(id), 0) AS id FROM agent_event_tops")[0]["id"])
    store.execute(EVENT_TOPS_AFTER.format(after="?"), (top,))
    ends = store.all("SELECT (SELECT IFNULL(MIN(id), 0) FROM agent_events) AS first,"  # each a b-tree's edge
                     " (SELECT IFNULL(MAX(id), 0) FROM agent_events) AS last")[0]
    cut = min(int(ends["last"]) - keep + 1, int(ends["first"]) + most)  # one bound: one range of ids
    store.execute("DELETE FROM agent_events WHERE id < ?", (cut,))
