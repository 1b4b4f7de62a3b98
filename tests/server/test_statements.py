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

from collections.abc import Callable
from pathlib import Path

import pytest

from console.reception.model import Author
from console.routing.events import Status
from console.routing.policy import load_policy_toml
from console.server.bot import Bot
from console.server.conversations import ArriveAttrs
from console.server.driver import EngineDriver
from console.server.hub import Hub
from console.server.shop import Shop
from console.server.store import Store

from .helpers import POLICY, open_store, run

REQUEST_BUDGET = 9
"""Statements run one by one on the loop for one answered buyer message (its two requests):
SAVEPOINT, the message (INSERT ... ON CONFLICT DO NOTHING RETURNING), the row (upsert), RELEASE,
twice; and the KPI wait opened (the reply's insert answers it, the ``waits_answered`` trigger)."""

APPENDED = ("engine_log", "engine_log", "agent_events", "agent_events")
"""Rows appended per answered message, written at the commit: the two engine inputs, the agent's
one event per message (the message with its row)."""


def _ours(trace: list[str]) -> list[str]:
    statements: list[str] = []
    for statement in trace:
        if not statement.startswith("--") and (not statements or statements[-1] != statement):
            statements.append(statement)
    return statements


@pytest.mark.sqlite_only  # SQLite's trace callback; PostgreSQL's round trips: tests/server/test_shops.py
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


QUEUED_POLICY = """
preset = "douyin"
timezone = "Asia/Shanghai"
disconnect_grace = "1h"

[queue]
mode = "shop"

[[groups]]
id = "all"
cap = 1

[[agents]]
id = "a1"
name = "a1"
groups = ["all"]
cap = 1
"""

ARRIVE_BUDGET = 5
"""A buyer arriving at a full shop (it queues, R10.2), its row not in memory: SAVEPOINT, the row
read back, the decision (R2.3), the row written once (its arrive attributes and its holder),
RELEASE."""

CLOSE_BUDGET = 7
"""An agent closing a session whose freed slot takes the queue's head (R9.3): SAVEPOINT, two
decisions, two rows, the reception (the buyer's kind for the KPI book is the row's, no look-up),
RELEASE."""


@pytest.mark.sqlite_only
def test_an_arrive_and_a_close_at_a_peak_cost_a_counted_number_of_statements(tmp_path: Path) -> None:
    """The other requests of an 11.11 peak (issue 9): a new buyer who queues, a close that dequeues."""
    store = Store.open(tmp_path / "data", synchronous="NORMAL")
    shop = Shop(store, Hub(store), EngineDriver(store), Bot.from_file())

    def counted(request: Callable[[], object]) -> list[str]:
        seen: list[str] = []
        store.db.set_trace_callback(seen.append)
        with shop.atomic():
            request()
        store.db.set_trace_callback(None)
        return [s for s in _ours(seen) if s.split(None, 1)[0].upper() not in ("BEGIN", "COMMIT")]

    async def scenario() -> None:
        shop.start(load_policy_toml(QUEUED_POLICY), QUEUED_POLICY)
        with shop.atomic():
            shop.set_status("a1", Status.ONLINE)
        for buyer in ("b1", "b2"):
            with shop.atomic():
                shop.greet(buyer, "买家")
            await shop.committed()
        with shop.atomic():
            shop.buyer_arrives("b1", ArriveAttrs(entry="product_detail"))
        await shop.committed()
        arrive = counted(lambda: shop.buyer_arrives("b2", ArriveAttrs(entry="live", product="p9")))
        assert len(arrive) <= ARRIVE_BUDGET, "\n".join(arrive)
        await shop.committed()
        assert shop.current_routed("b2") is not None and shop.rows.get("b2") is not None
        stored = store.one("SELECT holder, arrive FROM conversations WHERE buyer = 'b2'")
        assert stored is not None and stored["holder"] == "queue:all" and b"p9" in stored["arrive"]
        close = counted(lambda: shop.agent_closes("a1", "b1", supervises=False))
        assert len(close) <= CLOSE_BUDGET, "\n".join(close)
        await shop.committed()
        assert store.one("SELECT holder FROM conversations WHERE buyer = 'b2'")["holder"] == "agent:a1"
        assert shop.tiles("a1").received_today == 2  # both receptions counted, b2's kind read off its row

    try:
        run(scenario())
    finally:
        store.close()


def _shop(store: Store) -> Shop:
    shop = Shop(store, Hub(store), EngineDriver(store), Bot.from_file())
    shop.start(load_policy_toml(POLICY), POLICY)
    with shop.atomic():
        shop.set_status("a1", Status.ONLINE)
    with shop.atomic():
        shop.greet("b1", "买家")
        shop.buyer_arrives("b1", ArriveAttrs(entry="product_detail"))
    return shop


def test_the_reply_that_ends_a_wait_is_the_one_stored_and_a_resend_ends_none(tmp_path: Path) -> None:
    """The ``waits_answered`` trigger (both stores): an agent's reply answers the buyer's open wait
    as it is stored; a resent reply (its client id already stored) stores nothing and answers
    nothing, not even a wait opened since; a bot's reply never answers; after a restart the open
    wait is read back as open."""
    store = open_store(tmp_path / "data", own=True, synchronous="NORMAL")

    def waits() -> list[tuple[str | None, float | None]]:
        return [(r[0], r[1]) for r in store.tuples("SELECT agent, answered FROM waits WHERE buyer = 'b1' ORDER BY id")]

    async def scenario() -> None:
        shop = _shop(store)
        with shop.atomic():
            shop.buyer_writes("b1", "在吗", "s1")
        with shop.atomic():
            assert shop.agent_replies("a1", "b1", "r1", "在的") == (2, False)
        await shop.committed()
        answered = waits()
        assert len(answered) == 1 and answered[0][0] == "a1" and answered[0][1] is not None
        with shop.atomic():
            shop.buyer_writes("b1", "还有货吗", "s2")  # a second wait opens
            row = shop.rows.get("b1")
            assert row is not None
            shop.holder_says(row, Author.BOT, "亲，有货的", holder=False)  # the bot's assist: no answer
        with shop.atomic():
            assert shop.agent_replies("a1", "b1", "r1", "在的") == (2, True)  # the first reply again
        await shop.committed()
        assert waits()[1] == ("a1", None)  # still open, in the database and in memory
        assert "b1" in shop.waits

    try:
        run(scenario())
    finally:
        store.close()
    store = open_store(tmp_path / "data", own=True, synchronous="NORMAL")
    try:
        reopened = Shop(store, Hub(store), EngineDriver(store), Bot.from_file())
        assert "b1" in reopened.waits  # read back open after a restart
    finally:
        store.close()
