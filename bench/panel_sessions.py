"""The buyer panel's past sessions on a long conversation: one read against a read per session (issue 9).

    .venv/bin/python bench/panel_sessions.py --json                    # 500, 5,000 and 20,000 messages
    .venv/bin/python bench/panel_sessions.py --json --sizes 100000 --rounds 3

A buyer with ``MAX_PANEL_SESSIONS`` (20) receptions spread over its conversation, each closed
halfway to the next, and N messages, on a real ``Store`` in a temporary folder. Timed: what the
panel shows of its sessions (agent, start, end, messages in each), the way the server reads it
(``PanelFacts.sessions``: the message times once, the closes once, counted by bisection) and the
way it read it before session 11 (``tests.server.helpers.panel_sessions_by_statements``: a
``MIN`` and a ``COUNT`` per session, each over every message of the conversation, since the
messages' one index is keyed by conversation). The two are alternated round by round and must
agree. Every figure is loop time: the panel is built on the event loop when an agent opens it.
One JSON line per size::

    {"messages": N, "sessions": 20, "ms": x, "baseline_ms": x, "ratio": x}

(the median over ``--rounds`` of each).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from console.protocol.messages import MAX_PANEL_SESSIONS  # noqa: E402
from console.server.panel import PanelFacts  # noqa: E402
from console.server.store import Store  # noqa: E402
from tests.server.helpers import panel_sessions_by_statements  # noqa: E402


def fill(store: Store, messages: int, sessions: int) -> None:
    """One buyer, ``b``: ``sessions`` receptions evenly over ``messages`` messages, each closed halfway."""
    db = store.db
    span = messages / sessions
    db.execute("INSERT INTO buyers (id, name, kind, created_at) VALUES ('b', 'b', 'consumer', 0)")
    db.executemany("INSERT INTO messages (conversation, author, text, at, client_id) VALUES ('b', 'buyer', '在吗', ?, ?)",
                   [(float(i), f"c{i}") for i in range(messages)])
    db.executemany("INSERT INTO receptions (agent, buyer, at) VALUES ('a1', 'b', ?)",
                   [(k * span,) for k in range(sessions)])
    db.executemany("INSERT INTO decisions (buyer, event, target, why, rule, at) VALUES "
                   "('b', 'closed', 'agent:a1', 'agent_close', 'R9.2', ?)", [(k * span + span / 2,) for k in range(sessions)])
    db.commit()


def measure(messages: int, rounds: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="fenliu-panel-") as folder:
        store = Store.open(Path(folder), synchronous="OFF")
        try:
            fill(store, messages, MAX_PANEL_SESSIONS)
            facts = PanelFacts(store, lambda agent: agent)
            now: list[float] = []
            before: list[float] = []
            for _ in range(rounds):
                started = time.perf_counter()
                got = [(s.agent, s.started, s.ended, s.messages) for s in facts.sessions("b", open_with=None)]
                now.append(time.perf_counter() - started)
                started = time.perf_counter()
                expected = panel_sessions_by_statements(store, "b", None)
                before.append(time.perf_counter() - started)
                if got != expected:
                    raise SystemExit(f"the two reads disagree at {messages} messages:\n{got}\n{expected}")
        finally:
            store.close()
    ms, baseline_ms = statistics.median(now) * 1000, statistics.median(before) * 1000
    return {"messages": messages, "sessions": MAX_PANEL_SESSIONS, "ms": round(ms, 2),
            "baseline_ms": round(baseline_ms, 2), "ratio": round(ms / baseline_ms, 3)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")], default=[500, 5_000, 20_000],
                        help="messages in the conversation, comma-separated (default 500,5000,20000)")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    for messages in args.sizes:
        row = measure(messages, args.rounds)
        print(json.dumps(row) if args.json else "  ".join(f"{k}={v}" for k, v in row.items()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
