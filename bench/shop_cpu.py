"""CPU per answered buyer message through the shop alone (no sockets), against another checkout (issue 9).

    .venv/bin/python bench/shop_cpu.py --json --baseline /work/main          # 3 rounds, about 2 minutes
    .venv/bin/python bench/shop_cpu.py --json --python-only --rounds 5 --pairs 10000 --baseline /work/main

What a buyer message and its answer cost the server's own code: ``Shop.buyer_says`` then
``Shop.holder_says`` for the agent, each inside ``Shop.atomic()`` and followed by
``await Shop.committed()``, as the endpoints run them, on a real ``Store`` (SQLite WAL,
``synchronous=FULL``: the fsync thread included) in a temporary folder. The shop of
``bench/peak.py`` (``PeakShop``): 500 agents online, one group capped at 4, 2,000 buyers in a
session, ``--queued`` (1,000) waiting, ``--history`` closed conversations before; every
``--close-every`` (10) answered messages the agent closes that session, which dequeues the
longest-waiting buyer to it, and a new buyer arrives at the queue's back, as at the peak
(``--close-every 0``: messages alone, as before session 8). ``--concurrency`` (40) buyers at a
time, each writing and being answered in turn, so commits group as they do under load. Figure:
the process's CPU time (every thread) per answered message, its closes and arrivals included, the
websocket layer left out (``bench/peak.py`` measures the whole server).

``--python-only`` stubs SQLite out once the shop is set up (``StubSql``): the figure is then the
server's own Python per answered message alone (shop, engine, hub, the store's batching, the
loop), about a third of the whole, where a change of a few microseconds shows; WAL, pages and
events read 0. It runs messages alone (a stubbed read cannot find a new buyer).

The baseline is the same measurement on the code of another checkout (``--baseline DIR``: its
``console`` package imported in a child process of the same Python), the two alternated round by
round in one run, so both see the same machine. One JSON line per round and side, then::

    {"cpu_us_per_message": x, "baseline_cpu_us_per_message": x, "ratio": x,
     "loop_cpu_us_per_message": x, "baseline_loop_cpu_us_per_message": x, ...,
     "wal_frames_per_message": x, "baseline_wal_frames_per_message": x, ..., "load": x}

(Medians over the rounds, per answered message, i.e. per buyer message and its reply: CPU of
the process, of the loop's thread and of the fsync/checkpoint thread (``fenliu-wal-sync``, from
``/proc/self/task/ID/schedstat``); WAL frames (pages) the COMMITs wrote, and the pages the
thread's checkpoints wrote into the database (its ``wchar``: a page changed by several commits
since the last checkpoint is copied once; the last few frames, copied on the loop when the WAL
restarts, are not counted); answered messages per COMMIT; agent events and their bytes,
as stored in ``agent_events`` and framed to the consoles. Then the 1-minute load average.)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def fill_history(store: Any, buyers: int, agents: int) -> None:
    """A shop's past (``--history``): ``buyers`` closed conversations, each of 10 messages (5 asked,
    5 answered, client ids as consoles send them), its waits answered, and its agents' events, so
    the tables and indexes a message writes are the size of a shop some weeks in, where each
    insert into a random-keyed index dirties a page of its own. Written with plain SQL before the
    shop starts (the schema both sides share)."""
    import random

    rng = random.Random(9)
    db, t0 = store.db, 1.7e9
    seqs = [0] * agents
    db.execute("BEGIN")
    for n in range(buyers):
        # ids among the live buyers' (b00000-b01999), so theirs are spread over every index by buyer
        buyer, agent = f"b{rng.randrange(2000):05d}-{n}", rng.randrange(agents)
        at = t0 + n * 30.0
        db.execute("INSERT INTO buyers (id, name, kind, created_at) VALUES (?, ?, 'consumer', ?)", (buyer, f"老客{n}", at))
        messages, waits, events = [], [], []
        for k in range(5):
            messages.append((buyer, "buyer", "请问这件衣服有现货吗？尺码偏大还是偏小？", at + k * 60, None, f"{rng.getrandbits(64):016x}"))
            messages.append((buyer, "agent", "有现货的，尺码标准，按平时穿的选就好。", at + k * 60 + 20, f"a{agent:03d}",
                             f"{rng.getrandbits(64):016x}"))
            waits.append((f"a{agent:03d}", buyer, at + k * 60, at + k * 60 + 20))
            for _ in range(2):
                seqs[agent] += 1
                events.append((f"a{agent:03d}", seqs[agent], at, b"x" * 300))
        db.executemany("INSERT INTO messages (conversation, author, text, at, agent, client_id) VALUES (?, ?, ?, ?, ?, ?)",
                       messages)
        db.executemany("INSERT INTO waits (agent, buyer, started, answered) VALUES (?, ?, ?, ?)", waits)
        db.executemany("INSERT INTO agent_events (agent, seq, at, body) VALUES (?, ?, ?, ?)", events)
        db.execute("INSERT INTO conversations (buyer, holder, agent, last_text, last_at) VALUES (?, NULL, ?, ?, ?)",
                   (buyer, f"a{agent:03d}", messages[-1][2], messages[-1][3]))
    store._index_new_messages()
    db.execute("COMMIT")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


class StubSql:
    """``--python-only``: stands for the store's SQLite connection once the shop is set up, so
    that what is measured is the server's own Python per answered message (the shop, the engine,
    the hub, the store's batching and the loop), not SQLite's B-trees and WAL, whose cost is
    most of the figure and whose noise (round to round, on a shared machine) hides a change of
    a few microseconds of Python. Every statement is accepted and does nothing: an insert that
    returns an id gets a new one, a read gets a row of zeros."""

    def __init__(self, real: Any) -> None:
        import itertools

        self.real = real
        self.ids = itertools.count(1 << 40)

    def execute(self, sql: str, params: Any = ()) -> Any:
        new = next(self.ids) if sql.startswith("INSERT") else None
        return _StubCursor([_StubRow((new,))] if "RETURNING" in sql else [_StubRow((0, 0, 0))], new)

    def executemany(self, sql: str, rows: Any) -> Any:
        for _ in rows:
            pass
        return _StubCursor([], None)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


class _StubRow(tuple):  # type: ignore[type-arg]
    """A row read by position or, like ``sqlite3.Row``, by column name (every name reads 0)."""

    def __getitem__(self, key: Any) -> Any:
        return 0 if isinstance(key, str) else super().__getitem__(key)


class _StubCursor:
    def __init__(self, rows: list[tuple[Any, ...]], lastrowid: int | None) -> None:
        self.rows, self.lastrowid, self.rowcount = rows, lastrowid, 1

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self.rows

    def fetchone(self) -> tuple[Any, ...]:
        return self.rows[0]


class PeakShop:
    """The peak's shop (``bench/peak.py``'s policy: 500 agents online, one group capped at 4) on a
    real ``Store`` in a folder, run by the checkout on ``sys.path``: ``history`` closed
    conversations written first (``fill_history``), 2,000 buyers in a session (every cap binds),
    ``queued`` more waiting in the queue. ``turn`` is what the endpoints run for an answered
    message: ``Shop.buyer_says``, then ``Shop.holder_says`` for the agent, each in
    ``Shop.atomic()`` and committed; every ``close_every``-th turn the agent then closes that
    session (``Shop.agent_closes``, which dequeues the longest-waiting buyer to it, who takes the
    closed one's place among the buyers written to) and a new buyer greets and arrives
    (``Shop.buyer_arrives``), joining the queue's back, as at the peak."""

    def __init__(self, store: Any, shop: Any, close_every: int) -> None:
        self.store, self.shop, self.close_every = store, shop, close_every
        self.in_session: list[str] = []
        self.queued: deque[str] = deque()
        self._new = 0

    @classmethod
    async def open(cls, folder: Path, *, history: int = 0, queued: int = 0, close_every: int = 0) -> PeakShop:
        import peak  # the peak shop's policy, from the checkout measured (it puts its own root first)

        from console.routing.events import Status
        from console.routing.policy import load_policy_toml
        from console.server.bot import Bot
        from console.server.driver import EngineDriver
        from console.server.hub import Hub
        from console.server.shop import Shop
        from console.server.store import Store

        text = peak.write_policy(folder, 500, 4).read_text(encoding="utf-8")
        policy = load_policy_toml(text)
        store = Store.open(folder / "data", synchronous="FULL")
        if history:
            fill_history(store, history, 500)
        shop = Shop(store, Hub(store), EngineDriver(store), Bot.from_file())
        shop.start(policy, text)
        for spec in policy.agents:
            with shop.atomic():
                shop.set_status(spec.id, Status.ONLINE)
        self = cls(store, shop, close_every)
        for _ in range(2000 + queued):
            self._arrive()
        await shop.committed()
        return self

    def _arrive(self) -> None:
        from console.server.conversations import ArriveAttrs

        buyer, self._new = f"b{self._new:05d}", self._new + 1
        with self.shop.atomic():
            self.shop.greet(buyer, f"买家{buyer}")
            self.shop.buyer_arrives(buyer, ArriveAttrs(entry="product_detail", product="p1"))
        row = self.shop.rows.get(buyer)
        (self.in_session if row is not None and row.holder_agent is not None else self.queued).append(buyer)

    async def turn(self, i: int, k: int) -> None:
        """Answered message ``k``, of the ``i``-th of the buyers written to at once."""
        from console.reception.model import Author

        shop, slot = self.shop, (i * 37 + k) % len(self.in_session)
        buyer = self.in_session[slot]
        with shop.atomic():
            row = shop.rows.get(buyer)
            assert row is not None
            shop.buyer_says(row, "双十一的优惠今天还能用吗？", f"s|{buyer}|{k}")
        await shop.committed()
        with shop.atomic():
            row = shop.rows.get(buyer)
            assert row is not None
            agent = row.holder_agent
            if agent is None:  # closed by another buyer's turn meanwhile (rare): it waits again
                return
            shop.holder_says(row, Author.AGENT, "可以的，今天下单都有优惠。", agent=agent, client_id=f"r|{buyer}|{k}")
        await shop.committed()
        if self.close_every and k % self.close_every == self.close_every - 1:
            with shop.atomic():
                shop.agent_closes(agent, buyer, supervises=False)
            head = shop.rows.get(self.queued[0]) if self.queued else None
            if head is not None and head.holder_agent is not None:  # dequeued to the agent
                self.in_session[slot] = self.queued.popleft()
            self._arrive()
            await shop.committed()


def child(args: argparse.Namespace) -> dict[str, Any]:
    """Run in a process whose ``console`` is the checkout measured (the working directory)."""
    pairs, python_only = args.pairs, args.python_only
    close_every = 0 if python_only else args.close_every  # stubbed SQL cannot look a new buyer up
    here = Path.cwd()
    sys.path.insert(0, str(here))
    sys.path.insert(0, str(here / "bench"))

    async def run(folder: Path) -> dict[str, Any]:
        peak_shop = await PeakShop.open(folder, history=args.history, queued=args.queued, close_every=close_every)
        store = peak_shop.store
        turns = iter(range(pairs))

        async def buyer_side(i: int) -> None:
            for k in turns:
                await peak_shop.turn(i, k)

        first = store.all("SELECT IFNULL(MAX(rowid), 0) AS n FROM agent_events")[0]["n"]
        real_db = store.db
        if python_only:
            store.db = StubSql(real_db)
        wal = WalCount(store)
        syncer = sync_thread()
        sync_cpu, gen, copied = thread_cpu(syncer), store._gen, thread_written(syncer)
        wall, cpu, loop_cpu = time.perf_counter(), time.process_time(), time.thread_time()
        await asyncio.gather(*(buyer_side(i) for i in range(args.concurrency)))
        wall, cpu, loop_cpu = time.perf_counter() - wall, time.process_time() - cpu, time.thread_time() - loop_cpu
        sync_cpu = thread_cpu(syncer) - sync_cpu
        store.db = real_db
        commits, copied = store._gen - gen, (thread_written(syncer) - copied) / store.one("PRAGMA page_size")[0]
        wal.stop()
        # what the consoles were sent: each agent event is stored as the frame pushed (Hub.push)
        sent = store.all("SELECT COUNT(*) AS n, IFNULL(SUM(LENGTH(body)), 0) AS bytes FROM agent_events"
                         " WHERE rowid > ?", (first,))[0]
        store.close()
        import console

        return {"cpu_us_per_message": round(cpu / pairs * 1e6, 1), "wall_us_per_message": round(wall / pairs * 1e6, 1),
                "loop_cpu_us_per_message": round(loop_cpu / pairs * 1e6, 1),
                "sync_cpu_us_per_message": round(sync_cpu / pairs * 1e6, 1),
                "wal_frames_per_message": round(wal.frames / pairs, 2),
                "pages_copied_per_message": round(copied / pairs, 2),
                "messages_per_commit": round(pairs / commits, 1) if commits else None,
                "agent_events_per_message": round(sent["n"] / pairs, 2),
                "event_bytes_per_message": round(sent["bytes"] / pairs, 1),
                "code": str(Path(console.__file__).parents[1])}

    folder = Path(tempfile.mkdtemp(prefix="fenliu-shop-cpu-"))
    try:
        return asyncio.run(run(folder))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


class WalCount:
    """WAL frames (pages) the store's COMMITs write: ``mxFrame`` of the wal-index header (the
    ``-shm`` file, https://sqlite.org/walformat.html) read after each ``Store.flush``, on the loop,
    the only writer. A WAL restart (after a complete checkpoint) begins the next transaction at
    frame 0, so a count lower than the last one is that commit's own frames."""

    def __init__(self, store: Any) -> None:
        self.store = store
        # Read through one descriptor that stays open: closing any descriptor of the -shm file
        # drops this process's SQLite locks on it (``ShmFile`` in store.py; a baseline checkout
        # older than it has none, and gets a descriptor of its own, left to the process's exit).
        shm = getattr(store, "_shm", None)
        if shm is None:
            fd = os.open(str(store.path) + "-shm", os.O_RDONLY)
            self._pread: Callable[[int, int], bytes] = lambda size, offset: os.pread(fd, size, offset)
        else:
            self._pread = shm.read
        self.frames, self.last = 0, self.read()
        flush = store.flush

        def counted(**kwargs: Any) -> None:
            before = store._gen
            flush(**kwargs)
            if store._gen != before:
                now = self.read()
                self.frames += now - self.last if now >= self.last else now
                self.last = now

        store.flush = counted  # the instance's: what the loop's call_soon and _release call

    def read(self) -> int:
        return int.from_bytes(self._pread(4, 16), sys.byteorder)  # mxFrame

    def stop(self) -> None:
        del self.store.flush


def sync_thread() -> Any:
    import threading

    return next((t for t in threading.enumerate() if t.name == "fenliu-wal-sync"), None)


def thread_cpu(thread: Any) -> float:
    """CPU seconds of another thread of this process (Linux: its schedstat, in ns), 0 if unknown."""
    if thread is None or thread.native_id is None:
        return 0.0
    try:
        return int(Path(f"/proc/self/task/{thread.native_id}/schedstat").read_text().split()[0]) / 1e9
    except OSError:
        return 0.0


def thread_written(thread: Any) -> int:
    """Bytes another thread of this process has written (Linux: ``wchar`` of its /proc io), 0 if
    unknown. The sync thread writes only database pages, by its checkpoints (fsync writes none)."""
    if thread is None or thread.native_id is None:
        return 0
    try:
        text = Path(f"/proc/self/task/{thread.native_id}/io").read_text()
    except OSError:
        return 0
    return next((int(line.split()[1]) for line in text.splitlines() if line.startswith("wchar:")), 0)


def measure(root: Path, args: argparse.Namespace) -> dict[str, Any]:
    """One round on the code of ``root``: run by that checkout's own environment (its ``.venv``,
    whose editable install is that checkout), else by this Python with ``root`` first on the path."""
    python = root / ".venv" / "bin" / "python"
    command = [str(python) if python.exists() else sys.executable, str(Path(__file__).resolve()), "--child",
               "--pairs", str(args.pairs), "--concurrency", str(args.concurrency), "--history", str(args.history),
               "--queued", str(args.queued), "--close-every", str(args.close_every)]
    if args.python_only:
        command.append("--python-only")
    env = dict(os.environ, PYTHONPATH=str(root))
    out = subprocess.run(command, env=env, cwd=root, capture_output=True, text=True, check=True)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--baseline", type=Path, required=False, help="a checkout to compare with (its console package)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pairs", type=int, default=6000, help="answered messages per round (default 6,000)")
    parser.add_argument("--concurrency", type=int, default=40)
    parser.add_argument("--history", type=int, default=0,
                        help="past conversations in the shop before the run (10 messages each; default none)")
    parser.add_argument("--queued", type=int, default=1000, help="buyers waiting in the queue at the start (default 1,000)")
    parser.add_argument("--close-every", type=int, default=10,
                        help="a close that dequeues, and a new buyer who queues, every N answered messages "
                             "(default 10, as bench/peak.py; 0: messages alone)")
    parser.add_argument("--python-only", action="store_true",
                        help="SQLite stubbed out once the shop is set up: the server's own Python alone (StubSql)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args)))
        return 0
    sides = [("this", ROOT)] + ([("baseline", args.baseline.resolve())] if args.baseline else [])
    lines: dict[str, list[dict[str, Any]]] = {name: [] for name, _ in sides}
    for round_no in range(1, args.rounds + 1):
        for name, root in (sides if round_no % 2 else sides[::-1]):
            line = {"round": round_no, "side": name, **measure(root, args)}
            lines[name].append(line)
            print(json.dumps(line) if args.json else "  ".join(f"{k}={v}" for k, v in line.items()), flush=True)

    def median(name: str, key: str) -> float | None:
        values = [line[key] for line in lines.get(name, []) if line.get(key) is not None]
        return statistics.median(values) if values else None

    this, base = median("this", "cpu_us_per_message"), median("baseline", "cpu_us_per_message")
    summary: dict[str, Any] = {"cpu_us_per_message": this, "baseline_cpu_us_per_message": base,
                               "ratio": round(this / base, 3) if this and base else None}
    for key in ("loop_cpu_us_per_message", "sync_cpu_us_per_message", "wal_frames_per_message",
                "pages_copied_per_message", "messages_per_commit", "agent_events_per_message",
                "event_bytes_per_message"):
        summary[key], summary[f"baseline_{key}"] = median("this", key), median("baseline", key)
    summary["load"] = round(os.getloadavg()[0], 1)
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
