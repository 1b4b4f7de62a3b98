"""SQL statements per answered buyer message (issue 9): counted, so the count cannot grow back.

A buyer ``say`` and the holding agent's ``reply``, each one request (``Shop.atomic``) as the
endpoints run them, on a real SQLite store; every statement SQLite runs is seen through
``sqlite3.Connection.set_trace_callback`` (statements FTS5 runs inside its own virtual table,
``-- ...``, are not ours and are left out; a trigger's are reported again with the text of the
statement that fired it, so a repeat of the same text in a row is one statement). Statements of a request run on the loop one by one;
rows added with ``Store.append`` are written at the commit, by one ``executemany`` per table and
batch (SQLite reports one execution per row), so they are counted apart.
"""

from __future__ import annotations

from pathlib import Path

from console.reception.model import Author
from console.routing.events import Status
from console.routing.policy import load_policy_toml
from console.server.bot import Bot
from console.server.conversations import ArriveAttrs
from console.server.driver import EngineDriver
from console.server.hub import Hub
from console.server.shop import Shop
from console.server.store import Store

from .helpers import POLICY, run

REQUEST_BUDGET = 9
"""Statements run one by one on the loop for one answered buyer message (its two requests):
SAVEPOINT, the message (INSERT ... ON CONFLICT DO NOTHING RETURNING), the row (upsert), RELEASE,
twice; and the KPI wait opened (the reply's insert answers it, the ``waits_answered`` trigger)."""

APPENDED = ("engine_log", "engine_log", "agent_events", "agent_events", "agent_events", "agent_events")
"""Rows appended per answered message, written at the commit: the two engine inputs, the agent's
two events per message (row and message)."""


def _ours(trace: list[str]) -> list[str]:
    statements: list[str] = []
    for statement in trace:
        if not statement.startswith("--") and (not statements or statements[-1] != statement):
            statements.append(statement)
    return statements


def test_an_answered_buyer_message_costs_a_counted_number_of_statements(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "data", synchronous="NORMAL")
    text = POLICY
    shop = Shop(store, Hub(store), EngineDriver(store), Bot.from_file())
    seen: list[str] = []

    async def scenario() -> None:
        policy = load_policy_toml(text)
        shop.start(policy, text)
        with shop.atomic():
            shop.set_status("a1", Status.ONLINE)
        with shop.atomic():
            account = shop.directory.greet("b1", "买家")
            row = shop.rows.ensure(account.id, account.name, account.kind)
            row.arrive = ArriveAttrs(entry="product_detail")
            shop.rows.save(row)
            shop.arrive(row, row.arrive, quiet=True)
        await shop.committed()
        for k in range(3):  # the first message of a session and the ones after it
            seen.clear()
            store.db.set_trace_callback(seen.append)
            with shop.atomic():
                row = shop.rows.get("b1")
                assert row is not None
                _, resent = shop.buyer_says(row, "还有货吗？", f"s{k}")
                assert not resent
            with shop.atomic():
                row = shop.rows.get("b1")
                assert row is not None and row.holder_agent == "a1"
                assert shop.holder_says(row, Author.AGENT, "有的", agent="a1", client_id=f"r{k}") is not None
            await shop.committed()
            store.db.set_trace_callback(None)
            statements = _ours(seen)
            in_requests, appended = [], []
            inside = False
            for statement in statements:
                word = statement.split(None, 1)[0].upper()
                if word == "SAVEPOINT":
                    inside = True
                if inside:
                    in_requests.append(statement)
                elif word == "INSERT" or word == "UPDATE":
                    appended.append(statement)
                if word == "RELEASE":
                    inside = False
            assert len(in_requests) <= REQUEST_BUDGET, "\n".join(in_requests)
            tables = sorted(s.split()[2] for s in appended if not s.startswith("INSERT INTO messages_fts"))
            assert tables == sorted(APPENDED), "\n".join(appended)
        waits = store.all("SELECT agent, answered FROM waits WHERE buyer = 'b1'")
        assert len(waits) == 3 and all(w["agent"] == "a1" and w["answered"] is not None for w in waits)

    try:
        run(scenario())
    finally:
        store.close()
