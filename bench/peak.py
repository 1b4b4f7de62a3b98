"""An 11.11 morning against the real server, rate raised step by step, beside a bare relay (issue 9).

    .venv/bin/python bench/peak.py --json                            # the recorded run
    .venv/bin/python bench/peak.py --json --queued 1000 --max-rate 1000   # a quick run (~2 minutes)

Three processes on loopback: the routing server (``fenliu server --port 0`` on a temporary data
folder, SQLite in WAL mode with ``synchronous=FULL``, as a shop runs it), a bare ``websockets``
relay (this file with ``--relay``: the same frames, no database, no routing engine, a FIFO queue
and nothing else) and this process, the load generator, which speaks the documented protocol
(PROTOCOL.md) over plain websockets to both. Where the machine allows it the server and the relay
are pinned to core 0 and the load generator to core 1 (``sched_setaffinity``); only one of the
two servers is measured at a time, the other idles.

Set-up, for each of the two (not timed): ``--agents`` (500) accounts created before the start
(one Argon2 hash shared, a token each); each console connects with ``resume`` and goes online;
the policy (preset douyin: least saturated, queue on in shop mode) has one group capped at
``--cap`` (4), so ``agents x cap`` buyers (2,000) are in a session with an agent and the
``--queued`` (5,000) buyers who arrive next are queued: every cap binds. Each SQLite server's
database first holds a shop some weeks in: ``--history`` (20,000) closed conversations of 10
messages, their waits and events (``shop_cpu.fill_history``, written by that side's own code), so
every index a message writes is full size; a PostgreSQL side starts without them.

Each step, at ``R`` answered buyer messages/s, is an open loop for ``--warmup`` + ``--step``
seconds: ``R`` buyer ``say`` frames per second, round robin over the buyers in a session; every
console answers each buyer message it receives with a ``reply`` at once; ``R / --close-every``
(10) closes per second, an agent closing its oldest session, which dequeues the longest-waiting
buyer to it; as many new buyers per second, each on a new connection (``hello``, ``arrive``),
who join the queue at its back. Measured, for what was sent inside the window:

- ``say_p99_ms``: buyer ``say`` written -> the owning console has decoded the ``message`` event
  (the relay: the forwarded ``say``) carrying that ``client_id``;
- ``arrive_p99_ms``: a new buyer's ``arrive`` written (on its own new connection, after
  ``hello``) -> the ``routed`` answer (queued or routed); a buyer that came in the window and
  could not connect, greet or arrive before the drain ended is missing; set-up is not timed;
- ``close_p99_ms``: ``close`` written -> the next buyer's ``routed`` push naming that agent;
- ``cpu_us_per_msg``: the server's CPU time (``/proc/PID/stat``, user + system) during the window
  divided by the protocol messages the clients sent in it (``say``, ``reply``, ``hello``,
  ``arrive``, ``close``): so an answered buyer message is two;
- ``answered_per_s``: replies written per second in the window;
- ``loadgen_gc_max_ms``: the load generator's longest garbage collection in the window (0: its
  collector is off during a step and runs between steps, so its pauses are in no side's p99);
- ``unmatched_dequeues``, ``idle_closes`` (since the start): dequeue pushes naming an agent with
  no close of ours pending (one that came after its step's accounting was cleared, or that follows
  an idle close), and sessions the server closed on its own (R9.2: a buyer not picked to write for
  ``session.close_after``, 10 minutes; the slot it frees takes the next queued buyer);
- ``stalls``, ``worst_hold_ms``: the holds of the server's loop past 50 ms and the longest, from
  its stall watch's lines (``console/server/stalls.py``) logged from the window's start to the
  drain's end (the watch writes at most a line a second and counts the others in the next line,
  so a few at a step's end are counted in the next step's); null for the relay.

Whatever never arrives counts as infinitely late in its p99 (and in ``missing``). A step passes
when its three p99 are at most 50 ms and at least 95 % of the offered messages were answered.
The steps interleave: server at R, relay at R, then the next R, each after both servers have
gone quiet (a side that fell behind works off its backlog first); a side stops climbing after
``--patience`` (1) failed steps in a row, and is then paused (SIGSTOP) so that what it still
has to work off does not take the CPU from the other's steps. The knee of a side is the highest R it passed (0: none). One JSON line per step,
then the last line, exactly::

    {"knee_server": N, "knee_relay": N, "ratio": x, "cpu_us_per_msg_server": x, "cpu_us_per_msg_relay": x}

``ratio`` is knee_server / knee_relay; the two CPU figures are each side's at the step of the
server's knee (its first step when the knee is 0), so they compare the same rate.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.connection import broadcast
from websockets.exceptions import ConnectionClosed

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from push import Child  # noqa: E402  (one way to run and measure a child process)

if os.environ.get("FENLIU_PEAK_CODE"):  # ``--seed`` for another checkout: its console package first
    sys.path.insert(0, os.environ["FENLIU_PEAK_CODE"])

PG_SHOP = "peak"  # --store: the PostgreSQL side's shop
BASE_SHOP = "peakbase"  # --pg-baseline: the same on another checkout's code

HOST = "127.0.0.1"
PASSWORD = "peak-pw-1"
TEXT = "双十一的优惠今天还能用吗？"
ANSWER = "可以的，今天下单都有优惠。"
GOAL_MS = 50.0
SERVER_CORE, CLIENT_CORE = 0, 1
DEFAULT_RATES = (50, 100, 200, 400, 600, 800, 1000, 1250, 1500, 2000, 2500, 3000, 4000, 5000, 6000)


def agent_id(i: int) -> str:
    return f"a{i:03d}"


# -- frames: only the fields the load generator and the relay look at ----------------------------------


class _Message(msgspec.Struct):
    conversation: str = ""
    author: str = ""
    client_id: str | None = None


class _Frame(msgspec.Struct):
    type: str = ""
    rid: str | None = None
    message: _Message | str | None = None  # a ``message`` event's Message (a string in ``error``)
    to: str | None = None  # ``routed``
    name: str | None = None
    client_id: str | None = None  # a ``say`` the relay forwards as it came
    conversation: Any = None  # ``reply`` and ``close``: the buyer (read by the relay); an object in events
    code: str | None = None
    why: str | None = None  # ``session_closed``


_decode = msgspec.json.Decoder(_Frame).decode


# -- the bare relay (a separate process) ---------------------------------------------------------------


def relay_main(agents: int, cap: int, ping_interval: float | None = None, acks: bool = False) -> None:
    """``--relay``: the baseline. Buyers ``/buyer?b=ID``, consoles ``/agent?n=I``. ``hello`` -> ok;
    ``arrive`` -> a free slot of some agent, else the back of one FIFO queue (``routed``);
    ``say`` -> written unchanged to the buyer's agent; ``reply`` -> unchanged to its buyer; ``close``
    -> ok, ``session_closed`` to the buyer, the queue's first buyer to that agent (``routed``).
    ``acks`` (``--relay-acks``): ``say`` and ``reply`` are answered ``ok`` too, as the server answers
    them once they are stored (a measure of what those acknowledgements cost, not the baseline)."""
    from websockets.asyncio.server import ServerConnection, serve

    consoles: dict[int, ServerConnection] = {}
    buyers: dict[str, ServerConnection] = {}
    holder: dict[str, int] = {}
    slots: deque[int] = deque(i for _ in range(cap) for i in range(agents))  # one entry per free slot
    queue: deque[str] = deque()

    def route(buyer: str, agent: int, rid: str | None) -> None:
        holder[buyer] = agent
        conn = buyers.get(buyer)
        if conn is not None:
            body = {"type": "routed", "to": "agent", "why": "least_saturated", "name": agent_id(agent)}
            if rid is not None:
                body["rid"] = rid
            broadcast([conn], json.dumps(body))

    async def handler(conn: ServerConnection) -> None:
        assert conn.request is not None
        path, _, query = conn.request.path.partition("?")
        key = query.split("=", 1)[1]
        if path == "/agent":
            n = int(key)
            consoles[n] = conn
            async for raw in conn:
                frame = _decode(raw)
                if frame.type == "reply" and isinstance(frame.conversation, str) and frame.conversation in buyers:
                    broadcast([buyers[frame.conversation]], raw)
                    if acks:
                        broadcast([conn], json.dumps({"type": "ok", "rid": frame.rid}))
                elif frame.type == "close" and isinstance(frame.conversation, str):
                    broadcast([conn], json.dumps({"type": "ok", "rid": frame.rid}))
                    buyer = frame.conversation
                    if holder.pop(buyer, None) is not None:
                        if buyer in buyers:
                            broadcast([buyers[buyer]], '{"type":"session_closed","why":"agent_close"}')
                        if queue:
                            route(queue.popleft(), n, None)
                        else:
                            slots.append(n)
                else:
                    broadcast([conn], json.dumps({"type": "ok", "rid": frame.rid}))
            return
        buyer = key
        buyers[buyer] = conn
        try:
            async for raw in conn:
                frame = _decode(raw)
                if frame.type == "say":
                    agent = holder.get(buyer)
                    if agent is not None and agent in consoles:
                        broadcast([consoles[agent]], raw)
                    if acks:
                        broadcast([conn], json.dumps({"type": "ok", "rid": frame.rid}))
                elif frame.type == "arrive":
                    if buyer in holder:
                        route(buyer, holder[buyer], frame.rid)
                    elif slots:
                        route(buyer, slots.popleft(), frame.rid)
                    else:
                        queue.append(buyer)
                        broadcast([conn], json.dumps({"type": "routed", "rid": frame.rid, "to": "queue",
                                                      "why": "queued", "position": len(queue)}))
                else:
                    broadcast([conn], json.dumps({"type": "ok", "rid": frame.rid}))
        finally:
            buyers.pop(buyer, None)

    async def main() -> None:
        async with serve(handler, HOST, 0, compression=None, max_size=256 * 1024, ping_interval=ping_interval) as server:
            print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
            loop = asyncio.get_running_loop()
            done = asyncio.Event()
            loop.add_reader(sys.stdin.fileno(), done.set)  # stdin closed: the bench is over
            loop.add_signal_handler(signal.SIGTERM, done.set)
            await done.wait()

    async def freeze() -> None:  # the connections are long-lived: no generation-2 passes over them
        while True:
            await asyncio.sleep(2.0)
            gc.freeze()

    async def serve_frozen() -> None:
        task = asyncio.create_task(freeze())
        await main()
        task.cancel()

    asyncio.run(serve_frozen())


# -- processes ---------------------------------------------------------------------------------------


def can_pin() -> bool:
    return hasattr(os, "sched_setaffinity") and len(os.sched_getaffinity(0)) >= 2 \
        and {SERVER_CORE, CLIENT_CORE} <= os.sched_getaffinity(0)


RELAY_PING = 20.0  # seconds: the server's keepalive (ServerConfig.ping_interval in console/server/app.py)


def _pinned(pin: bool) -> Any:
    return (lambda: os.sched_setaffinity(0, {SERVER_CORE})) if pin else None


def start_relay(agents: int, cap: int, pin: bool, pings: bool = False, acks: bool = False) -> Child:
    """The relay on a free port (its stderr, websockets' closing-handshake noise, is dropped).
    ``pings``: keepalive pings every ``RELAY_PING`` seconds to each connection, as the server sends."""
    proc = subprocess.Popen([sys.executable, __file__, "--relay", "--agents", str(agents), "--cap", str(cap),
                             *(["--relay-pings"] if pings else []), *(["--relay-acks"] if acks else [])],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            preexec_fn=_pinned(pin))
    assert proc.stdout is not None
    line = proc.stdout.readline().decode()
    match = re.match(r"PORT (\d+)", line)
    if match is None:
        proc.kill()
        raise RuntimeError(f"the relay did not start: {line!r}")
    return Child(proc, int(match.group(1)))


def write_policy(folder: Path, agents: int, cap: int) -> Path:
    lines = ['preset = "douyin"', 'timezone = "Asia/Shanghai"', "seed = 11", 'disconnect_grace = "1h"', "",
             "[queue]", 'mode = "shop"', 'avg_handle = "1m"', "",
             "[[groups]]", 'id = "all"', f"cap = {cap}", ""]
    for i in range(agents):
        lines += ["[[agents]]", f'id = "{agent_id(i)}"', f'name = "{agent_id(i)}"', 'groups = ["all"]',
                  f"cap = {cap}", ""]
    path = folder / "policy.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def seed_accounts(data: Path, policy_file: Path, store_url: str | None = None, shop: str = PG_SHOP,
                  root: Path | None = None, history: int = 0) -> list[str]:
    """The policy's accounts, created before the start, and a login token each (agent order).
    One Argon2 hash shared by all: set-up, not what is measured. ``root``: by that checkout's code
    (a baseline's), in a child process, so the folder has the schema its server expects.
    ``history``: that many closed conversations first (SQLite only)."""
    if root is not None and root.resolve() != ROOT:
        found = subprocess.run([sys.executable, __file__, "--seed", str(data), str(policy_file), store_url or "", shop,
                                "--history", str(history)],
                               env={**os.environ, "FENLIU_PEAK_CODE": str(root.resolve())},
                               capture_output=True, text=True, check=True)
        return list(json.loads(found.stdout))
    from console.routing.policy import load_policy_toml
    from console.server import accounts as accounts_module
    from console.server.app import ensure_demo_accounts
    from console.server.store import Store

    policy = load_policy_toml(policy_file.read_text(encoding="utf-8"))
    one_hash = accounts_module.hash_password(PASSWORD)
    slow = accounts_module.hash_password
    accounts_module.hash_password = lambda password: one_hash  # type: ignore[assignment]
    if store_url is None:
        store = Store.open(data)
    else:
        from console.server.pgstore import PgStore

        store = PgStore(store_url, shop=shop, own=False, local_dir=data)
    try:
        if history and store_url is None:
            from shop_cpu import fill_history  # the shop's past, as bench/shop_cpu.py writes it

            fill_history(store, history, len(policy.agents))
        ensure_demo_accounts(store, policy, PASSWORD)
        accounts = accounts_module.Accounts(store)
        tokens = [accounts.issue_token(spec.id, time.time())[0] for spec in policy.agents]
        store.flush()
    finally:
        accounts_module.hash_password = slow  # type: ignore[assignment]
        store.close()
    return tokens


def start_server(folder: Path, policy_file: Path, pin: bool, store_url: str | None = None, *,
                 root: Path = ROOT, shop: str = PG_SHOP, data: str = "data") -> Child:
    """``root``: the checkout whose code runs (``--baseline``, ``--pg-baseline``: another one,
    with its own .venv or this one's Python); ``data``: the data folder's name in ``folder``."""
    log_path = folder / (f"server-{data}.log" if store_url is None else f"server-pg-{shop}.log")
    # ``-m`` from ``root``: its code, even when its .venv is another checkout's (a symlink) whose
    # editable install would import that checkout's ``console`` through the ``fenliu`` script
    python = root / ".venv" / "bin" / "python"
    command = [str(python) if python.exists() else sys.executable, "-m", "console"]
    store = [] if store_url is None else ["--store", store_url, "--shop", shop]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [*command, "server", "--port", "0", "--data", str(folder / data), "--policy", str(policy_file), *store],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=root, preexec_fn=_pinned(pin))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        match = re.search(r"listening on ws://[^:]+:(\d+)", log_path.read_text(errors="replace"))
        if match:
            return Child(proc, int(match.group(1)), log_path)
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"the server did not start:\n{log_path.read_text(errors='replace')}")


# -- the load generator ------------------------------------------------------------------------------------


@dataclass
class Window:
    start: float = float("inf")
    end: float = float("inf")
    say_ms: list[float] = field(default_factory=list)
    arrive_ms: list[float] = field(default_factory=list)
    close_ms: list[float] = field(default_factory=list)
    requests: int = 0  # protocol messages the clients sent inside the window
    replies: int = 0
    queue_frames: int = 0  # ``queue`` position updates the queued buyers received

    def inside(self, t: float) -> bool:
        return self.start <= t <= self.end


class Side:
    """The consoles and buyers of one server (fenliu or the relay), and what is in flight."""

    def __init__(self, name: str, child: Child, agents: int, tokens: list[str] | None) -> None:
        self.name = name
        self.child = child
        self.url = f"ws://{HOST}:{child.port}"
        self.n_agents = agents
        self.tokens = tokens
        self.consoles: list[ClientConnection] = []
        self.buyers: dict[str, ClientConnection] = {}
        self.holder: dict[str, int] = {}  # buyer -> agent index, while in a session
        self.sessions: list[deque[str]] = [deque() for _ in range(agents)]  # oldest first
        self.active: list[str] = []  # buyers in a session, for round-robin says
        self.active_at: dict[str, int] = {}
        self.says: dict[str, float] = {}  # client_id -> written at
        self.closes: list[deque[float]] = [deque() for _ in range(agents)]  # close written at, per agent
        self.arrives: dict[str, float] = {}  # buyer -> arrive written at, until its answer
        self.came: dict[str, float] = {}  # new buyer -> when it came (which window it belongs to)
        self.window = Window()
        self.counter = 0
        self.errors: dict[str, int] = {}
        self.unmatched_dequeues = 0
        self.idle_closes = 0  # sessions the server closed on its own (R9.2), as their buyers were told
        self.tasks: set[asyncio.Task[Any]] = set()
        self.failed_at: int | None = None  # the step after which this side stopped climbing
        self.fails = 0  # failed steps in a row
        self.knee = 0
        self.lines: dict[int, dict[str, Any]] = {}

    # bookkeeping -----------------------------------------------------------------------------------

    def _activate(self, buyer: str, agent: int) -> None:
        self.holder[buyer] = agent
        self.sessions[agent].append(buyer)
        if buyer not in self.active_at:
            self.active_at[buyer] = len(self.active)
            self.active.append(buyer)

    def _deactivate(self, buyer: str) -> None:
        at = self.active_at.pop(buyer, None)
        if at is not None:
            last = self.active.pop()
            if last != buyer:
                self.active[at] = last
                self.active_at[last] = at

    def _error(self, frame: _Frame) -> None:
        key = frame.code or "?"
        self.errors[key] = self.errors.get(key, 0) + 1

    def _sent(self, now: float) -> None:
        if self.window.inside(now):
            self.window.requests += 1

    # receiving -------------------------------------------------------------------------------------

    async def read_console(self, index: int, conn: ClientConnection) -> None:
        try:
            async for raw in conn:
                frame = _decode(raw)
                client_id = None
                if frame.type == "message" and isinstance(frame.message, _Message):
                    if frame.message.author == "buyer":
                        client_id = frame.message.client_id
                elif frame.type == "say":  # the relay forwards the buyer's frame itself
                    client_id = frame.client_id
                elif frame.type == "error":
                    self._error(frame)
                if client_id:
                    now = time.perf_counter()
                    sent = self.says.pop(client_id, None)
                    if sent is None:
                        continue
                    if self.window.inside(sent):
                        self.window.say_ms.append((now - sent) * 1000)
                    buyer = client_id.split("|", 2)[1]
                    if buyer not in self.holder:  # closed meanwhile: nothing to answer
                        continue
                    self.counter += 1
                    broadcast([conn], f'{{"type":"reply","rid":"r{self.counter}","conversation":"{buyer}",'
                                      f'"text":"{ANSWER}","client_id":"r|{buyer}|{self.counter}"}}')
                    self._sent(now)
                    if self.window.inside(now):
                        self.window.replies += 1
        except ConnectionClosed:
            pass

    def _routed(self, buyer: str, frame: _Frame, now: float) -> None:
        if frame.rid is not None:  # the answer to this buyer's arrive
            sent = self.arrives.pop(buyer, None)
            came = self.came.pop(buyer, None)
            if sent is not None and came is not None and self.window.inside(came):
                self.window.arrive_ms.append((now - sent) * 1000)
        if frame.to == "agent" and frame.name is not None:
            agent = int(frame.name[1:])
            if frame.rid is None:  # pushed: dequeued by a close
                pending = self.closes[agent]
                if pending:
                    sent = pending.popleft()
                    if self.window.inside(sent):
                        self.window.close_ms.append((now - sent) * 1000)
                else:
                    self.unmatched_dequeues += 1
            if buyer in self.buyers:  # not a buyer already let go
                self._activate(buyer, agent)

    async def read_buyer(self, buyer: str, conn: ClientConnection) -> None:
        try:
            async for raw in conn:
                if raw[:16] == '{"type":"queue",':  # position updates: counted, not decoded
                    self.window.queue_frames += 1
                    continue
                frame = _decode(raw)
                if frame.type == "routed":
                    self._routed(buyer, frame, time.perf_counter())
                elif frame.type == "session_closed" and frame.why == "idle":
                    self.idle_closes += 1
                elif frame.type == "error":
                    self._error(frame)
        except ConnectionClosed:
            pass

    def spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    # set-up ---------------------------------------------------------------------------------------------

    async def _request(self, conn: ClientConnection, body: dict[str, Any], rid: str) -> _Frame:
        await conn.send(json.dumps(body, ensure_ascii=False))
        while True:
            frame = _decode(await asyncio.wait_for(conn.recv(), 120))
            if frame.type == "error" and frame.rid == rid:
                raise RuntimeError(f"{self.name}: {body['type']} refused: {frame}")
            if frame.rid == rid:
                return frame

    async def open_console(self, i: int) -> ClientConnection:
        if self.tokens is None:
            return await connect(f"{self.url}/agent?n={i}", max_size=None, compression=None, ping_interval=None)
        conn = await connect(f"{self.url}/agent", max_size=None, compression=None, ping_interval=None)
        await conn.send(json.dumps({"type": "resume", "rid": "l", "token": self.tokens[i]}))
        while _decode(await asyncio.wait_for(conn.recv(), 120)).type != "snapshot":
            pass
        await self._request(conn, {"type": "set_status", "rid": "s", "status": "online"}, "s")
        return conn

    async def open_buyer(self, buyer: str) -> ClientConnection:
        query = f"?b={buyer}" if self.tokens is None else ""
        conn = await connect(f"{self.url}/buyer{query}", max_size=None, compression=None, ping_interval=None)
        await self._request(conn, {"type": "hello", "rid": "h", "buyer": buyer, "name": f"买家{buyer}"}, "h")
        self.buyers[buyer] = conn
        return conn

    async def arrive(self, buyer: str, conn: ClientConnection) -> None:
        """``arrive`` on an open connection; the answer comes to ``read_buyer``."""
        now = time.perf_counter()
        self.arrives[buyer] = now
        self._sent(now)
        broadcast([conn], '{"type":"arrive","rid":"a","entry":"product_detail","product":"p1"}')

    async def new_buyer(self, buyer: str) -> None:
        """A buyer who was not there: a connection of its own, hello, arrive. It belongs to the
        window in which it came; one whose ``arrive`` a busy server never let it send is missing."""
        try:
            now = time.perf_counter()
            self.came[buyer] = now
            self._sent(now)
            conn = await self.open_buyer(buyer)
            self.spawn(self.read_buyer(buyer, conn))
            await self.arrive(buyer, conn)
        except (OSError, ConnectionClosed, RuntimeError, TimeoutError) as exc:
            self.errors[type(exc).__name__] = self.errors.get(type(exc).__name__, 0) + 1

    async def set_up(self, in_session: int, queued: int, note: Any) -> None:
        t = time.perf_counter()
        self.consoles = await bounded([self.open_console(i) for i in range(self.n_agents)], 16)
        for i, conn in enumerate(self.consoles):
            self.spawn(self.read_console(i, conn))
        note(f"{self.name}: {self.n_agents} consoles online in {time.perf_counter() - t:.1f} s")
        for label, first, count in (("in a session", 0, in_session), ("queued", in_session, queued)):
            t = time.perf_counter()

            async def one(k: int) -> None:
                buyer = f"b{k:05d}"
                conn = await self.open_buyer(buyer)
                self.spawn(self.read_buyer(buyer, conn))
                await self.arrive(buyer, conn)
                while buyer in self.arrives:
                    await asyncio.sleep(0.01)

            await bounded([one(k) for k in range(first, first + count)], 32)
            note(f"{self.name}: {count} buyers {label} in {time.perf_counter() - t:.1f} s "
                 f"({len(self.active)} in a session)")

    # sending -------------------------------------------------------------------------------------------

    def say(self, turn: int) -> None:
        if not self.active:
            return
        buyer = self.active[turn % len(self.active)]
        self.counter += 1
        client_id = f"s|{buyer}|{self.counter}"
        now = time.perf_counter()
        self.says[client_id] = now
        self._sent(now)
        broadcast([self.buyers[buyer]], f'{{"type":"say","rid":"s{self.counter}","text":"{TEXT}",'
                                        f'"client_id":"{client_id}"}}')

    def close(self, turn: int) -> None:
        for k in range(self.n_agents):
            agent = (turn + k) % self.n_agents
            if self.sessions[agent]:
                break
        else:
            return
        buyer = self.sessions[agent].popleft()
        self.holder.pop(buyer, None)
        self._deactivate(buyer)
        now = time.perf_counter()
        self.closes[agent].append(now)
        self._sent(now)
        self.counter += 1
        broadcast([self.consoles[agent]], f'{{"type":"close","rid":"c{self.counter}","conversation":"{buyer}"}}')
        conn = self.buyers.pop(buyer, None)  # the gateway lets a finished buyer go
        if conn is not None:
            self.spawn(_close_later(conn))

    async def close_all(self) -> None:
        """Drop every connection (no closing handshakes: the server may still be busy)."""
        for conn in [*self.consoles, *self.buyers.values()]:
            conn.transport.abort()
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


async def _close_later(conn: ClientConnection) -> None:
    await asyncio.sleep(1.0)  # after session_closed
    await conn.close()


async def bounded(coros: list[Any], limit: int) -> list[Any]:
    """At most ``limit`` at a time; the first failure cancels the rest (a TaskGroup: with gather
    the others would run on, orphaned, and hold up the loop's shutdown)."""
    semaphore = asyncio.Semaphore(limit)

    async def one(coro: Any) -> Any:
        async with semaphore:
            return await coro

    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(one(c)) for c in coros]
    return [task.result() for task in tasks]


def descriptors_needed(sides: int, agents: int, cap: int, queued: int) -> int:
    """The bench process holds a connection per console and per buyer of every side (buyers in a
    session, queued, and the new ones of a step), plus its own files."""
    return sides * (agents + agents * cap + queued) * 11 // 10 + 256


def raise_descriptor_limit(needed: int) -> None:
    """Raise this process's open-file limit to what the run needs (up to the hard limit), or say
    plainly that it cannot run: out of descriptors, set-up would fail halfway."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if needed <= soft:
        return
    if hard != resource.RLIM_INFINITY and needed > hard:
        try:  # a privileged process (root here) may raise its hard limit too
            resource.setrlimit(resource.RLIMIT_NOFILE, (needed, needed))
            return
        except (ValueError, OSError):
            pass
        raise SystemExit(f"peak.py: this run holds about {needed:,} connections in one process, over the open-file "
                         f"limit ({hard:,}), which this process may not raise; run fewer sides (--baseline, --store) or fewer --queued, or raise "
                         f"the hard limit (ulimit -Hn)")
    resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))


def p99(values: list[float], missing: int) -> float | None:
    """The 99th percentile, counting what never came as infinitely late (None: nothing sent)."""
    total = len(values) + missing
    if total == 0:
        return None
    rank = min(total - 1, int(0.99 * total))
    if rank >= len(values):
        return float("inf")
    return round(sorted(values)[rank], 2)


def own_cpu() -> float:
    t = os.times()
    return t.user + t.system


class _Collections:
    """This process's own garbage collections: the longest pass in a step's window (none since
    ``step`` turns the collector off; kept in each line to show it). The load generator is one
    process for every side, so a pause of its loop shows in each side's p99."""

    def __init__(self) -> None:
        self.longest = 0.0
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.longest = max(self.longest, time.perf_counter() - self._started)


COLLECTIONS = _Collections()


async def step(side: Side, rate: int, args: argparse.Namespace, first_buyer: int) -> tuple[dict[str, Any], int]:
    """One open-loop step at ``rate`` answered buyer messages/s; returns its line and the next new buyer.
    This process collects no garbage meanwhile (``gc.disable``; the caller collects between steps):
    its young passes took up to 35 ms in a step, a pause every side's p99 would count."""
    gc.disable()
    try:
        return await _step(side, rate, args, first_buyer)
    finally:
        gc.enable()


async def _step(side: Side, rate: int, args: argparse.Namespace, first_buyer: int) -> tuple[dict[str, Any], int]:
    t0 = time.perf_counter()
    side.window = w = Window(start=t0 + args.warmup, end=t0 + args.warmup + args.step)
    churn = rate / args.close_every
    says = closes = arrivals = 0
    marks: tuple[float, float] | None = None
    log_from = 0
    new_buyer = first_buyer
    while True:
        now = time.perf_counter()
        if marks is None and now >= w.start:
            marks = (side.child.cpu(), own_cpu())
            COLLECTIONS.longest = 0.0
            log_from = side.child.log.stat().st_size if side.child.log is not None else 0
        if now >= w.end:
            break
        elapsed = now - t0
        for _ in range(int(elapsed * rate) - says):
            side.say(says)
            says += 1
        for _ in range(int(elapsed * churn) - closes):
            side.close(closes * 7919)
            closes += 1
        for _ in range(int(elapsed * churn) - arrivals):
            side.spawn(side.new_buyer(f"n{new_buyer:06d}"))
            new_buyer += 1
            arrivals += 1
        await asyncio.sleep(0.002)
    assert marks is not None
    server_cpu, loadgen_cpu = side.child.cpu() - marks[0], own_cpu() - marks[1]
    loadgen_gc = COLLECTIONS.longest
    # drain: what was sent in the window may still arrive (late, but it counts)
    deadline = time.perf_counter() + args.drain
    while time.perf_counter() < deadline and (
            any(w.inside(t) for t in side.says.values()) or any(w.inside(t) for t in side.came.values())
            or any(w.inside(t) for d in side.closes for t in d)):
        await asyncio.sleep(0.05)
    stalls, worst_hold = (None, None) if side.child.log is None else stalls_logged(side.child.log.read_bytes()[log_from:].decode(errors="replace"))
    missing = {
        "say": sum(1 for t in side.says.values() if w.inside(t)),
        "arrive": sum(1 for t in side.came.values() if w.inside(t)),
        "close": sum(1 for d in side.closes for t in d if w.inside(t)),
    }
    # forget what is left over, so the next step starts clean
    side.says.clear()
    for d in side.closes:
        d.clear()
    line = {
        "rate": rate, "side": side.name,
        "say_p99_ms": p99(w.say_ms, missing["say"]),
        "arrive_p99_ms": p99(w.arrive_ms, missing["arrive"]),
        "close_p99_ms": p99(w.close_ms, missing["close"]),
        "answered_per_s": round(w.replies / args.step, 1),
        "cpu_us_per_msg": round(server_cpu / max(1, w.requests) * 1e6, 1),
        "server_cpu": round(server_cpu / args.step, 2),
        "loadgen_cpu": round(loadgen_cpu / args.step, 2),
        "loadgen_gc_max_ms": round(loadgen_gc * 1000, 1),
        "messages": w.requests, "queue_frames_per_s": round(w.queue_frames / args.step, 1),
        "samples": {"say": len(w.say_ms), "arrive": len(w.arrive_ms), "close": len(w.close_ms)},
        "missing": missing,
        "in_session": len(side.active),
        "errors": dict(side.errors), "unmatched_dequeues": side.unmatched_dequeues, "idle_closes": side.idle_closes,
        "stalls": stalls, "worst_hold_ms": worst_hold,
    }
    p99s = [line["say_p99_ms"], line["arrive_p99_ms"], line["close_p99_ms"]]
    line["passed"] = all(v is not None and v <= GOAL_MS for v in p99s) and w.replies >= 0.95 * rate * args.step
    return line, new_buyer


_HELD = re.compile(r"the event loop was held (\d+) ms")
_UNLOGGED = re.compile(r"(\d+) shorter-spaced stall\(s\) not logged since the last line(?: \(the longest (\d+) ms\))?")


def stalls_logged(text: str) -> tuple[int, int]:
    """The stall watch's lines in a server log's ``text`` (console/server/stalls.py): how many
    holds of the loop past 50 ms (the lines' own and those they say were not logged) and the
    longest, in ms (a line of a checkout before session 7 does not give its unlogged ones' longest)."""
    count = worst = 0
    for line in text.splitlines():
        held = _HELD.search(line)
        if held is None:
            continue
        count, worst = count + 1, max(worst, int(held.group(1)))
        unlogged = _UNLOGGED.search(line)
        if unlogged is not None:
            count += int(unlogged.group(1))
            worst = max(worst, int(unlogged.group(2) or 0))
    return count, worst


async def quiesce(children: list[Child], limit: float = 60.0) -> float:
    """Wait until no server is still working off the last step (each under 5 % of a core over
    half a second), so one side's backlog is not measured against the other. Returns the wait."""
    started = time.perf_counter()
    while time.perf_counter() - started < limit:
        before = [c.cpu() for c in children]
        await asyncio.sleep(0.5)
        if all(c.cpu() - b < 0.025 for c, b in zip(children, before, strict=True)):
            break
    return round(time.perf_counter() - started, 1)


def _json_safe(line: dict[str, Any]) -> dict[str, Any]:
    return {k: ("inf" if isinstance(v, float) and v == float("inf") else v) for k, v in line.items()}


async def bench(args: argparse.Namespace, folder: Path) -> list[dict[str, Any]]:
    def note(text: str) -> None:
        if not args.json or args.verbose:
            print(text, file=sys.stderr, flush=True)

    pin = can_pin() and not args.no_pin
    sides_count = 2 + (args.baseline is not None) + (args.store is not None) + (args.pg_baseline is not None)
    raise_descriptor_limit(descriptors_needed(sides_count, args.agents, args.cap, args.queued))
    policy_file = write_policy(folder, args.agents, args.cap)
    tokens = seed_accounts(folder / "data", policy_file, history=args.history)
    server = start_server(folder, policy_file, pin)
    sides = [Side("server", server, args.agents, tokens)]
    cluster = None
    try:  # a side that fails to start (a baseline's server refusing its folder) stops those started
        relay = start_relay(args.agents, args.cap, pin, args.relay_pings, args.relay_acks)
        sides.append(Side("relay", relay, args.agents, None))
        if args.baseline is not None:  # the same server on another checkout's code, interleaved
            base_tokens = seed_accounts(folder / "data-base", policy_file, root=Path(args.baseline), history=args.history)
            base_server = start_server(folder, policy_file, pin, root=Path(args.baseline), data="data-base")
            sides.insert(1, Side("server_base", base_server, args.agents, base_tokens))
        if args.store is not None:  # the same server on PostgreSQL, measured in the same run (issue 15)
            url = args.store
            if url == "local":
                sys.path.insert(0, str(ROOT))
                from tests import postgres

                cluster = postgres.start(fsync=True)
                url = cluster.url
            pg_tokens = seed_accounts(folder / "data-pg", policy_file, url)
            pg_server = start_server(folder, policy_file, pin, url)
            sides.insert(1, Side("server_pg", pg_server, args.agents, pg_tokens))
            if args.pg_baseline is not None:  # the same, with another checkout's code, on the same cluster
                base_tokens = seed_accounts(folder / "data-pg-base", policy_file, url, BASE_SHOP, root=Path(args.pg_baseline))
                base_server = start_server(folder, policy_file, pin, url, root=Path(args.pg_baseline), shop=BASE_SHOP)
                sides.insert(2, Side("server_pg_base", base_server, args.agents, base_tokens))
    except BaseException:
        for side in sides:
            side.child.stop()
        if cluster is not None:
            cluster.stop()
        raise
    if pin:
        os.sched_setaffinity(0, {CLIENT_CORE})
    note(f"server pid {server.proc.pid}, relay pid {relay.proc.pid}, pinned: {pin}")
    lines: list[dict[str, Any]] = []
    try:
        for side in sides:
            if args.only and side.name != args.only:
                side.failed_at = 0
                continue
            await side.set_up(args.agents * args.cap, args.queued, note)
        gc.callbacks.append(COLLECTIONS)
        new_buyer = 0
        rates = [r for r in args.rates if r <= args.max_rate]
        for rate in rates:
            for side in sides:
                if side.failed_at is not None:
                    continue
                settled = await quiesce([s.child for s in sides if s.failed_at is None])
                gc.collect()  # what the last steps left, outside any window: no pass in this one walks it
                gc.freeze()
                line, new_buyer = await step(side, rate, args, new_buyer)
                line["quiesce_s"] = settled
                side.lines[rate] = line
                lines.append(line)
                print(json.dumps(_json_safe(line), ensure_ascii=False), flush=True)
                if line["passed"]:
                    side.knee = rate
                    side.fails = 0
                else:
                    side.fails += 1
                    if side.fails >= args.patience:
                        side.failed_at = rate
                        side.child.proc.send_signal(signal.SIGSTOP)  # its backlog must not weigh on the other
            if all(s.failed_at is not None for s in sides):
                break
    finally:
        for side in sides:
            side.child.proc.send_signal(signal.SIGCONT)
        for side in sides:
            await side.close_all()
        for side in sides:
            side.child.stop()
        if cluster is not None:
            cluster.stop()
    server_side, relay_side = sides[0], sides[-1]
    at = server_side.knee or (rates[0] if rates else 0)
    cpu_server = server_side.lines.get(at, {}).get("cpu_us_per_msg")
    cpu_relay = relay_side.lines.get(at, {}).get("cpu_us_per_msg")
    summary = {
        "knee_server": server_side.knee, "knee_relay": relay_side.knee,
        "ratio": round(server_side.knee / relay_side.knee, 3) if relay_side.knee else None,
        "cpu_us_per_msg_server": cpu_server, "cpu_us_per_msg_relay": cpu_relay,
    }
    for pg_side in sides[1:-1]:  # --baseline, --store: the other servers; each CPU is its fenliu process's only
        summary[f"knee_{pg_side.name}"] = pg_side.knee
        summary[f"cpu_us_per_msg_{pg_side.name}"] = pg_side.lines.get(at, {}).get("cpu_us_per_msg")
    print(json.dumps(summary), flush=True)
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="JSON lines only on stdout (progress on stderr if --verbose)")
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--agents", type=int, default=500)
    parser.add_argument("--cap", type=int, default=4, help="each agent's cap (default 4)")
    parser.add_argument("--queued", type=int, default=5000, help="buyers queued at the start (default 5,000)")
    parser.add_argument("--rates", type=lambda s: [int(x) for x in s.split(",")], default=list(DEFAULT_RATES),
                        help="the steps, answered buyer messages/s")
    parser.add_argument("--max-rate", type=int, default=10**9, help="no step above this rate")
    parser.add_argument("--step", type=float, default=5.0, help="seconds measured per step (default 5)")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds before each window (default 1)")
    parser.add_argument("--drain", type=float, default=3.0, help="seconds to wait for late answers (default 3)")
    parser.add_argument("--patience", type=int, default=1,
                        help="failed steps in a row before a side stops climbing (default 1)")
    parser.add_argument("--history", type=int, default=20000,
                        help="closed conversations in each SQLite server's database before the start (default 20,000)")
    parser.add_argument("--close-every", type=float, default=10.0,
                        help="answered messages per close, and per new buyer (default 10)")
    parser.add_argument("--only", choices=("server", "server_base", "server_pg", "server_pg_base", "relay"), help="one side only (iterating; no ratio)")
    parser.add_argument("--store", metavar="URL",
                        help="also run the server on this PostgreSQL (postgresql://…), or 'local' for a throwaway "
                             "cluster (tests/postgres.py, fsync on), side by side with SQLite")
    parser.add_argument("--baseline", metavar="DIR",
                        help="also run another checkout's server (SQLite), interleaved: side server_base")
    parser.add_argument("--pg-baseline", metavar="DIR",
                        help="with --store: a fourth side, the PostgreSQL server run from another checkout (its "
                             ".venv), e.g. /work/main, stepped interleaved with this one's")
    parser.add_argument("--no-pin", action="store_true", help="do not pin processes to cores")
    parser.add_argument("--relay-pings", action="store_true",
                        help="the relay pings each connection every 20 s, as the server does (default: no keepalive)")
    parser.add_argument("--relay-acks", action="store_true",
                        help="the relay answers each say and reply with ok, as the server does once they are stored "
                             "(what the acknowledgements cost; the recorded baseline has none)")
    parser.add_argument("--logs", type=Path, metavar="DIR",
                        help="keep the servers' logs in DIR (stalls of their loops are logged: console/server/stalls.py)")
    parser.add_argument("--relay", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--seed", nargs=4, metavar=("DATA", "POLICY", "URL", "SHOP"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed:  # seed_accounts by another checkout's code (FENLIU_PEAK_CODE): the tokens as JSON
        data, policy, url, shop = args.seed
        print(json.dumps(seed_accounts(Path(data), Path(policy), url or None, shop, history=args.history)))
        return 0
    if args.relay:
        relay_main(args.agents, args.cap, RELAY_PING if args.relay_pings else None, args.relay_acks)
        return 0
    folder = Path(tempfile.mkdtemp(prefix="fenliu-peak-"))
    try:
        asyncio.run(bench(args, folder))
    finally:
        import shutil

        if args.logs is not None:
            args.logs.mkdir(parents=True, exist_ok=True)
            for log in folder.glob("server-*.log"):
                shutil.copy(log, args.logs / log.name)
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
