"""The SQL of each agent's numbered event log (``agent_events``), read back on a console's resume.
Numbering, delivery and trimming policy are ``console.server.hub``'s."""

from __future__ import annotations

from console.server.store import Store


def last_event_seqs(store: Store) -> dict[str, int]:
    """Each agent's highest logged event number."""
    return {str(r["agent"]): int(r["seq"])
            for r in store.all("SELECT agent, MAX(seq) AS seq FROM agent_events GROUP BY agent")}


def append_event(store: Store, agent: str, seq: int, body: bytes) -> None:
    """Log an agent's event with the batch's appended rows (one statement at its commit)."""
    store.append("INSERT INTO agent_events (agent, seq, at, body) VALUES (?, ?, 0, ?)", (agent, seq, body))


def events_between(store: Store, agent: str, after: int, upto: int) -> list[tuple[int, bytes]]:
    """(seq, body) of the agent's events numbered in (after, upto], in order."""
    return [(int(r["seq"]), bytes(r["body"])) for r in store.all(
        "SELECT seq, body FROM agent_events WHERE agent = ? AND seq > ? AND seq <= ? ORDER BY seq",
        (agent, after, upto))]


def trim_events(store: Store, agent: str, upto: int) -> None:
    """Delete the agent's events numbered up to ``upto``."""
    store.execute("DELETE FROM agent_events WHERE agent = ? AND seq <= ?", (agent, upto))
