"""The SQL of ``fenliu sim backfill``: a simulated yesterday (``console.sim.backfill``) written
as the rows a served day leaves, so the KPI tiles and the report have a day before to show."""

from __future__ import annotations

from console.server.store import Store
from console.sim.backfill import Yesterday


def write_yesterday(store: Store, day: Yesterday, start: float) -> None:
    """Add the day's buyers (created at ``start``; known ones stay), receptions, messages, waits,
    ratings, order events and orders' latest states, in the store's current batch."""
    store.executemany("INSERT OR IGNORE INTO buyers (id, name, kind, created_at) VALUES (?, ?, 'consumer', ?)",
                      [(buyer, name, start) for buyer, name in day.buyers])
    store.executemany("INSERT INTO receptions (agent, buyer, at) VALUES (?, ?, ?)", day.receptions)
    store.executemany("INSERT INTO messages (conversation, author, text, at, agent) VALUES (?, ?, ?, ?, ?)",
                      [(m.buyer, m.author, m.text, m.at, m.agent) for m in day.messages])
    store.executemany("INSERT INTO waits (agent, buyer, started, answered) VALUES (?, ?, ?, ?)",
                      [(w.agent, w.buyer, w.started, w.answered) for w in day.waits])
    store.executemany("INSERT INTO ratings (buyer, agent, score, at) VALUES (?, ?, ?, ?)",
                      [(r.buyer, r.agent, r.score, r.at) for r in day.ratings])
    store.executemany("INSERT INTO order_events (buyer, order_id, state, at) VALUES (?, ?, ?, ?)",
                      [(o.buyer, o.order, o.state, o.at) for o in day.orders])
    store.executemany(
        "INSERT INTO orders (id, buyer, state, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT(id) DO UPDATE"
        " SET state = excluded.state, updated_at = excluded.updated_at",
        [(o.order, o.buyer, o.state, o.at) for o in day.orders],
    )
