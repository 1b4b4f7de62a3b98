"""A full ``fenliu server`` start, to listening, on a data folder after a busy day (issues 3 and 9).

    .venv/bin/python bench/restart.py --json                          # 100,000 and 1,000,000 buyers
    .venv/bin/python bench/restart.py --json --sizes 100000           # one size
    .venv/bin/python bench/restart.py --json --baseline e0f85b3       # the server of e0f85b3 before this tree's, each case
    .venv/bin/python bench/restart.py --json --timezone UTC           # after 16:00 UTC, when a folder cached today is
                                                                      # yesterday in its shop's timezone (Asia/Shanghai)

For each size, a data folder as a day of an 11.11 shop leaves it: 500 agents (accounts, online),
``N`` buyers, each arriving and routed (least saturated), writing twice, answered twice and
closed, a thousand of them still in a session at the end; so the database holds the buyers,
their conversations, 4 messages each, the routing decisions, receptions, waits, a rating for one
in ten, the agents' numbered console events (the shop's newest ``KEEP_ROWS``, as the server
keeps them, with each agent's last number as the last trim took it) and the
engine log, all timed over the last 8 hours so "today" and its KPIs are full. Two copies:

- ``clean``: as a clean stop leaves it: a routing snapshot of the last logged input;
- ``kill``: as a kill -9 leaves it with the longest log tail: the newest snapshot is
  ``SNAPSHOT_EVERY - 1`` inputs behind the log (the next periodic one never came).

Each case is timed from starting ``fenliu server --data COPY --port P`` (a fresh copy of the
folder, so every start does the same work) to the first TCP connection its port accepts; in the
same run, right after, an empty data folder (the 500 accounts only) is started the same way
(``empty_start_s``: what Python, the imports and opening a database cost). One JSON line per case::

    {"buyers": N, "after": "clean"|"kill", "start_s": x, "empty_start_s": x, "start_cpu_s": x, "empty_start_cpu_s": x}

(with ``--baseline``, ``"code": "baseline"|"this"`` after ``after``; ``*_cpu_s``: the server's CPU time, user + system, when its port first accepted: on a machine
shared with other work it moves much less than the wall time.)

Generating a folder: the engine through the real ``EngineDriver`` (so the engine log and the
snapshots are the real ones; their inputs are timed, not the wall clock), and the server's own
tables written in bulk with its schema (``Store``). Folders are cached under
``/tmp/fenliu-restart-cache``, keyed by the schema version, the engine's fingerprint, this
generator's version and the local date (today's KPIs must be today's), so a re-run only starts
servers. 100,000 buyers took 67 s to generate on a loaded machine, 1,000,000 took 726 s.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from push import cpu_seconds  # noqa: E402  (one way to read a child's CPU time)

from console.routing.events import Arrive, BuyerSay, Close, HolderReply, SetStatus, Status  # noqa: E402
from console.routing.policy import load_policy_toml  # noqa: E402
from console.server import driver as driver_module  # noqa: E402
from console.server.store import DB_NAME, SCHEMA_VERSION, Store  # noqa: E402

AGENTS = 500
OPEN_AT_END = 1000  # buyers still in a session when the day's log ends
SPAN_S = 8 * 3600.0  # the day's traffic: the 8 hours before generation
GENERATOR = 6  # bump when the folders this file builds change (2: SNAPSHOT_EVERY 10,000; 3: messages indexed;
# 4: no quiet-shop snapshots while generating, so the kill copy keeps its periodic one; 5: the agents'
# events as schema 7 keeps them, the newest KEEP_ROWS of the shop and each agent's last number;
# 6: SNAPSHOT_EVERY 25,000, so the kill copy's tail is 24,999 inputs)
CACHE = Path(tempfile.gettempdir()) / "fenliu-restart-cache"
PASSWORD = "restart-pw-1"


def policy_text() -> str:
    lines = ['preset = "douyin"', 'timezone = "Asia/Shanghai"', "seed = 5", 'disconnect_grace = "1h"', "",
             "[[groups]]", 'id = "all"', "cap = 10", ""]
    for i in range(AGENTS):
        lines += ["[[agents]]", f'id = "a{i:03d}"', f'name = "客服{i}"', 'groups = ["all"]', ""]
    return "\n".join(lines)


def cache_key(buyers: int) -> str:
    from console.routing.engine import Engine

    engine = Engine(load_policy_toml(policy_text()), start=0.0)
    fingerprint = driver_module.engine_fingerprint(engine)
    digest = hashlib.sha256(f"{fingerprint}|{policy_text()}".encode()).hexdigest()[:12]
    return f"schema{SCHEMA_VERSION}-gen{GENERATOR}-{digest}-{date.today().isoformat()}-{buyers}"


# -- generating a folder -----------------------------------------------------------------------------------


def _accounts(store: Store) -> None:
    from console.server import accounts as accounts_module
    from console.server.app import ensure_demo_accounts

    one_hash = accounts_module.hash_password(PASSWORD)  # one slow hash for all: set-up only
    slow = accounts_module.hash_password
    accounts_module.hash_password = lambda password: one_hash  # type: ignore[assignment]
    try:
        ensure_demo_accounts(store, load_policy_toml(policy_text()), PASSWORD)
    finally:
        accounts_module.hash_password = slow  # type: ignore[assignment]


def _engine_day(folder: Path, buyers: int, start: float) -> tuple[list[str], int, int]:
    """Drive the engine through the day; returns each buyer's agent, the log length and the seq
    of the periodic snapshot (``SNAPSHOT_EVERY - 1`` inputs before the end)."""
    text = policy_text()
    store = Store.open(folder, synchronous="OFF")
    _accounts(store)
    every = driver_module.SNAPSHOT_EVERY
    total = 1 + AGENTS + sum(1 + 2 * (i >= 300) + 2 * (i >= 600) + (i >= OPEN_AT_END) for i in range(buyers))
    snapshot_at = total - (every - 1)
    quiet = driver_module.SNAPSHOT_QUIET
    # this loop places the snapshots itself: none by count, and none of a quiet shop's (its clock
    # jumps the day through, so a minute has always passed: the last of those landed after the
    # periodic one and the kill copy, which keeps none past it, had no snapshot at all)
    driver_module.SNAPSHOT_EVERY = driver_module.SNAPSHOT_QUIET = 1 << 62
    try:
        clock = [start]
        driver = driver_module.EngineDriver(store, clock=lambda: clock[0])
        driver.restore(load_policy_toml(text), text)
        gap = SPAN_S / buyers

        def feed(event: object, at: float) -> list:  # type: ignore[type-arg]
            decisions = driver.apply(event, at)  # type: ignore[arg-type]
            if driver._last_seq == snapshot_at:  # noqa: SLF001
                driver.snapshot()  # the periodic one (written inline here)
            if driver._last_seq % 20_000 == 0:  # noqa: SLF001
                store.flush()
            return decisions

        for i in range(AGENTS):
            feed(SetStatus(agent=f"a{i:03d}", status=Status.ONLINE), start)
        agent_of: list[str] = []
        for i in range(buyers):
            t = start + i * gap
            for d in feed(Arrive(buyer=f"b{i:07d}", entry="product_detail", product="p1"), t):
                if d.event == "routed" and d.to.startswith("agent:"):
                    agent_of.append(d.to[6:])
            if len(agent_of) != i + 1:
                raise RuntimeError(f"buyer {i} was not routed to an agent")
            for back in (300, 600):
                if i >= back:
                    feed(BuyerSay(buyer=f"b{i - back:07d}", text="在吗"), t)
                    feed(HolderReply(buyer=f"b{i - back:07d}", text="在的"), t)
            if i >= OPEN_AT_END:
                feed(Close(buyer=f"b{i - OPEN_AT_END:07d}"), t)
        if driver._last_seq != total:  # noqa: SLF001
            raise RuntimeError(f"logged {driver._last_seq} inputs, expected {total}")  # noqa: SLF001
        store.flush()
        driver.snapshot()  # the clean stop's (removed again for the kill copy)
    finally:
        driver_module.SNAPSHOT_EVERY, driver_module.SNAPSHOT_QUIET = every, quiet
        store.close()
    return agent_of, total, snapshot_at


def _tables(folder: Path, agent_of: list[str], start: float) -> None:
    """The server's own rows for that day, in bulk (the engine log is already there)."""
    n = len(agent_of)
    gap = SPAN_S / n
    db = sqlite3.connect(folder / DB_NAME)
    db.execute("PRAGMA synchronous = OFF")
    message_id = 0
    events: list[tuple[str, int]] = []  # (agent, seq) in the order the server logged them
    per_agent_events: dict[str, int] = {}
    with db:
        db.executemany("INSERT INTO buyers (id, name, kind, created_at) VALUES (?, ?, 'consumer', ?)",
                       ((f"b{i:07d}", f"买家{i}", start + i * gap) for i in range(n)))
        conversations, messages, decisions, receptions, waits, ratings = [], [], [], [], [], []
        for i, agent in enumerate(agent_of):
            buyer, t = f"b{i:07d}", start + i * gap
            said, answered = t + 300 * gap, t + 600 * gap
            ids = []
            for at, author, text in ((said, "buyer", "在吗"), (said, "agent", "在的"),
                                     (answered, "buyer", "在吗"), (answered, "agent", "在的")):
                message_id += 1
                ids.append(message_id)
                messages.append((message_id, buyer, author, text, at, agent if author == "agent" else None,
                                 f"c{message_id}" if author == "agent" else None))
            still_open = i >= n - OPEN_AT_END
            conversations.append((buyer, f"agent:{agent}" if still_open else None, agent, "在的", answered,
                                  ids[2], ids[3]))
            decisions.append((buyer, "routed", f"agent:{agent}", "least_saturated", "R6.1", t))
            if not still_open:
                decisions.append((buyer, "closed", f"agent:{agent}", "agent_close", "R10.1", t + OPEN_AT_END * gap))
            receptions.append((agent, buyer, t))
            waits += [(agent, buyer, said, said + 5.0), (agent, buyer, answered, answered + 5.0)]
            if i % 10 == 0:
                ratings.append((buyer, agent, 5 if i % 20 else 2, t + OPEN_AT_END * gap))
            for _ in range(6):  # conversation, 4 messages, closed
                per_agent_events[agent] = per_agent_events.get(agent, 0) + 1
                events.append((agent, per_agent_events[agent]))
        db.executemany("INSERT INTO messages (id, conversation, author, text, at, agent, client_id) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?)", messages)
        del messages
        # the search index, as the server's commits leave it (each batch's messages indexed at its commit)
        db.execute("INSERT INTO messages_fts (rowid, text) SELECT id, text FROM messages")
        db.executemany("INSERT INTO conversations (buyer, holder, agent, last_text, last_at, last_buyer, last_human) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?)", conversations)
        db.executemany("INSERT INTO decisions (buyer, event, target, why, rule, at) VALUES (?, ?, ?, ?, ?, ?)",
                       decisions)
        db.executemany("INSERT INTO receptions (agent, buyer, at) VALUES (?, ?, ?)", receptions)
        db.executemany("INSERT INTO waits (agent, buyer, started, answered) VALUES (?, ?, ?, ?)", waits)
        db.executemany("INSERT INTO ratings (buyer, agent, score, at) VALUES (?, ?, ?, ?)", ratings)
        from console.server.hub import KEEP_ROWS, TRIM_EVERY

        # the newest KEEP_ROWS events as the server keeps them (ids in the order logged), and each
        # agent's last number as its last trim took it, TRIM_EVERY // 2 events before the end
        body = b'{"type":"status","seq":0,"status":"online","load":1,"cap":10}'
        first = max(0, len(events) - KEEP_ROWS)
        db.executemany("INSERT INTO agent_events (id, agent, seq, at, body) VALUES (?, ?, ?, 0, ?)",
                       ((i + 1, agent, seq, body) for i, (agent, seq) in enumerate(events) if i >= first))
        tops: dict[str, tuple[int, int]] = {}
        for i, (agent, seq) in enumerate(events[:len(events) - TRIM_EVERY // 2]):
            tops[agent] = (seq, i + 1)
        db.executemany("INSERT INTO agent_event_tops (agent, seq, id) VALUES (?, ?, ?)",
                       ((agent, seq, i) for agent, (seq, i) in tops.items()))
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


def generate(buyers: int, verbose: bool) -> Path:
    """The cached folder for ``buyers`` (``clean/`` and ``kill/`` data folders), built if missing."""
    base = CACHE / cache_key(buyers)
    if (base / "done").exists():
        return base
    shutil.rmtree(base, ignore_errors=True)
    work = base / "clean"
    work.mkdir(parents=True)
    started = time.perf_counter()
    import gc

    gc.disable()  # millions of long-lived objects and nothing to collect: the collector's passes only cost
    day_start = time.time() - SPAN_S - 120
    agent_of, total, snapshot_at = _engine_day(work, buyers, day_start)
    _tables(work, agent_of, day_start)
    kill = base / "kill"
    shutil.copytree(work, kill)
    for file in (kill / "snapshots").glob("engine-*.pickle"):
        if int(file.stem.split("-", 1)[1]) > snapshot_at:
            file.unlink()  # kill -9: the clean stop's snapshot was never written
    if not (kill / "snapshots" / f"engine-{snapshot_at:012d}.pickle").exists():
        raise RuntimeError(f"the kill copy lacks the periodic snapshot of input {snapshot_at}")
    (base / "policy.toml").write_text(policy_text(), encoding="utf-8")
    empty = Store.open(base / "empty")  # the accounts only: the policy's agents must exist
    try:
        _accounts(empty)
    finally:
        empty.close()
    (base / "done").write_text(json.dumps({"buyers": buyers, "logged_inputs": total, "snapshot_at": snapshot_at,
                                           "generate_s": round(time.perf_counter() - started, 1)}))
    if verbose:
        print(f"generated {buyers} buyers ({total} logged inputs) in {time.perf_counter() - started:.0f} s: {base}",
              file=sys.stderr, flush=True)
    return base


# -- timing a start ----------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def time_start(data: Path, policy: Path, log: Path, timeout: float = 300.0, tree: Path | None = None) -> tuple[float, float]:
    """``fenliu server`` on ``data``: seconds from spawning it to its port accepting a connection,
    and the CPU seconds it used by then (steadier than wall time on a shared machine). ``tree``:
    the ``console`` package of another revision (``--baseline``), run from its folder."""
    port = free_port()
    command = [sys.executable, "-m", "console"]  # from its folder: that checkout's code (peak.py start_server)
    with log.open("wb") as out:
        started = time.perf_counter()
        proc = subprocess.Popen([*command, "server", "--port", str(port), "--data", str(data), "--policy", str(policy)],
                                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=tree or ROOT)
    try:
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1.0):
                    return time.perf_counter() - started, cpu_seconds(proc.pid)
            except OSError:
                pass
            if proc.poll() is not None:
                raise RuntimeError(f"the server exited with {proc.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
            if time.perf_counter() - started > timeout:
                raise RuntimeError("the server did not listen in time")
            time.sleep(0.005)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(120)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")], default=[100_000, 1_000_000],
                        help="buyers per data folder, comma-separated (default 100000,1000000)")
    parser.add_argument("--verbose", action="store_true", help="progress on stderr")
    parser.add_argument("--baseline", metavar="REV",
                        help="also start the server of this git revision on each case, right before this tree's "
                             "(lines with \"code\": \"baseline\" / \"this\")")
    parser.add_argument("--timezone", metavar="ZONE",
                        help="start the servers with this shop timezone instead of the folder's (Asia/Shanghai): a "
                             "folder cached today whose day is over in Shanghai then still starts with a full today")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fenliu-restart-code-") as code_dir:
        trees: list[tuple[str | None, Path | None]] = [(None, None)]
        if args.baseline:
            archive = subprocess.run(["git", "archive", args.baseline, "console"], check=True, capture_output=True, cwd=ROOT)
            subprocess.run(["tar", "-x", "-C", code_dir], input=archive.stdout, check=True)
            trees = [("baseline", Path(code_dir)), ("this", None)]
        for buyers in args.sizes:
            base = generate(buyers, args.verbose or not args.json)
            policy = base / "policy.toml"
            if args.timezone:
                policy = Path(code_dir) / f"policy-{buyers}.toml"
                policy.write_text((base / "policy.toml").read_text(encoding="utf-8").replace(
                    'timezone = "Asia/Shanghai"', f'timezone = "{args.timezone}"'), encoding="utf-8")
            for after in ("clean", "kill"):
                for code, tree in trees:
                    row: dict[str, object] = {"buyers": buyers, "after": after, **({"code": code} if code else {}),
                                              **_case(base, after, policy, tree, args.timezone)}
                    print(json.dumps(row) if args.json else "  ".join(f"{k}={v}" for k, v in row.items()), flush=True)
    return 0


_REWRITE = """
import pickle, sys
from pathlib import Path
from console.server.driver import _write_snapshot
zone = sys.argv[2]
for file in Path(sys.argv[1]).glob("engine-*.pickle"):
    fingerprint, text, last, engine = pickle.loads(file.read_bytes())
    if zone:
        text = text.replace('timezone = "Asia/Shanghai"', f'timezone = "{zone}"')
    _write_snapshot(file, (fingerprint, text, last, engine))
"""


def _rewrite_snapshots(folder: Path, tree: Path | None, timezone: str | None) -> None:
    """The copy's routing snapshots as the code that will start on them writes them (the cached
    ones may come from older code; older code cannot read a newer form), in a process of that code;
    with ``timezone``, their policy gets that shop timezone, so the server builds its KPI book for
    that zone's day (it reads the policy of the snapshot: a ``--policy`` with another zone is applied
    only after, and does not rebuild the book)."""
    subprocess.run([sys.executable, "-c", _REWRITE, str(folder), timezone or ""], check=True, cwd=tree or ROOT)


def _case(base: Path, after: str, policy: Path, tree: Path | None, timezone: str | None) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="fenliu-restart-") as tmp:
        copy = Path(tmp) / "data"
        shutil.copytree(base / after, copy)
        _rewrite_snapshots(copy / "snapshots", tree, timezone)
        os.sync()
        start_s, start_cpu = time_start(copy, policy, Path(tmp) / "server.log", tree=tree)
        shutil.copytree(base / "empty", Path(tmp) / "empty")
        empty_s, empty_cpu = time_start(Path(tmp) / "empty", policy, Path(tmp) / "empty.log", tree=tree)
    return {"start_s": round(start_s, 3), "empty_start_s": round(empty_s, 3),
            "start_cpu_s": round(start_cpu, 2), "empty_start_cpu_s": round(empty_cpu, 2)}


if __name__ == "__main__":
    sys.exit(main())
