"""One answered buyer message's statements on PostgreSQL, this checkout's PgStore against another's
(issue 15): where the peak's time goes, without the websockets and the routing around it.

    .venv/bin/python bench/pg_request.py --json --baseline /work/main

A throwaway PostgreSQL 15 (tests/postgres.py, fsync on). Each side is a child process run with its
checkout's own Python and code, on a shop of its own; the sides alternate, ``--rounds`` times each.
A round is ``--requests`` requests, each what the server writes for a buyer message as traced by
bench/pgtrace at 50/s (docs/BENCHMARKS.md): ``SAVEPOINT``; the message (``ON CONFLICT DO NOTHING
RETURNING id``, its id read at once); the conversation row (an upsert); two agents' events; the
engine log entry (its seq read at once); ``RELEASE``; and every ``--batch`` requests a ``COMMIT``
(at 50/s the server commits about every request; at its peak, several a batch). No WAL flush is
waited for (``synchronous`` NORMAL): what is measured is the loop's time, which the flush thread
does not take. Figures: wall µs per request (the loop's time), and the child's own CPU µs per
request (psycopg's and ours; the rest of the wall time is waiting for the backend), the median
round of each; last line one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def child(url: str, shop: str, requests: int, batch: int, rounds: int, local: str) -> None:
    sys.path.insert(0, os.getcwd())
    from console.server.pgstore import PgStore

    store = PgStore(url, shop=shop, synchronous="NORMAL", local_dir=Path(local))
    store.execute("INSERT INTO buyers (id, name, kind, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                  ("b", "B", "consumer", 0.0))
    store.flush()
    n = os.getpid() * 100_000  # seqs and client ids unique across the rounds (a process each)
    for _ in range(rounds):
        started, cpu = time.perf_counter(), time.process_time()
        for i in range(requests):
            n += 1
            store.execute("SAVEPOINT request")
            found = store.execute(
                "INSERT INTO messages (conversation, author, text, at, agent, client_id, kind, body)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id",
                ("b", "buyer", f"你好 {n}", float(n), None, f"c{os.getpid()}-{n}", "text", None)).fetchall()
            assert found
            store.execute(
                "INSERT INTO conversations (buyer, holder, agent, last_text, last_at, last_buyer, last_bot, last_human,"
                " waiting_since, unread, cleared, arrive) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT(buyer) DO UPDATE SET last_text = excluded.last_text, last_at = excluded.last_at,"
                " last_buyer = excluded.last_buyer, unread = excluded.unread",
                ("b", "a1", "a1", f"你好 {n}", float(n), found[0][0], None, None, float(n), 1, 0, None))
            for agent in ("a1", "a2"):
                store.execute("INSERT INTO agent_events (agent, seq, at, body) VALUES (?, ?, 0, ?)",
                              (agent, n, b"x" * 200))
            seq = store.execute("INSERT INTO engine_log (at, kind, body) VALUES (?, ?, ?)",
                                (float(n), "event", '{"kind": "say"}')).lastrowid
            assert seq
            store.execute("RELEASE request")
            if (i + 1) % batch == 0:
                store.flush()
        store.flush()
        print(json.dumps({"us_per_request": (time.perf_counter() - started) / requests * 1e6,
                          "cpu_us_per_request": (time.process_time() - cpu) / requests * 1e6}), flush=True)
    store.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--baseline", metavar="DIR", required=True, help="the other checkout (with its .venv)")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--batch", type=int, default=1, help="requests per COMMIT (default 1)")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        url, shop, local, requests, batch = args.child
        child(url, shop, int(requests), int(batch), 1, local)
        return 0
    sys.path.insert(0, str(ROOT))
    import tempfile

    from tests import postgres

    cluster = postgres.start(fsync=True)
    figures: dict[str, list[float]] = {"this": [], "baseline": []}
    cpu: dict[str, list[float]] = {"this": [], "baseline": []}
    try:
        with tempfile.TemporaryDirectory() as local:
            for _ in range(args.rounds):
                for side, root in (("this", ROOT), ("baseline", Path(args.baseline))):
                    out = subprocess.run(
                        [str(root / ".venv" / "bin" / "python"), str(Path(__file__).resolve()), "--baseline", "-",
                         "--child", cluster.url, f"req_{side}", local, str(args.requests), str(args.batch)],
                        cwd=root, check=False, capture_output=True, text=True)
                    if out.returncode:
                        raise SystemExit(f"{side}: {out.stderr}")
                    figure = json.loads(out.stdout.splitlines()[-1])
                    figures[side].append(figure["us_per_request"])
                    cpu[side].append(figure["cpu_us_per_request"])
    finally:
        cluster.stop()
    this, base = statistics.median(figures["this"]), statistics.median(figures["baseline"])
    if not args.json:
        for side, values in figures.items():
            print(side, " ".join(f"{v:.0f}" for v in values), file=sys.stderr)
    print(json.dumps({"us_per_request": round(this, 1), "us_per_request_baseline": round(base, 1),
                      "speedup": round(base / this, 2),
                      "cpu_us_per_request": round(statistics.median(cpu["this"]), 1),
                      "cpu_us_per_request_baseline": round(statistics.median(cpu["baseline"]), 1), "batch": args.batch, "requests": args.requests,
                      "rounds": args.rounds, "load": round(os.getloadavg()[0], 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
