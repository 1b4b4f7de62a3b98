"""Search over a shop's history (issue 13): the trigram index against a plain LIKE scan.

    .venv/bin/python bench/search.py --json                 # 1,000,000 messages
    .venv/bin/python bench/search.py --json --messages 100000

The database is made once per size under ``/tmp/fenliu-bench-search/`` (the server's own schema,
through ``Store``, so the search triggers index every message as it is inserted) and reused. The
text is ordinary Taobao-style shop chat from ``console/sim/phrases.py``: buyers' questions and
follow-ups, agents' answers, order numbers and product links in some lines. One buyer in twenty
has a conversation of ~20 messages; every other buyer has an order.

Queries, in rounds: a buyer name (part of it), an order number (whole, and its last 8 digits), a
product id, Chinese words of three or more characters, and two-character words (answered by the
bounded newest-first scan, see ``console/server/search.py``). Each is run as a supervisor (the
whole shop) and as one agent (its ~5% of the conversations, the who-sees scope), 30 hits.
Baseline, same run, same queries: ``LIKE '%q%'`` over messages (newest 30), buyer names and
order numbers, which is what search would cost without the index.

One JSON line per query kind, then the last line ``{"messages": N, "p99_ms": x, "like_p99_ms": x}``.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from console.server.conversations import Conversations
from console.server.search import MessageSearch, like_pattern
from console.server.store import Store
from console.sim import phrases

CACHE = Path("/tmp/fenliu-bench-search")
AGENTS = 20
PRODUCTS = 400
MESSAGES_PER_BUYER = 20
HITS = 30


def _order_id(rng: random.Random) -> str:
    return f"2026{rng.randrange(10**13, 10**14)}"


def build(path: Path, messages: int, seed: int = 7) -> None:
    """Make the database: buyers, their conversation rows and orders, then the messages."""
    rng = random.Random(seed)
    store = Store(path, synchronous="OFF")
    db = store.db
    buyers = max(1, messages // MESSAGES_PER_BUYER)
    names: list[str] = []
    db.execute("BEGIN")
    for i in range(buyers):
        surname = rng.choice(phrases.SURNAMES)
        name = rng.choice(phrases.NICKNAMES).format(surname) + f"_{rng.randrange(10000):04d}"
        names.append(name)
        bid = f"b{i:07d}"
        db.execute("INSERT INTO buyers (id, name, kind, created_at) VALUES (?, ?, 'consumer', 0)", (bid, name))
        product = f"p-{rng.randrange(PRODUCTS):04d}"
        db.execute("INSERT INTO conversations (buyer, holder, agent, last_at, arrive) VALUES (?, NULL, ?, ?, ?)",
                   (bid, f"a{i % AGENTS}", float(i), json.dumps({"entry": "product_detail", "product": product})))
    orders: list[tuple[str, str]] = []
    for i in range(0, buyers, 2):
        order = _order_id(rng)
        orders.append((order, f"b{i:07d}"))
        db.execute("INSERT INTO orders (id, buyer, state, updated_at) VALUES (?, ?, 'paid', ?)", (order, f"b{i:07d}", float(i)))
    db.execute("COMMIT")
    order_of = {buyer: order for order, buyer in orders}
    questions = [q for qs in phrases.QUESTIONS.values() for q in qs]
    answers = [a for xs in phrases.AGENT_ANSWERS.values() for a in xs]
    buyer_lines = questions + list(phrases.FOLLOW_UPS) + list(phrases.GREETINGS) + list(phrases.ORDERED) + list(phrases.PAID)
    agent_lines = answers + list(phrases.AGENT_OPENERS) + list(phrases.AGENT_CLOSINGS)

    def rows() -> Any:
        for n in range(messages):
            i = n // MESSAGES_PER_BUYER
            bid = f"b{min(i, buyers - 1):07d}"
            if n % 2 == 0:
                text = rng.choice(buyer_lines)
                roll = rng.random()
                if roll < 0.05 and bid in order_of:
                    text = f"订单号{order_of[bid]}，{text}"
                elif roll < 0.10:
                    text = f"{text} https://item.example.com/p-{rng.randrange(PRODUCTS):04d}"
                yield (bid, "buyer", text, float(n), None)
            else:
                yield (bid, "agent", rng.choice(agent_lines), float(n), f"a{i % AGENTS}")

    batch: list[tuple[Any, ...]] = []
    db.execute("BEGIN")
    for row in rows():
        batch.append(row)
        if len(batch) == 10_000:
            db.executemany("INSERT INTO messages (conversation, author, text, at, agent) VALUES (?, ?, ?, ?, ?)", batch)
            batch.clear()
    if batch:
        db.executemany("INSERT INTO messages (conversation, author, text, at, agent) VALUES (?, ?, ?, ?, ?)", batch)
    db.execute("COMMIT")
    db.execute("PRAGMA optimize")
    store.close()


def queries(store: Store, rng: random.Random, rounds: int) -> list[tuple[str, str]]:
    names = [str(r[0]) for r in store.all("SELECT name FROM buyers ORDER BY random() LIMIT ?", (rounds,))]
    orders = [str(r[0]) for r in store.all("SELECT id FROM orders ORDER BY random() LIMIT ?", (rounds,))]
    words3 = ["有优惠券", "尺码怎么选", "几天发货", "申请退款", "顺丰", "褪色吗", "收货地址", "直播间", "质检报告", "没有这个词"]
    words2 = ["退款", "发票", "破损", "赠品", "快递", "颜色"]
    out: list[tuple[str, str]] = []
    for k in range(rounds):
        name = names[k % len(names)]
        out.append(("name", name[-6:]))  # e.g. 王女士_0421 -> 女士_0421
        order = orders[k % len(orders)]
        out.append(("order", order))
        out.append(("order_tail", order[-8:]))
        out.append(("product", f"p-{rng.randrange(PRODUCTS):04d}"))
        out.append(("word", rng.choice([w for w in words3 if len(w) >= 3])))
        out.append(("word2", rng.choice(words2)))
    return out


def like_baseline(store: Store, q: str, scope: list[str] | None) -> int:
    """What a search costs without the index: LIKE over messages, names and order numbers."""
    pattern = like_pattern(q)
    clause, args = ("", ()) if scope is None else (
        " AND conversation IN (SELECT value FROM json_each(?))", (json.dumps(scope),))
    n = len(store.all(f"SELECT id FROM messages WHERE text LIKE ? ESCAPE '\\'{clause} ORDER BY id DESC LIMIT ?",
                      (pattern, *args, HITS + 1)))
    n += len(store.all("SELECT id FROM buyers WHERE name LIKE ? ESCAPE '\\' LIMIT ?", (pattern, HITS)))
    n += len(store.all("SELECT id FROM orders WHERE id LIKE ? ESCAPE '\\' LIMIT ?", (pattern, HITS)))
    return n


def p99(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=40, help="queries of each kind, per scope")
    parser.add_argument("--json", action="store_true", help="JSON lines (the default output too)")
    args = parser.parse_args()
    path = CACHE / str(args.messages) / "fenliu.db"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        partial = path.with_suffix(".building")
        for leftover in partial.parent.glob(partial.name + "*"):
            leftover.unlink()
        build(partial, args.messages)
        partial.rename(path)
        print(json.dumps({"built": str(path), "seconds": round(time.perf_counter() - started, 1)}), file=sys.stderr)
    store = Store(path, synchronous="OFF")
    rows = {r.buyer: r for r in Conversations(store).repo.rows_named("%", 10_000_000)}  # every row, as a server holds or reads them
    search = MessageSearch(store)
    scope = [b for b, row in rows.items() if row.agent == "a3"]  # what Shop.visible_to gives agent a3 here
    rng = random.Random(11)
    plan = queries(store, rng, args.rounds)
    for _kind, q in plan[:12]:  # warm the page cache, as a running server's would be
        search.find(q, rows=rows, scope=None, asker="sup", limit=HITS)
        like_baseline(store, q, None)
    by_kind: dict[str, list[float]] = {}
    like_by_kind: dict[str, list[float]] = {}
    hits_by_kind: dict[str, int] = {}
    every: list[float] = []
    like_every: list[float] = []
    for who, where in (("supervisor", None), ("agent", scope)):
        for kind, q in plan:
            key = f"{who}:{kind}"
            t0 = time.perf_counter()
            page = search.find(q, rows=rows, scope=where, asker="a3", limit=HITS)
            t1 = time.perf_counter()
            like_baseline(store, q, where)
            t2 = time.perf_counter()
            by_kind.setdefault(key, []).append((t1 - t0) * 1000)
            like_by_kind.setdefault(key, []).append((t2 - t1) * 1000)
            hits_by_kind[key] = hits_by_kind.get(key, 0) + len(page.hits)
            every.append((t1 - t0) * 1000)
            like_every.append((t2 - t1) * 1000)
    for key, samples in by_kind.items():
        print(json.dumps({"queries": key, "n": len(samples), "hits_avg": round(hits_by_kind[key] / len(samples), 1),
                          "p50_ms": round(statistics.median(samples), 2), "p99_ms": round(p99(samples), 2),
                          "like_p50_ms": round(statistics.median(like_by_kind[key]), 2),
                          "like_p99_ms": round(p99(like_by_kind[key]), 2)}))
    messages = int(store.one("SELECT COUNT(*) FROM messages")[0])  # type: ignore[index]
    store.close()
    print(json.dumps({"messages": messages, "p99_ms": round(p99(every), 2), "like_p99_ms": round(p99(like_every), 2)}))


if __name__ == "__main__":
    main()
