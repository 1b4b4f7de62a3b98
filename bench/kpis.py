"""KPI rebuild at start and at local midnight: the per-agent recount against the one-pass rebuild.

    python -m bench.kpis [--buyers 100000] [--agents 500] [--rounds 2]

Builds a data folder (temporary) with ``--buyers`` buyers received today by ``--agents`` agents
(30 % place an order, half of those pay), and a rating and a wait per buyer yesterday and today (what
the start and the midnight roll read for the yesterday tiles).
Then, interleaved in the same run: ``KpiBook`` as it is (one pass), and the recount it replaced
(``accumulate`` once per agent over the whole day, kept here as the baseline), each at start and
for the midnight roll (the day after, with the same facts now "yesterday"). The last line is one
JSON object with the medians.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

from console.reception.kpi import OrderEvent, Rating, Reception, Wait, accumulate
from console.server.kpis import KpiBook, day_of, previous_day
from console.server.store import Store

ZONE = "Asia/Shanghai"


def _build(store: Store, buyers: int, agents: int, now: float) -> None:
    today = day_of(now, ZONE)
    yesterday_noon = today.start - 12 * 3600
    rng = random.Random(1)
    span = now - today.start
    store.executemany("INSERT INTO buyers (id, name, kind, created_at) VALUES (?, ?, 'consumer', 0)",
                      ((f"b{i}", f"b{i}") for i in range(buyers)))
    receptions = [(f"a{rng.randrange(agents)}", f"b{i}", today.start + rng.random() * span) for i in range(buyers)]
    store.executemany("INSERT INTO receptions (agent, buyer, at) VALUES (?, ?, ?)", receptions)
    orders = []
    for _, buyer, at in receptions:
        if rng.random() < 0.3:
            orders.append((buyer, "o" + buyer, "unpaid", min(now, at + 60)))
            if rng.random() < 0.5:
                orders.append((buyer, "o" + buyer, "paid", min(now, at + 120)))
    store.executemany("INSERT INTO order_events (buyer, order_id, state, at) VALUES (?, ?, ?, ?)", orders)
    for noon in (yesterday_noon, yesterday_noon + 24 * 3600):  # yesterday's (start) and today's (midnight)
        store.executemany("INSERT INTO ratings (buyer, agent, score, at) VALUES (?, ?, ?, ?)",
                          ((f"b{i}", f"a{i % agents}", 1 + i % 5, noon) for i in range(buyers)))
        store.executemany("INSERT INTO waits (agent, buyer, started, answered) VALUES (?, ?, ?, ?)",
                          ((f"a{i % agents}", f"b{i}", noon, noon + i % 300) for i in range(buyers)))
    store.flush()


def _per_agent(store: Store, now: float) -> float:
    """The rebuild as it was (kpis.py before issue 9): ``accumulate`` once per agent, both days."""
    started = time.perf_counter()
    today = day_of(now, ZONE)
    yesterday = previous_day(today, ZONE)
    receptions = [Reception(str(r["agent"]), str(r["buyer"]), float(r["at"])) for r in store.all(
        "SELECT agent, buyer, at FROM receptions WHERE at >= ? AND at < ? ORDER BY at, id", (today.start, today.end))]
    orders = [OrderEvent(str(r["buyer"]), str(r["state"]), float(r["at"])) for r in store.all(
        "SELECT buyer, state, at FROM order_events WHERE at >= ? AND at < ? ORDER BY at, id", (today.start, today.end))]
    for agent in {r.agent for r in receptions}:
        accumulate(agent, today, receptions, orders)
    accumulate(None, today, receptions, orders)
    ratings = [Rating(str(r["agent"]), int(r["score"]), float(r["at"])) for r in store.all(
        "SELECT agent, score, at FROM ratings WHERE agent IS NOT NULL AND at >= ? AND at < ?",
        (yesterday.start, yesterday.end))]
    waits = [Wait(r["agent"], float(r["started"]), r["answered"]) for r in store.all(
        "SELECT agent, started, answered FROM waits WHERE started >= ? AND started < ?", (yesterday.start, yesterday.end))]
    for agent in {g.agent for g in ratings} | {w.agent for w in waits if w.agent is not None}:
        accumulate(agent, yesterday, ratings=ratings, waits=waits)
    accumulate(None, yesterday, ratings=ratings, waits=waits)
    return time.perf_counter() - started


def _per_agent_midnight(store: Store, now: float) -> float:
    return _per_agent(store, day_of(now, ZONE).end + 1)


def _one_pass(store: Store, now: float) -> float:
    started = time.perf_counter()
    KpiBook(store, ZONE, now)
    return time.perf_counter() - started


def _roll(store: Store, now: float) -> float:
    book = KpiBook(store, ZONE, now)
    started = time.perf_counter()
    book.roll_if_needed(book.today.end + 1)  # today's facts become yesterday's
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--buyers", type=int, default=100_000)
    parser.add_argument("--agents", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    now = day_of(time.time(), ZONE).start + 20 * 3600  # 20:00 today: a full day of facts
    with tempfile.TemporaryDirectory() as folder:
        store = Store(Path(folder) / "fenliu.db", synchronous="OFF")
        _build(store, args.buyers, args.agents, now)
        cases = (("per_agent_start_s", _per_agent), ("one_pass_start_s", _one_pass),
                 ("per_agent_midnight_s", _per_agent_midnight), ("one_pass_midnight_s", _roll))
        figures: dict[str, list[float]] = {name: [] for name, _ in cases}
        for n in range(args.rounds):
            for name, measure in cases if n % 2 == 0 else cases[::-1]:
                seconds = measure(store, now)
                figures[name].append(seconds)
                print(json.dumps({"round": n, name: round(seconds, 3)}))
        store.close()
    print(json.dumps({"buyers": args.buyers, "agents": args.agents,
                      **{k: round(statistics.median(v), 3) for k, v in figures.items()}}))


if __name__ == "__main__":
    main()
