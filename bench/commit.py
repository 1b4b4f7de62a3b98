"""Loop time spent committing: SQLite's fsync in COMMIT (as before) against the WAL-sync thread.

    python -m bench.commit [--batches 2000] [--rounds 3]

Each batch is what a loop turn of the server writes for an answered buyer message (about eight
rows), followed by a ``committed()`` wait, as an endpoint does before it replies. The two variants
run interleaved in the same process, each on its own fresh database in one folder:

- ``inline``: ``PRAGMA synchronous=FULL``, COMMIT fsyncs on the loop (the server before).
- ``thread``: ``Store(synchronous="FULL")``: COMMIT without fsync, the fsync in a thread.

Printed per variant: loop milliseconds spent in ``Store.flush`` per batch (p50, p99, total share of
the run), the wait from the batch's first write to its ``committed()`` (p50, p99) and the process's
CPU time per batch (every thread, the fsync's included). The last line
is one JSON object with the medians over rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

from console.server.store import Store


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _round(path: Path, variant: str, batches: int) -> dict[str, float]:
    if variant == "inline":
        store = Store(path, synchronous="NORMAL")
        store.db.execute("PRAGMA synchronous=FULL")
    else:
        store = Store(path, synchronous="FULL")
    in_flush: list[float] = []
    original = store.flush

    def timed_flush(*, now: bool = False) -> None:
        started = time.perf_counter()
        original(now=now)
        in_flush.append(time.perf_counter() - started)

    store.flush = timed_flush  # type: ignore[method-assign]
    waits: list[float] = []
    cpu_started = time.process_time()
    started_run = time.perf_counter()
    for i in range(batches):
        began = time.perf_counter()
        store.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (f"k{i}", "x" * 200))
        for j in range(7):
            store.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (f"r{i % 500}-{j}", "y" * 120))
        await store.committed()
        waits.append(time.perf_counter() - began)
    run = time.perf_counter() - started_run
    cpu = time.process_time() - cpu_started  # all threads of the process, the fsync's included
    store.close()
    return {
        "flush_ms_p50": 1000 * _percentile(in_flush, 0.5),
        "flush_ms_p99": 1000 * _percentile(in_flush, 0.99),
        "flush_share": sum(in_flush) / run,
        "wait_ms_p50": 1000 * _percentile(waits, 0.5),
        "wait_ms_p99": 1000 * _percentile(waits, 0.99),
        "cpu_us_per_batch": 1e6 * cpu / batches,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--batches", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=None, help="folder for the databases (default: a temporary one)")
    args = parser.parse_args()
    results: dict[str, list[dict[str, float]]] = {"inline": [], "thread": []}
    with tempfile.TemporaryDirectory(dir=args.dir) as folder:
        for n in range(args.rounds):
            for variant in ("inline", "thread") if n % 2 == 0 else ("thread", "inline"):
                figures = asyncio.run(_round(Path(folder) / f"{variant}-{n}.db", variant, args.batches))
                results[variant].append(figures)
                print(json.dumps({"round": n, "variant": variant, **{k: round(v, 3) for k, v in figures.items()}}))
    summary = {
        f"{variant}_{key}": round(statistics.median(r[key] for r in rounds), 3)
        for variant, rounds in results.items() for key in rounds[0]
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
