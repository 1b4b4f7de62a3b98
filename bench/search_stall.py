"""How long a search holds the server's event loop (issue 13): on the loop against in a thread.

    .venv/bin/python bench/search_stall.py --json                  # bench/search.py's 1,000,000 messages
    .venv/bin/python bench/search_stall.py --json --messages 100000

The database is bench/search.py's (built there once, cached under ``/tmp/fenliu-bench-search/``;
copied to ``/tmp/fenliu-bench-search-stall/`` before use, as opening it migrates it),
the queries its plan (names, order numbers, products, Chinese words, two-character scans), each as
a supervisor (the whole shop) and as one agent, through the server's own path: the candidate
rows and the scope (``Conversations.searchable``), then the search. A ticker task on the loop wakes every millisecond
and records how late it woke: that lateness is what every other request of the shop (a reply, a
push) would wait while the search runs. Two modes, interleaved query by query in the same run:
``on_loop`` (``searchable`` and ``MessageSearch.find``: every statement on the loop, as before)
and ``threaded`` (as ``AgentSide._search`` now: ``search_candidates`` and ``find_async`` run
their SQL in a worker thread on the read-only connection; merging the rows with memory and
assembling the hits stay on the loop). One JSON line per mode, then the last line
``{"messages": N, "searches": n, "on_loop_stall_p99_ms": x, "threaded_stall_p99_ms": y, ...}``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from search import CACHE, HITS, p99, queries  # noqa: E402  (bench/search.py: the same database and plan)

from console.protocol.messages import MAX_SEARCH_HITS  # noqa: E402
from console.server.conversations import Conversations, search_candidates  # noqa: E402
from console.server.repository import Repository  # noqa: E402
from console.server.search import MessageSearch, like_pattern  # noqa: E402
from console.server.store import Store  # noqa: E402

TICK = 0.001
OWN = Path("/tmp/fenliu-bench-search-stall")


async def _ticker(lags: list[float], stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        due = loop.time() + TICK
        await asyncio.sleep(TICK)
        lags.append(max(0.0, loop.time() - due) * 1000)


async def run(path: Path, rounds: int) -> dict[str, object]:
    store = Store(path, synchronous="OFF")
    conversations = Conversations(store)
    search = MessageSearch(store)
    plan = queries(store, random.Random(11), rounds)
    for _kind, q in plan[:12]:  # warm the page cache (both connections)
        rows, scope = conversations.searchable(None, like_pattern(q), MAX_SEARCH_HITS)
        search.find(q, rows=rows, scope=scope, asker="sup", limit=HITS)
        await search.find_async(q, rows=rows, scope=scope, asker="sup", limit=HITS)
    stalls: dict[str, list[float]] = {"on_loop": [], "threaded": []}
    took: dict[str, list[float]] = {"on_loop": [], "threaded": []}
    by_scope: dict[str, list[float]] = {}
    for who, asker in (("supervisor", None), ("agent", "a3")):
        for _kind, q in plan:
            for mode in ("on_loop", "threaded") if random.random() < 0.5 else ("threaded", "on_loop"):
                lags: list[float] = []
                stop = asyncio.Event()
                ticker = asyncio.create_task(_ticker(lags, stop))
                await asyncio.sleep(0.003)  # the ticker is running
                started = time.perf_counter()
                if mode == "on_loop":  # all of it on the loop, as before
                    rows, scope = conversations.searchable(asker, like_pattern(q), MAX_SEARCH_HITS)
                    search.find(q, rows=rows, scope=scope, asker=asker or "sup", limit=HITS)
                else:  # as AgentSide._search now: every SQL statement in the worker thread
                    reader = search.reader()
                    found = await asyncio.to_thread(reader.run, lambda src, q=q, asker=asker: search_candidates(
                        Repository(src), asker, like_pattern(q), MAX_SEARCH_HITS, ()))
                    rows, scope = conversations.merge_candidates(asker, found)
                    await search.find_async(q, rows=rows, scope=scope, asker=asker or "sup", limit=HITS)
                took[mode].append((time.perf_counter() - started) * 1000)
                await asyncio.sleep(0.003)
                stop.set()
                await ticker
                stalls[mode].append(max(lags, default=0.0))  # the longest the loop was held
                by_scope.setdefault(f"{mode}:{who}", []).append(stalls[mode][-1])
    messages = int(store.one("SELECT COUNT(*) FROM messages")[0])  # type: ignore[index]
    search.close()
    store.close()
    for key, samples in by_scope.items():
        print(json.dumps({"stall": key, "p50_ms": round(statistics.median(samples), 2),
                          "p99_ms": round(p99(samples), 2)}))
    for mode in stalls:
        print(json.dumps({"mode": mode, "searches": len(stalls[mode]),
                          "stall_p50_ms": round(statistics.median(stalls[mode]), 2),
                          "stall_p99_ms": round(p99(stalls[mode]), 2), "stall_max_ms": round(max(stalls[mode]), 2),
                          "search_p50_ms": round(statistics.median(took[mode]), 2),
                          "search_p99_ms": round(p99(took[mode]), 2)}))
    return {"messages": messages, "searches": len(stalls["on_loop"]),
            "on_loop_stall_p99_ms": round(p99(stalls["on_loop"]), 2),
            "threaded_stall_p99_ms": round(p99(stalls["threaded"]), 2),
            "on_loop_stall_max_ms": round(max(stalls["on_loop"]), 2),
            "threaded_stall_max_ms": round(max(stalls["threaded"]), 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=20, help="queries of each kind, per scope")
    parser.add_argument("--json", action="store_true", help="JSON lines (the default output too)")
    args = parser.parse_args()
    shared = CACHE / str(args.messages) / "fenliu.db"
    if not shared.exists():
        sys.exit(f"no database at {shared}: run bench/search.py --messages {args.messages} first (it builds it)")
    path = OWN / str(args.messages) / "fenliu.db"
    if not path.exists():  # a copy: opening it migrates it, and other checkouts may read the shared one
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shared, path.with_suffix(".copying"))
        path.with_suffix(".copying").rename(path)
    print(json.dumps(asyncio.run(run(path, args.rounds))))


if __name__ == "__main__":
    main()
