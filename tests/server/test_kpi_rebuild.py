"""The one-pass KPI rebuild gives exactly the per-agent recount it replaced; a late answer is
applied in place exactly as a recount would give it."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from console.reception.kpi import DayRange, OrderEvent, Rating, Reception, Wait, accumulate
from console.server.kpis import KpiBook, accumulate_today
from console.server.store import Store

from .helpers import open_store

DAY = DayRange(1000.0, 2000.0)
NOON = 1_763_035_200.0  # 2025-11-13 12:00 UTC: yesterday starts at 1_762_905_600
AGENTS = st.sampled_from(["a1", "a2", "a3"])
BUYERS = st.sampled_from([f"b{i}" for i in range(8)])
TIMES = st.floats(900.0, 2100.0).map(lambda t: round(t))
STATES = st.sampled_from(["unpaid", "paid", "shipped", "closed", "after_sale"])

receptions = st.lists(st.builds(Reception, AGENTS, BUYERS, TIMES), max_size=30)
orders = st.lists(st.builds(OrderEvent, BUYERS, STATES, TIMES), max_size=30).map(lambda os: sorted(os, key=lambda o: o.at))
ratings = st.lists(st.builds(Rating, AGENTS, st.integers(1, 5), TIMES), max_size=20)
waits = st.lists(st.builds(Wait, st.one_of(st.none(), AGENTS), TIMES,
                           st.one_of(st.none(), st.floats(0, 400).map(round))), max_size=20).map(
    lambda ws: [Wait(w.agent, w.start, None if w.answered is None else w.start + w.answered) for w in ws])


@settings(max_examples=300, deadline=None)
@given(receptions, orders)
def test_one_pass_today_equals_the_per_agent_recount(rs: list[Reception], os: list[OrderEvent]) -> None:
    agents, team = accumulate_today(DAY, rs, os)
    expected = {a: accumulate(a, DAY, rs, os) for a in {r.agent for r in rs if r.at in DAY}}
    assert agents == expected
    assert team == accumulate(None, DAY, rs, os)


@settings(max_examples=100, deadline=None)
@given(ratings, waits)
def test_quality_counted_by_sqlite_equals_the_per_agent_recount(gs: list[Rating], ws: list[Wait]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        store = open_store(Path(folder), synchronous="OFF")
        try:
            book = KpiBook(store, "UTC", NOON)
            day = book.yesterday
            shift = day.start - DAY.start  # the generated times, moved into the book's yesterday
            store.execute("INSERT INTO buyers (id, name, kind, created_at) VALUES ('b', 'b', 'consumer', 0)")
            store.executemany("INSERT INTO ratings (buyer, agent, score, at) VALUES ('b', ?, ?, ?)",
                              [(g.agent, g.score, g.at + shift) for g in gs])
            store.executemany("INSERT INTO waits (agent, buyer, started, answered) VALUES (?, 'b', ?, ?)",
                              [(w.agent, w.start + shift, None if w.answered is None else w.answered + shift)
                               for w in ws])
            store.flush()
            book.rebuild(NOON)
            moved_g = [Rating(g.agent, g.score, g.at + shift) for g in gs]
            moved_w = [Wait(w.agent, w.start + shift, None if w.answered is None else w.answered + shift) for w in ws]
            named = {g.agent for g in moved_g if g.at in day} | {
                w.agent for w in moved_w if w.agent is not None and w.start in day}
            assert book.agents_yesterday == {a: accumulate(a, day, ratings=moved_g, waits=moved_w) for a in named}
            assert book.team_yesterday == accumulate(None, day, ratings=moved_g, waits=moved_w)
        finally:
            store.close()


def test_a_late_answer_in_place_equals_a_recount(tmp_path: Path) -> None:
    store = open_store(tmp_path, synchronous="OFF")
    try:
        book = KpiBook(store, "Asia/Shanghai", 1_763_000_000.0)
        noon = (book.yesterday.start + book.yesterday.end) / 2
        rows = [("a1", "y1", noon, noon + 30), ("a1", "y2", noon, None), (None, "y3", noon + 5, None),
                ("a2", "y4", noon + 9, None)]
        store.executemany("INSERT INTO waits (agent, buyer, started, answered) VALUES (?, ?, ?, ?)", rows)
        store.flush()
        book.rebuild(1_763_000_000.0)
        now = book.today.start + 100
        for buyer, previous, started, agent in (("y2", "a1", noon, "a1"), ("y3", None, noon + 5, "a2"),
                                                ("y4", "a2", noon + 9, "a1")):
            store.execute("UPDATE waits SET agent = ?, answered = ? WHERE buyer = ?", (agent, now, buyer))
            book.wait_answered(agent, started, answered=now, previous=previous)
        store.flush()
        recount = KpiBook(store, "Asia/Shanghai", 1_763_000_000.0)
        assert book.team_yesterday == recount.team_yesterday
        for agent in ("a1", "a2"):
            assert book.tiles(agent) == recount.tiles(agent)
    finally:
        store.close()


@settings(max_examples=100, deadline=None)
@given(receptions, orders)
def test_live_receptions_and_orders_equal_the_recount(rs: list[Reception], os: list[OrderEvent]) -> None:
    """What the server does during the day (``reception`` and ``order`` as they happen: an order
    reaches every agent who received the buyer today) gives the figures a restart recounts."""
    with tempfile.TemporaryDirectory() as folder:
        store = Store(Path(folder) / "fenliu.db", synchronous="OFF")
        try:
            book = KpiBook(store, "UTC", NOON)
            shift = book.today.start - DAY.start
            day = DayRange(book.today.start, book.today.start + (DAY.end - DAY.start))
            moved_r = sorted((Reception(r.agent, r.buyer, r.at + shift) for r in rs if r.at in DAY),
                             key=lambda r: r.at)
            moved_o = [OrderEvent(o.buyer, o.state, o.at + shift) for o in os if o.at in DAY]
            timeline = sorted([(r.at, 0, i) for i, r in enumerate(moved_r)] + [(o.at, 1, i) for i, o in enumerate(moved_o)])
            for _, kind, i in timeline:
                if kind == 0:
                    book.reception(moved_r[i].agent, moved_r[i].buyer, moved_r[i].at)
                else:
                    book.order(moved_o[i].buyer, moved_o[i].state, moved_o[i].at)
            received = {r.agent for r in moved_r}
            assert book.agents_today == {a: accumulate(a, day, moved_r, moved_o) for a in received}
            assert book.team_today == accumulate(None, day, moved_r, moved_o)
        finally:
            store.close()
